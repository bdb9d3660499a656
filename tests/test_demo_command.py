"""`csrnews demo` (what `make demo` runs): the whole job against the demo publisher, then serve."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ports import process_tree
from tests.test_desk_support import Client

pytestmark = pytest.mark.slow


def _wait_for(url: str, proc: subprocess.Popen[str], seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"csrnews demo exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _run_no_serve(work: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "csrnews", "demo", "--no-serve", "--workdir", str(work)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _also_reported(work: Path) -> dict[str, str]:
    found = {}
    for path in sorted((work / "content" / "news").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("Also_reported_by:"):
                found[path.name] = line
    return found


@dataclass
class CrawledDemo:
    """A workdir after one `csrnews demo --no-serve` on a fresh one: what it printed and merged."""

    workdir: Path
    first: str
    also_reported: dict[str, str]


@pytest.fixture(scope="module")
def crawled_demo(tmp_path_factory: pytest.TempPathFactory) -> CrawledDemo:
    work = tmp_path_factory.mktemp("crawled-demo") / "demo"
    first = _run_no_serve(work)
    return CrawledDemo(work, first, _also_reported(work))


@dataclass
class ServedDemo:
    """`csrnews demo` serving on PORT from WORKDIR (PORT chosen because TAKEN was busy), its log."""

    proc: subprocess.Popen[bytes]
    port: int
    taken: int
    workdir: Path
    log: Path

    @property
    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture(scope="module")
def served_demo(crawled_demo: CrawledDemo) -> Iterator[ServedDemo]:
    """One `csrnews demo` (crawl, build, serve) for the tests below, started on a taken port.

    It is the second run on the workdir of `crawled_demo` (a first `--no-serve` run on a fresh
    one): its crawl finds nothing new, its serve and desk are the first on that workdir.
    test_a_taken_port_is_said_at_once_and_sigterm_stops_everything stops it (it runs last).
    """
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        log = crawled_demo.workdir.parent / "served-demo.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "csrnews",
                    "demo",
                    "--port",
                    str(taken),
                    "--workdir",
                    crawled_demo.workdir.name,  # a relative workdir
                ],
                cwd=crawled_demo.workdir.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 30
            while "is not free" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            first = log.read_text().splitlines()[0]
            port = int(first.split("on port ")[1].split()[0])
            home = _wait_for(f"http://127.0.0.1:{port}/", proc, 240).decode("utf-8")
            assert "<html" in home.lower()
            yield ServedDemo(proc, port, taken, crawled_demo.workdir, log)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)


def test_demo_crawls_builds_and_serves_the_site_with_search(served_demo: ServedDemo) -> None:
    port = served_demo.port
    stories = list((served_demo.workdir / "content" / "news").rglob("*.md"))
    demo_stories = [
        p for p in (ROOT / "csrnews" / "demo" / "stories").rglob("*.md") if p.name != "README.md"
    ]
    assert len(stories) == len(demo_stories)  # every story once (the reprint merged)
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/api/search?q=amfori", timeout=10
    ) as response:
        answer = json.loads(response.read())
    assert answer["total"] > 0
    first = answer["hits"][0]["url"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{first}", timeout=10) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/top10/2018/", timeout=10) as response:
        assert response.status == 200


def test_the_demo_prints_the_desk_and_a_demo_only_user_that_can_log_in(
    served_demo: ServedDemo,
) -> None:
    """(Was tests/test_desk_demo.py, which ran a demo of its own.)"""
    port = served_demo.port
    pattern = re.compile(r"log in as (\S+) with password (\S+)")
    deadline = time.monotonic() + 60
    found = None
    while found is None and time.monotonic() < deadline:
        found = next((m for m in map(pattern.search, served_demo.lines) if m), None)
        time.sleep(0.1)
    text = "".join(served_demo.lines)
    assert found, text
    assert f"Editors' desk: http://127.0.0.1:{port}/desk/" in text
    assert "DEMO ONLY" in text and "csrnews desk user add" in text
    client = Client(f"http://127.0.0.1:{port}")
    answer = client.login(found.group(1), found.group(2))
    assert answer.status == 302 and answer.location == "/desk/"
    page = client.get("/desk/")
    assert page.status == 200 and "demo-editor" in page.text
    assert (served_demo.workdir / "desk" / "users.json").is_file()


def test_a_second_run_finds_nothing_new_and_reports_nothing_twice(
    crawled_demo: CrawledDemo, served_demo: ServedDemo
) -> None:
    first, before = crawled_demo.first, crawled_demo.also_reported
    assert ", 43 new," in first
    assert "deliberate dead link" in first and "2015-csr-forum-notice.html" in first
    assert len(before) == 1  # the demo's one reprint, merged into its original
    # the second run: the served demo, on the workdir of the first
    second = "".join(served_demo.lines)
    assert ", 0 new," in second and ", 0 merged," in second, second
    assert _also_reported(crawled_demo.workdir) == before
    publisher = [line for line in first.splitlines() if line.startswith("demo publisher:")]
    assert publisher and publisher[0] in second  # the same address both times


def _descendants(pid: int) -> set[int]:
    """Live descendants of PID."""
    return set(process_tree(pid, live_only=True)) - {pid}


def _alive(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return raw[raw.rindex(")") + 2 :].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc")
def test_a_taken_port_is_said_at_once_and_sigterm_stops_everything(
    served_demo: ServedDemo,
) -> None:
    """The served demo was started on a taken port; this test stops it, so it runs last."""
    proc, taken, log = served_demo.proc, served_demo.taken, served_demo.log
    text = log.read_text()
    first = text.splitlines()[0]
    # said before the publisher starts, with the port it will use instead
    assert f"port {taken} on 127.0.0.1 is not free" in first, text
    port = int(first.split("on port ")[1].split()[0])
    assert port == served_demo.port and port != taken and "--port" in first
    home = _wait_for(f"http://127.0.0.1:{port}/", proc, 240)
    assert b"<html" in home.lower()
    started = _descendants(proc.pid)
    assert len(started) >= 2  # `csrnews serve` and its gunicorn workers
    proc.send_signal(signal.SIGTERM)  # to the demo alone, as `kill PID` would
    assert proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if _alive(pid)]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert "Traceback" not in log.read_text()
