"""Run one step of the nightly run as a child process with a deadline, and log what it said."""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from csrnews.lifeline import PRCTL, die_with_parent

logger = logging.getLogger(__name__)

KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for a child past its deadline


@dataclass
class StepResult:
    """How one child process ended."""

    name: str
    argv: list[str]
    returncode: int | None  # None: killed at its deadline
    seconds: float
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 8) -> str:
        """The last lines the step wrote to stderr (or stdout), for an error message."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


def _kill_group(proc: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(KILL_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


_RUNNING: set[subprocess.Popen[str]] = set()  # children of steps still running


def kill_running_steps() -> None:
    """Stop every step child still running (the run was interrupted while steps ran in threads)."""
    for proc in list(_RUNNING):
        if proc.poll() is None:
            _kill_group(proc)


def run_step(
    name: str,
    argv: list[str],
    *,
    timeout: float | None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    shell: bool = False,
) -> StepResult:
    """Run argv (or a shell command line) to the end or its timeout; never raises on failure.

    The child runs in its own process group, which is killed whole at the deadline; on Linux it
    also dies with this process, so a nightly killed by SIGKILL leaves no crawl running on.
    """
    logger.info(
        "step %s: %s (timeout %s)", name, " ".join(argv), f"{timeout:.0f} s" if timeout else "none"
    )
    started = time.monotonic()
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    preexec = functools.partial(die_with_parent, os.getpid()) if PRCTL is not None else None
    proc = subprocess.Popen(
        argv[0] if shell else argv,
        shell=shell,
        cwd=cwd,
        env=full_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=preexec,
    )
    timed_out = False
    _RUNNING.add(proc)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        logger.error("step %s passed its deadline (%.0f s); stopping it", name, timeout or 0)
        _kill_group(proc)
        stdout, stderr = proc.communicate()
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        _RUNNING.discard(proc)
    result = StepResult(
        name,
        argv,
        None if timed_out else proc.returncode,
        time.monotonic() - started,
        stdout or "",
        stderr or "",
        timed_out,
    )
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        for line in text.splitlines():
            logger.info("%s %s: %s", name, stream, line)
    logger.info(
        "step %s ended: exit %s in %.1f s",
        name,
        "timeout" if timed_out else proc.returncode,
        result.seconds,
    )
    return result
