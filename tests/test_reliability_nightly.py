"""Reliability of the unattended run: a malformed story, and SIGKILL at random moments.

The real `csrnews nightly` and `csrnews crawl` (subprocesses, the real build) against the
bundled demo publisher. Two kills of each kind run in every test run, at random moments
of the phases that write (one in each half of the crawl's writing; one in the nightly's crawl,
one in its index and build); CSRNEWS_RELIABILITY_KILLS=N runs N kills of each kind, spread over
the same phases in turn (CSRNEWS_RELIABILITY_SEED fixes the moments). Whatever moment a kill
hits, nothing is lost: every story file stays whole, the live release stays servable, and
the next run repairs what the killed one left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from csrnews.nightly import EXIT_OK, EXIT_PARTIAL
from csrnews.story.storycheck import find_quarantine
from csrnews.story.storyfile import is_edited, iter_story_files, read_story
from tests.conftest import ROOT, DemoSite, run_cli
from tests.test_nightly_acceptance import get, nightly, nightly_args, outcome, serving
from tests.test_nightly_run import from_the_demo_crawl, index_count, latest_report, write_sources

pytestmark = pytest.mark.slow

KILLS = int(os.environ.get("CSRNEWS_RELIABILITY_KILLS", "0") or 0)
SEED = int(os.environ.get("CSRNEWS_RELIABILITY_SEED", "0") or 0) or int(time.time())


@dataclass
class DemoProcess:
    """The demo publisher in a process of its own (`python -m csrnews.demo.server`).

    A crawler killed mid-request leaves the server a half-open connection; in a process of
    its own that is the server's business, not this test process's.
    """

    url: str
    stories: list[Any]


@pytest.fixture()
def demo_process() -> Iterator[DemoProcess]:
    from csrnews.demo.stories import load_stories

    proc = subprocess.Popen(
        [sys.executable, "-m", "csrnews.demo.server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield DemoProcess(url, load_stories())
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_nightly_with_one_malformed_story_publishes_the_others_and_names_it(
    demo_server: Any, demo_site: DemoSite, tmp_path: Path
) -> None:
    from_the_demo_crawl(demo_site, tmp_path)
    sources = write_sources(demo_server, tmp_path)
    root, content = tmp_path / "site", tmp_path / "content"
    junk = content / "news" / "2018" / "random-bytes.md"
    junk.parent.mkdir(parents=True, exist_ok=True)
    junk.write_bytes(random.Random(17).randbytes(4096))  # the 4 KB of random bytes

    first = nightly(tmp_path, sources)
    assert first.returncode == EXIT_PARTIAL, outcome(first)
    assert "published release" in first.stdout
    assert "story file news/2018/random-bytes.md left out: not UTF-8" in first.stdout
    report = latest_report(root)
    assert report["published"] and report["outcome"] == "partial"
    assert [q["path"] for q in report["quarantined"]] == ["news/2018/random-bytes.md"]
    others = len(list(iter_story_files(content))) - 1
    assert report["stories_total"] == others >= 40
    assert index_count(root / "current" / "index") == others
    status = json.loads((root / "current/site/status/status.json").read_text(encoding="utf-8"))
    assert status["outcome"] == "partial"
    assert status["quarantined"][0]["path"] == "news/2018/random-bytes.md"
    with serving(root) as url:
        code, page = get(url + "/status/")
        assert code == 200 and "news/2018/random-bytes.md" in page and "not UTF-8" in page
        assert "1 story file left out" in page
        code, body = get(url + "/api/search?q=supply")
        assert code == 200 and json.loads(body)["total"] > 0
        story = next(p for p in iter_story_files(content) if p != junk)
        meta = read_story(story)
        assert get(f"{url}/news/{meta.get('Date')[:4]}/{meta.slug}/")[0] == 200

    junk.unlink()  # the editor removes it: the next night is all good again
    second = nightly(tmp_path, sources)
    assert second.returncode == EXIT_OK, outcome(second)
    status = json.loads((root / "current/site/status/status.json").read_text(encoding="utf-8"))
    assert status["quarantined"] == [] and status["outcome"] == "ok"


def _crawl_argv(tmp_path: Path, sources: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "csrnews",
        "crawl",
        "--sources",
        str(sources),
        "--content",
        str(tmp_path / "content"),
        "--state",
        str(tmp_path / "var"),
        "--delay",
        "0",
        "-q",
    ]


def _story_files_are_whole(content: Path) -> int:
    """Every story file parses, passes the checks and matches its fingerprint; how many."""
    files = list(iter_story_files(content))
    assert find_quarantine(content) == []
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not is_edited(text), f"{path} is torn (its fingerprint does not match)"
    return len(files)


def _slices(start: float, end: float, count: int) -> list[tuple[float, float]]:
    """[start, end] cut in COUNT equal windows."""
    step = (end - start) / count
    return [(start + i * step, start + (i + 1) * step) for i in range(count)]


def _kill_at(argv: list[str], moment: float) -> bool:
    """Run argv, SIGKILL it MOMENT seconds in; False when it had finished by then."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=moment)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def test_sigkill_of_the_crawl_at_random_moments_loses_nothing(
    demo_process: DemoProcess, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    sources = write_sources(demo_process, tmp_path)
    # How long a whole first crawl takes here, and when it starts writing (its state database,
    # then story files): the kills land in that writing, one in each half of it.
    timing = tmp_path / "timing"
    started = time.monotonic()
    proc = subprocess.Popen(
        _crawl_argv(timing, sources), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    writes = None
    while proc.poll() is None:
        if writes is None and (timing / "var").exists():
            writes = time.monotonic() - started
        time.sleep(0.01)
    length = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr.read()[-2000:] if proc.stderr else ""
    if proc.stderr is not None:
        proc.stderr.close()
    halves = _slices(writes or 0.2, length, 2)
    content = tmp_path / "content"
    moments, killed = [], 0
    for n in range(KILLS or 2):
        last = n == (KILLS or 2) - 1 and not killed  # (a kill must be tested)
        moment = length * 0.3 if last else rng.uniform(*halves[n % len(halves)])
        moments.append(round(moment, 2))
        killed += _kill_at(_crawl_argv(tmp_path, sources), moment)
        _story_files_are_whole(content)
    assert killed, f"every crawl ended before its kill (seed {SEED}, at {moments})"
    done = run_cli(*_crawl_argv(tmp_path, sources)[3:], timeout=300)
    assert done.returncode == 0, f"seed {SEED}, kills at {moments}: {done.stderr[-2000:]}"
    served = [s for s in demo_process.stories if "robots_disallowed" not in s.flags]
    assert _story_files_are_whole(content) == len(served), f"seed {SEED}, kills at {moments}"
    assert not [p for p in content.rglob("*") if p.name.startswith(".")]
    urls = [read_story(p).get("Source_url") for p in iter_story_files(content)]
    assert len(urls) == len(set(urls)), f"a story written twice (seed {SEED})"


def _live_release_is_consistent(root: Path) -> None:
    """`current` (when there is one) is a whole release: its site, its index, its report."""
    current = root / "current"
    if not current.exists():
        return
    target = Path(os.readlink(current))
    assert target.parent.name == "releases" and not target.name.startswith(".")
    assert (current / "site" / "index.html").is_file()
    report = json.loads((root / "reports" / f"{target.name}.json").read_text(encoding="utf-8"))
    assert index_count(current / "index") == report["stories_total"]


def _no_child_left(root: Path) -> None:
    """No crawl, index or build of a killed run keeps running (they die with the run)."""
    deadline = time.monotonic() + 15
    while True:
        left = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(root).encode() in cmdline and state != "Z":
                left.append(cmdline.decode("utf-8", "replace")[:120])
        if not left:
            return
        assert time.monotonic() < deadline, f"children of a killed run live on: {left}"
        time.sleep(0.2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc")
def test_sigkill_of_the_nightly_at_random_moments_keeps_the_live_site(
    demo_process: DemoProcess, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    sources = write_sources(demo_process, tmp_path)
    root = tmp_path / "site"
    first = nightly(tmp_path, sources)
    assert first.returncode == EXIT_OK, outcome(first)
    # The runs killed are incremental ones, like this one: the kills land within its time,
    # one in its crawl, one in its index and build up to the publish and the static search
    # (its report says when each step ran; what comes before its clock starts is the start-up).
    started = time.monotonic()
    second = nightly(tmp_path, sources)
    assert second.returncode == EXIT_OK, outcome(second)
    length = time.monotonic() - started
    times = latest_report(root)["times"]
    crawl_from = max(0.2, length - times["total"])
    crawl_to = crawl_from + times["crawl"]
    phases = [(crawl_from, crawl_to), (crawl_to, max(crawl_to, length * 0.95))]
    argv = [sys.executable, "-m", "csrnews", *nightly_args(tmp_path, sources)]
    moments, killed = [], 0
    for n in range(KILLS or 2):
        # (a last kill early in the run if none has landed yet: a kill must be tested)
        last = n == (KILLS or 2) - 1 and not killed
        moment = length * 0.3 if last else rng.uniform(*phases[n % len(phases)])
        moments.append(round(moment, 2))
        killed += _kill_at(argv, moment)
        _no_child_left(root)
        _live_release_is_consistent(root)
        _story_files_are_whole(tmp_path / "content")
    assert killed, f"every run ended before its kill (seed {SEED}, at {moments})"
    after = nightly(tmp_path, sources)
    assert after.returncode == EXIT_OK, f"seed {SEED}, kills at {moments}: {outcome(after)}"
    assert not list((root / "releases").glob(".building-*"))
    _live_release_is_consistent(root)
    with serving(root) as url:
        assert get(url + "/")[0] == 200
        assert json.loads(get(url + "/api/search?q=forum")[1])["total"] > 0
