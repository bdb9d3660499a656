"""Tests marked solo run alone under pytest-xdist (`make test`): the lock of tests/conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import ROOT, _locked


def _waiting_on(path: Path, seconds: float = 10) -> None:
    """Until a process waits for a flock on PATH (a "->" line of /proc/locks for its inode)."""
    inode = f":{os.stat(path).st_ino} "
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        locks = Path("/proc/locks").read_text().splitlines()
        if any("->" in line and "FLOCK" in line and inode in line for line in locks):
            return
        time.sleep(0.01)
    raise AssertionError(f"nobody waits for {path.name}")


def test_a_solo_test_waits_for_the_running_ones_and_the_next_ones_wait_for_it(
    tmp_path: Path,
) -> None:
    events: list[str] = []
    first_may_end = threading.Event()

    def run(name: str, solo: bool, hold: threading.Event | None = None) -> threading.Thread:
        def body() -> None:
            with _locked(tmp_path, solo=solo):  # each its own open files: locks of their own
                events.append(f"{name} in")
                if hold is not None:
                    hold.wait(10)
                events.append(f"{name} out")

        thread = threading.Thread(target=body)
        thread.start()
        return thread

    first = run("first", solo=False, hold=first_may_end)
    while "first in" not in events:
        time.sleep(0.01)
    solo = run("solo", solo=True)
    _waiting_on(tmp_path / "tests.lock")  # the solo test, behind the running one
    late = run("late", solo=False)
    _waiting_on(tmp_path / "tests-gate.lock")  # the next one, behind the solo one
    assert events == ["first in"]
    first_may_end.set()
    for thread in (first, solo, late):
        thread.join(10)
    assert events == ["first in", "first out", "solo in", "solo out", "late in", "late out"]


INNER_TESTS = """
import time, pytest
from pathlib import Path

def _log(name, seconds):
    start = time.monotonic()
    time.sleep(seconds)
    with open(Path(__file__).parent / "times.txt", "a") as out:
        out.write(f"{name} {start} {time.monotonic()}\\n")
"""


def test_under_xdist_no_test_runs_beside_a_solo_one(tmp_path: Path) -> None:
    """Two workers, many short tests and two solo ones: no test's run overlaps a solo one's."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    solo: alone\n")
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_protocol\n")
    short = [f"\ndef test_short_{i}():\n    _log('short', 0.05)\n" for i in range(40)]
    solo = [f"\n@pytest.mark.solo\ndef test_solo_{i}():\n    _log('solo', 0.5)\n" for i in (1, 2)]
    # in the order collected: solo, 20 short, solo, 20 short (both workers busy at each)
    body = INNER_TESTS + "".join([solo[0], *short[:20], solo[1], *short[20:]])
    (tmp_path / "test_inner.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        env.pop(name, None)  # the inner run is a run of its own, not a worker of this one
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "-q",
            "--basetemp=bt",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "42 passed" in done.stdout, done.stdout
    runs = [line.split() for line in (tmp_path / "times.txt").read_text().splitlines()]
    solos = [(float(a), float(b)) for name, a, b in runs if name == "solo"]
    others = [(float(a), float(b)) for name, a, b in runs if name == "short"]
    assert len(solos) == 2 and len(others) == 40
    for start, end in solos:
        assert not [other for other in others if other[0] < end and start < other[1]], (start, end)
