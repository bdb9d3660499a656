"""Measure a subprocess (wall time, peak RSS, CPU), percentiles, and describe the machine."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = Path(__file__).resolve().parent / "rusage.py"
PACKAGES = ("pelican", "markdown", "whoosh-reloaded", "scrapy", "trafilatura", "waitress")


@dataclass
class RunResult:
    """One measured subprocess."""

    command: list[str]
    returncode: int
    wall_s: float
    peak_rss_mb: float  # the largest resident set of the process (and any it waited for)
    cpu_s: float  # user + system, of the command and every process it waited for
    output_tail: str = ""
    # the most memory the tree's processes held at one time: the peaks of those alive together
    peak_rss_sum_mb: float = 0.0
    processes: int = 0  # how many processes that tree had
    peak_rss_all_mb: float = 0.0  # the peaks of every process the tree ever had, added up
    # own CPU, largest peak (MB) and count of the tree's processes, by what each runs
    parts: dict[str, dict[str, float]] = field(default_factory=dict)
    unseen_cpu_s: float = 0.0  # CPU of the tree no reading of /proc saw (very short processes)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["wall_s"] = round(self.wall_s, 3)
        data["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        data["peak_rss_sum_mb"] = round(self.peak_rss_sum_mb, 1)
        data["peak_rss_all_mb"] = round(self.peak_rss_all_mb, 1)
        data["cpu_s"] = round(self.cpu_s, 2)
        return data


class BenchError(RuntimeError):
    """A measured command failed."""


def run_measured(
    command: list[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> RunResult:
    """Run a command to completion and measure it: wall time, peak RSS and CPU.

    The command runs under a small launcher (bench/rusage.py) that waits for it and for every
    process it started, however deep, even those whose parent did not wait for them: the CPU
    time is the whole tree's; the peak RSS is the command's own, not at least this harness's
    peak, as Linux would report for a direct child; and several measurements in one run do
    not mix (getrusage(RUSAGE_CHILDREN) only ever grows). The wall time is the command's own,
    from its start to its exit (processes it left running are waited for, not timed).
    """
    logger.debug("running %s", " ".join(command))
    merged_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="csrnews-rusage-") as scratch:
        usage_file = Path(scratch) / "usage.json"
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), str(usage_file), "--", *command],
            cwd=cwd,
            env=merged_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        timer = threading.Timer(timeout, proc.terminate) if timeout else None
        if timer is not None:
            timer.start()
        try:
            output, _ = proc.communicate()
        finally:
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - started
        try:
            usage = json.loads(usage_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # the launcher itself failed: no figures
            usage = {"peak_rss_kb": 0, "cpu_s": 0.0}
    result = RunResult(
        command=[str(part) for part in command],
        returncode=proc.returncode,
        wall_s=float(usage.get("wall_s", wall)),
        peak_rss_mb=usage["peak_rss_kb"] / 1024.0,
        cpu_s=usage["cpu_s"],
        output_tail="\n".join(output.strip().splitlines()[-5:]),
        peak_rss_sum_mb=usage.get("peak_rss_sum_kb", usage["peak_rss_kb"]) / 1024.0,
        processes=int(usage.get("processes", 1)),
        peak_rss_all_mb=usage.get("peak_rss_all_kb", usage["peak_rss_kb"]) / 1024.0,
        parts={
            label: {
                "cpu_s": float(part["cpu_s"]),
                "peak_rss_mb": round(part["peak_rss_kb"] / 1024.0, 1),
                "processes": int(part["processes"]),
            }
            for label, part in (usage.get("parts") or {}).items()
        },
        unseen_cpu_s=float(usage.get("unseen_cpu_s", 0.0)),
    )
    if check and result.returncode != 0:
        raise BenchError(f"{' '.join(command[:4])} … exited {result.returncode}:\n{output[-2000:]}")
    return result


def percentiles(samples: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles of samples in seconds, returned in milliseconds."""
    if not samples:
        return {f"p{p}_ms": 0.0 for p in points}
    ordered = sorted(samples)
    out = {}
    for p in points:
        rank = max(1, -(-p * len(ordered) // 100))  # ceil(p/100 * n)
        out[f"p{p}_ms"] = round(ordered[rank - 1] * 1000.0, 2)
    out["mean_ms"] = round(sum(ordered) / len(ordered) * 1000.0, 2)
    out["max_ms"] = round(ordered[-1] * 1000.0, 2)
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024.0, 0)
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def describe_machine() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, memory, OS, Python, package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "hostname": platform.node(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "memory_mb": _memory_mb(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "packages": versions,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }
