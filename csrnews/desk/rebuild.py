"""“Rebuild now”: the same incremental build as the nightly, one at a time, under its lock.

With a live nightly release (``ROOT/current``) the desk runs ``csrnews nightly --no-crawl``:
the nightly's own build, index, status page, atomic publish and publish hook, minus the crawl;
the nightly takes its lock itself. Without one it runs ``csrnews build`` into the served site
and index while holding the nightly's lock. Progress and the result go to a status file in the
desk folder, which every worker process reads.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from csrnews.desk.config import DeskConfig
from csrnews.nightly import EXIT_LOCKED
from csrnews.nightly.lock import LockedError, RunLock
from csrnews.nightly.release import SITE, Releases
from csrnews.nightly.status import iso, write_json_atomic

logger = logging.getLogger(__name__)

MAX_LINES = 200
MANIFEST = ".csrnews-manifest.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Rebuilder:
    """Starts a rebuild in the background and reports on it."""

    def __init__(self, config: DeskConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # Where things are.
    def mode(self) -> str:
        """ "release" (publish a nightly release) or "build" (build into the served folders)."""
        return "release" if Releases(self.config.root).current() is not None else "build"

    def live_site(self) -> Path:
        if self.mode() == "release":
            current = Releases(self.config.root).current()
            assert current is not None
            return current / SITE
        return self.config.output

    def built_at(self) -> float | None:
        """When the live site was built (its manifest's time), or None before the first build."""
        site = self.live_site()
        for name in (MANIFEST, "index.html"):
            try:
                return (site / name).stat().st_mtime
            except OSError:
                continue
        return None

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "csrnews"]
        c = self.config
        if self.mode() == "release":
            return [
                *base,
                "nightly",
                "--no-crawl",
                "--root",
                str(c.root),
                "--content",
                str(c.content),
                "-v",
            ]
        return [
            *base,
            "build",
            "--content",
            str(c.content),
            "--output",
            str(c.output),
            "--index",
            str(c.index),
        ]

    # Status.
    def status(self) -> dict[str, Any]:
        """The last rebuild's state: idle, running, ok, failed, locked or interrupted."""
        try:
            data = json.loads(self.config.rebuild_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"state": "idle", "lines": []}
        if not isinstance(data, dict):
            return {"state": "idle", "lines": []}
        if data.get("state") == "running":
            pid, host = data.get("pid"), data.get("host")
            if isinstance(pid, int) and host == socket.gethostname() and not _alive(pid):
                data["state"] = "interrupted"
                data["summary"] = "The desk process running this rebuild stopped before it ended."
        return data

    def running(self) -> bool:
        return self.status().get("state") == "running"

    def _write(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.config.rebuild_file, data)

    # Starting.
    def _own(self) -> int | None:
        """The desk's rebuild lock (one rebuild across all worker processes), or None."""
        fd = os.open(self.config.rebuild_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def _disown(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def start(self, user: str) -> tuple[bool, str]:
        """Start a rebuild; (False, why) when one is running or the nightly holds the lock."""
        with self._lock:
            own = self._own()
            if own is None:
                return False, "A rebuild is already running; its progress is below."
            mode = self.mode()
            lock = RunLock(self.config.root / "lock")
            try:
                lock.acquire()
            except LockedError as exc:
                self._disown(own)
                return False, f"The nightly run is working ({exc}). Try again when it has finished."
            if mode == "release":
                lock.release()  # `csrnews nightly` takes it itself
            argv = self.command()
            status: dict[str, Any] = {
                "state": "running",
                "mode": mode,
                "user": user,
                "started_at": iso(time.time()),
                "started": time.time(),
                "finished_at": None,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "command": argv,
                "lines": [],
                "summary": "",
                "exit_code": None,
            }
            self._write(status)
            thread = threading.Thread(
                target=self._run,
                args=(argv, status, lock if mode == "build" else None, own),
                name="desk-rebuild",
                daemon=True,
            )
            self._thread = thread
            thread.start()
        return True, "Rebuild started."

    def _run(self, argv: list[str], status: dict[str, Any], lock: RunLock | None, own: int) -> None:
        lines: list[str] = status["lines"]
        code: int | None = None
        try:
            with subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            ) as proc:
                assert proc.stdout is not None
                last_write = 0.0
                for line in proc.stdout:
                    lines.append(_short(line.rstrip("\n")))
                    del lines[:-MAX_LINES]
                    if time.monotonic() - last_write > 0.3:
                        self._write(status)
                        last_write = time.monotonic()
                code = proc.wait()
        except OSError as exc:
            lines.append(f"could not start the rebuild: {exc}")
        finally:
            if lock is not None:
                lock.release()
        try:
            self._finish(status, code)
        finally:
            self._disown(own)

    def _finish(self, status: dict[str, Any], code: int | None) -> None:
        lines: list[str] = status["lines"]
        status["exit_code"] = code
        status["finished_at"] = iso(time.time())
        status["seconds"] = round(time.time() - status["started"], 1)
        if code == 0:
            status["state"] = "ok"
            status["summary"] = _last_summary(lines) or "The site was rebuilt."
        elif code == EXIT_LOCKED:
            status["state"] = "locked"
            status["summary"] = (
                "The nightly run started first; nothing was rebuilt. Try again later."
            )
        elif code == 3 and status.get("mode") == "release":
            status["state"] = "ok"
            status["summary"] = _last_summary(lines) or "Published."
        else:
            status["state"] = "failed"
            status["summary"] = (
                f"The rebuild failed (exit {code}); the live site was left as it was. "
                + (_last_error(lines) or "")
            ).strip()
        self._write(status)
        logger.info("desk rebuild by %s ended: %s", status.get("user"), status["state"])

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a rebuild this process started (tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def _short(line: str, limit: int = 400) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _last_summary(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.startswith(("Built ", "csrnews nightly ")):
            return line
    return ""


def _last_error(lines: list[str]) -> str:
    for line in reversed(lines):
        if "error" in line.lower():
            return line
    return lines[-1] if lines else ""
