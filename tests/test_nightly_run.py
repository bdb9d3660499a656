"""The nightly run against the demo publisher, with the real crawl and a stand-in build.

The stand-in build (FAKE_BUILD) keeps these tests independent of Pelican: it writes one page
listing the story titles and can be told to fail or to wait. The index is the real Whoosh index,
updated by the nightly run itself. tests/test_nightly_acceptance.py runs the same flow with the
real `csrnews build`.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from csrnews.search.staticsearch import MANIFEST_FILE

from csrnews.nightly import (
    EXIT_FAILED,
    EXIT_HOOK_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
)
from csrnews.nightly.lock import RunLock, read_holder
from csrnews.nightly.report import NightlyReport, load_report, save_report
from csrnews.nightly.run import NightlyOptions, run_nightly
from tests.conftest import ROOT, DemoSite, copy_demo_crawl

FAKE_BUILD = r"""
import argparse, html, pathlib, sys, time
p = argparse.ArgumentParser()
for name in ("--content", "--output", "--index", "--marker"):
    p.add_argument(name)
p.add_argument("--fail", action="store_true")
p.add_argument("--sleep", type=float, default=0)
p.add_argument("--wait-for")
a = p.parse_known_args()[0]  # ignores --no-index, --previous, --cache-dir
if a.marker:
    pathlib.Path(a.marker).write_text(str(__import__("os").getpid()))
time.sleep(a.sleep)
while a.wait_for and not pathlib.Path(a.wait_for).exists():  # until the test says so
    time.sleep(0.05)
if a.fail:
    sys.exit("fake build: a broken template")
out = pathlib.Path(a.output)
out.mkdir(parents=True, exist_ok=True)
titles = []
for f in sorted(pathlib.Path(a.content, "news").rglob("*.md")):
    for line in f.read_text(encoding="utf-8").splitlines():
        if line.lower().startswith("title:"):
            titles.append(line.split(":", 1)[1].strip())
            break
items = "".join("<li>" + html.escape(t) + "</li>" for t in titles)
(out / "index.html").write_text("<ul>" + items + "</ul>", encoding="utf-8")
"""
FAKE_BUILD_ARGV = [sys.executable, "-c", FAKE_BUILD]
NEW_STORY = {
    "id": "nightly-test-story",
    "publisher": "herald",
    "title": "Nightly test summit on supplier audits",
    "date": "2026-11-20",
}
NEW_BODY = (
    "Delegates met at the nightly test summit to compare supplier audit methods and "
    "agreed a common checklist for labour standards in electronics supply chains. " * 3
)


def from_the_demo_crawl(demo_site: DemoSite, tmp_path: Path) -> None:
    """Start from the session's crawl of the demo publisher (the first nightly crawls 0 new)."""
    copy_demo_crawl(demo_site, tmp_path / "content", tmp_path / "site" / "state")


def write_sources(server: Any, folder: Path) -> Path:
    from csrnews.demo.server import render_sources

    path = folder / "sources.yaml"
    path.write_text(render_sources(server.url), encoding="utf-8")
    return path


def options(tmp_path: Path, sources: Path, **extra: Any) -> NightlyOptions:
    values: dict[str, Any] = {
        "root": tmp_path / "site",
        "sources": sources,
        "content": tmp_path / "content",
        "delay": 0.0,
        "timeout": 240.0,
        "source_timeout": 60.0,
        "build_command": FAKE_BUILD_ARGV,
    }
    values.update(extra)
    return NightlyOptions(**values)


def story_files(content: Path) -> dict[str, tuple[int, int]]:
    """Every story file with its inode and mtime: a rewrite changes one of them."""
    return {
        str(p.relative_to(content)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted((content / "news").rglob("*.md"))
    }


def index_count(index_dir: Path) -> int:
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(index_dir))
    try:
        with ix.searcher() as searcher:
            return searcher.doc_count()
    finally:
        ix.close()


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def latest_report(root: Path) -> dict[str, Any]:
    return json.loads((root / "reports" / "latest.json").read_text(encoding="utf-8"))


def source_prefix(server: Any, name: str) -> str:
    """The URL path prefix of one demo publisher, from the sources file."""
    import yaml

    from csrnews.demo.server import render_sources

    config = yaml.safe_load(render_sources(server.url))
    for src in config["sources"]:
        if src["name"] == name:
            url = src.get("feed") or src.get("sitemap") or src["start_urls"][0]
            path = url[len(server.url) :]
            return "/" + path.strip("/").split("/")[0] + "/"
    raise KeyError(name)


@pytest.mark.slow
def test_nightly_publishes_is_incremental_and_keeps_the_live_site_on_failure(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    server = fresh_demo_server
    sources = write_sources(server, tmp_path)
    root = tmp_path / "site"

    # 1. The first run builds, indexes and publishes.
    first = run_nightly(options(tmp_path, sources))
    assert first.exit_code == EXIT_OK, first.errors
    assert first.published and (root / "current" / "site" / "index.html").is_file()
    total = first.stories_total
    assert total and total >= 40
    assert sum(s["new"] for s in first.sources.values()) >= 40
    assert index_count(root / "current" / "index") == total
    assert (root / "current" / "site" / "status" / "index.html").is_file()
    assert (root / "reports" / f"{first.run_id}.json").is_file()
    assert "nightly run" in (root / "logs" / "nightly.log").read_text(encoding="utf-8")

    # 2. Nothing changed: 0 new, no story file rewritten, the index updated in place.
    before = story_files(tmp_path / "content")
    server.clear_log()
    second = run_nightly(options(tmp_path, sources))
    assert second.exit_code == EXIT_OK, second.errors
    assert sum(s["new"] for s in second.sources.values()) == 0
    assert sum(s["updated"] for s in second.sources.values()) == 0
    assert story_files(tmp_path / "content") == before
    assert second.index["added"] == 0 and second.index["unchanged"] == total
    assert not second.index["rebuilt"]
    assert os.readlink(root / "previous") == f"releases/{first.run_id}"
    story_requests = [
        r for r in server.request_log if r.status == 200 and not r.path.endswith("robots.txt")
    ]
    conditional = [
        r
        for r in server.request_log
        if "If-None-Match" in r.headers or "If-Modified-Since" in r.headers
    ]
    assert conditional, "the second run sent no conditional GET"
    assert all(r.status == 304 for r in conditional)
    assert not [r for r in story_requests if r not in conditional], story_requests

    # 3. A story added to the demo source appears after the next run.
    server.add_story(NEW_STORY, NEW_BODY)
    third = run_nightly(options(tmp_path, sources))
    assert third.exit_code == EXIT_OK, third.errors
    assert sum(s["new"] for s in third.sources.values()) == 1
    assert third.stories_total == total + 1
    assert NEW_STORY["title"] in (root / "current" / "site" / "index.html").read_text()
    assert index_count(root / "current" / "index") == total + 1
    assert index_count(root / "previous" / "index") == total  # the old release is untouched
    # The static search put the new story in a shard of the nightlies' own (n1) and linked the
    # others as they were (what each shard holds is in its cache, in the state folder).
    static = third.static_search
    assert (static["built"], static["indexed"], static["recent"], static["stale"]) == (1, 1, 0, 0)
    listing = json.loads((root / "current" / "site" / "pagefind" / "shards.json").read_text())
    assert listing["shards"][-1]["id"] == "n1", listing
    assert static["reused"] >= 1
    assert (root / "state" / "pelican-cache" / "static-search" / MANIFEST_FILE).is_file()

    # 4. One source answering 500: partial failure, site published, status page names it.
    broken = "Electronics Sustainability News"
    server.fail_prefix(source_prefix(server, broken), 500)
    # (The static search is checked above: the runs below go without it.)
    fourth = run_nightly(options(tmp_path, sources, static_search=False))
    assert fourth.exit_code == EXIT_PARTIAL, (fourth.errors, fourth.sources)
    assert fourth.published and fourth.failed_sources == [broken]
    assert os.readlink(root / "current") == f"releases/{fourth.run_id}"
    page = (root / "current" / "site" / "status" / "index.html").read_text(encoding="utf-8")
    assert broken in page and "Needs attention" in page
    status = json.loads((root / "current" / "site" / "status" / "status.json").read_text())
    row = {r["name"]: r for r in status["sources"]}[broken]
    assert row["status"] == "failed" and row["consecutive_failures"] == 1
    assert status["last_successful_run"]["run_id"] == third.run_id
    server.clear_failures()

    # 5. A failing build: nothing published, the live site and index stay as they were.
    live_target = os.readlink(root / "current")
    live_site = tree_state(root / "current" / "site")
    live_index = tree_state(root / "current" / "index")
    fifth = run_nightly(
        options(tmp_path, sources, build_args=["--fail"], crawl=False, static_search=False)
    )
    assert fifth.exit_code == EXIT_FAILED
    assert not fifth.published and "broken template" in " ".join(fifth.errors)
    assert os.readlink(root / "current") == live_target
    assert tree_state(root / "current" / "site") == live_site
    assert tree_state(root / "current" / "index") == live_index
    assert not list((root / "releases").glob(".building-*"))
    assert latest_report(root)["outcome"] == "failed"

    # 6. The source recovers: all good again, failures reset on the status page.
    sixth = run_nightly(options(tmp_path, sources, static_search=False))
    assert sixth.exit_code == EXIT_OK, sixth.errors
    status = json.loads((root / "current" / "site" / "status" / "status.json").read_text())
    assert all(r["consecutive_failures"] == 0 for r in status["sources"])
    assert len(list((root / "reports").glob("2*.json"))) == 6


@pytest.mark.slow
def test_publish_hook_gets_the_live_paths_and_its_failure_is_reported(
    demo_server: Any, demo_site: DemoSite, tmp_path: Path
) -> None:
    from_the_demo_crawl(demo_site, tmp_path)
    sources = write_sources(demo_server, tmp_path)
    seen = tmp_path / "hook.txt"
    hook = f'echo "$CSRNEWS_SITE $CSRNEWS_RELEASE" > {shlex.quote(str(seen))}'
    good = run_nightly(options(tmp_path, sources, publish_hook=hook, static_search=False))
    assert good.exit_code == EXIT_OK, good.errors
    site, release = seen.read_text().split()
    assert Path(site) == tmp_path / "site" / "current" / "site" and release == good.run_id
    failing = "echo rsync: refused >&2; exit 12"
    # (what the hook gets does not depend on a crawl: the content as it is, built again)
    bad = run_nightly(
        options(tmp_path, sources, publish_hook=failing, crawl=False, static_search=False)
    )
    assert bad.exit_code == EXIT_HOOK_FAILED and bad.published
    assert bad.hook is not None and bad.hook["returncode"] == 12
    assert "rsync: refused" in " ".join(bad.errors)


@pytest.mark.slow
def test_whole_run_timeout_stops_a_hanging_build(demo_server: Any, tmp_path: Path) -> None:
    sources = write_sources(demo_server, tmp_path)
    started = time.monotonic()
    # (no crawl: the build hangs at once, and the deadline of the whole run stops it)
    report = run_nightly(
        options(tmp_path, sources, timeout=3.0, crawl=False, build_args=["--sleep", "120"])
    )
    assert report.exit_code == EXIT_FAILED and not report.published
    assert time.monotonic() - started < 60
    assert "killed at the deadline" in " ".join(report.errors)
    assert not (tmp_path / "site" / "current").exists()


def test_a_held_lock_gives_the_locked_exit_code(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n")
    with RunLock(tmp_path / "site" / "lock"):
        report = run_nightly(options(tmp_path, sources))
    assert report.exit_code == EXIT_LOCKED and "another nightly run" in report.errors[0]


def test_missing_sources_file_is_a_usage_error(tmp_path: Path) -> None:
    report = run_nightly(options(tmp_path, tmp_path / "nope.yaml"))
    assert report.exit_code == EXIT_USAGE and not report.published


def test_the_report_of_a_run_killed_after_publishing_is_closed_by_the_next(
    tmp_path: Path,
) -> None:
    """A run killed between its publish and its end leaves its report "running"; the next run
    (which holds the lock, so that run cannot still be going) marks it killed and says so."""
    reports = tmp_path / "site" / "reports"
    killed = NightlyReport(run_id="20261201T020000Z-1", started_at="2026-12-01T02:00:00Z")
    killed.published = True
    save_report(reports, killed, 60)  # as save_report_so_far leaves it
    ended = NightlyReport(run_id="20261130T020000Z-1", started_at="2026-11-30T02:00:00Z")
    ended.finish(EXIT_OK, "2026-11-30T02:10:00Z")
    save_report(reports, ended, 60)
    (reports / "latest.json").write_text((reports / f"{killed.run_id}.json").read_text())

    report = run_nightly(options(tmp_path, tmp_path / "nope.yaml"))

    closed = load_report(reports / f"{killed.run_id}.json")
    assert closed["outcome"] == "killed" and closed["published"] is True
    assert any("killed after it published" in e for e in closed["errors"])
    assert load_report(reports / f"{ended.run_id}.json")["outcome"] == "ok"
    assert any(killed.run_id in w and "killed" in w for w in report.warnings)
    # this run's own report (a usage error) is the latest now, and names the killed run
    assert latest_report(tmp_path / "site")["run_id"] == report.run_id


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "csrnews", "nightly", *args]


def _nightly_args(tmp_path: Path, sources: Path, *extra: str) -> list[str]:
    return [
        "--root",
        str(tmp_path / "site"),
        "--sources",
        str(sources),
        "--content",
        str(tmp_path / "content"),
        "--delay",
        "0",
        "--timeout",
        "240",
        "--build-command",
        shlex.join(FAKE_BUILD_ARGV),
        *extra,
    ]


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{path} did not appear within {seconds} s")
        time.sleep(0.1)


def _wait_for_holder(lock: Path, proc: subprocess.Popen[str], seconds: float) -> None:
    """Until the lock file names PROC as its holder (it writes that once the lock is its own)."""
    deadline = time.monotonic() + seconds
    while read_holder(lock).get("pid") != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"pid {proc.pid} did not take {lock} within {seconds} s")
        time.sleep(0.05)


@pytest.mark.slow
def test_two_concurrent_runs_give_one_locked(
    demo_server: Any, demo_site: DemoSite, tmp_path: Path
) -> None:
    from_the_demo_crawl(demo_site, tmp_path)
    sources = write_sources(demo_server, tmp_path)
    go_on = tmp_path / "go-on"  # the first run's build waits for it: it holds the lock till then
    first = subprocess.Popen(
        _cli(
            *_nightly_args(
                tmp_path, sources, "--no-static-search", f"--build-arg=--wait-for={go_on}"
            )
        ),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_holder(tmp_path / "site" / "lock", first, 30)
        second = subprocess.run(
            _cli(*_nightly_args(tmp_path, sources, "--no-static-search")),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        go_on.touch()
        out, err = first.communicate(timeout=180)
    finally:
        go_on.touch()
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == EXIT_LOCKED, second.stdout + second.stderr
    assert "another nightly run" in second.stdout + second.stderr
    assert first.returncode == EXIT_OK, out + err
    assert (tmp_path / "site" / "current" / "site" / "index.html").is_file()


def _run_held_in_its_build(
    tmp_path: Path, sources: Path, marker: Path, *, output: int
) -> subprocess.Popen[str]:
    """A nightly run that goes straight to its build (no crawl, no static search), whose
    stand-in build writes its pid to ``marker`` and then sleeps: a run to stop mid-build."""
    return subprocess.Popen(
        _cli(
            *_nightly_args(
                tmp_path,
                sources,
                "--no-crawl",
                "--no-static-search",
                "--build-arg=--sleep=60",
                f"--build-arg=--marker={marker}",
            )
        ),
        cwd=ROOT,
        stdout=output,
        stderr=output,
        text=True,
    )


@pytest.mark.slow
def test_a_run_stopped_by_sigterm_or_killed_by_sigkill_keeps_the_live_site_then_a_good_one(
    demo_server: Any, demo_site: DemoSite, tmp_path: Path
) -> None:
    """SIGTERM, then SIGKILL, to a run in its build: the same live release each time, then a
    consistent run (one first run for both; they were two tests,
    test_sigterm_stops_the_run_and_keeps_the_live_site and
    test_a_run_killed_by_sigkill_is_followed_by_a_consistent_one)."""
    from_the_demo_crawl(demo_site, tmp_path)
    sources = write_sources(demo_server, tmp_path)
    root = tmp_path / "site"
    done = run_nightly(options(tmp_path, sources, static_search=False))
    assert done.exit_code == EXIT_OK, done.errors
    live = os.readlink(root / "current")
    live_index = tree_state(root / "current" / "index")

    marker = tmp_path / "stopping"
    victim = _run_held_in_its_build(tmp_path, sources, marker, output=subprocess.PIPE)
    try:
        _wait_for(marker, 60)
        victim.send_signal(signal.SIGTERM)
        out, err = victim.communicate(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert victim.returncode == EXIT_FAILED, out + err
    assert "stopped by signal SIGTERM" in out and "nothing published" in out
    assert os.readlink(root / "current") == live
    assert not list((root / "releases").glob(".building-*"))
    assert latest_report(root)["outcome"] == "failed"

    # SIGKILL: no handler runs; the next run cleans up.
    marker = tmp_path / "building"
    victim = _run_held_in_its_build(tmp_path, sources, marker, output=subprocess.DEVNULL)
    try:
        _wait_for(marker, 60)
        build_pid = int(marker.read_text())
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    # Mid-build: the half-built release is on disk, the live one untouched.
    assert list((root / "releases").glob(".building-*"))
    assert os.readlink(root / "current") == live
    assert tree_state(root / "current" / "index") == live_index
    # The build child died with its parent (no orphan keeps writing).
    for _ in range(50):
        if (
            not Path(f"/proc/{build_pid}").exists()
            or "\nState:\tZ" in Path(f"/proc/{build_pid}/status").read_text()
        ):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the build child outlived the killed nightly run")

    after = subprocess.run(
        _cli(*_nightly_args(tmp_path, sources, "--no-static-search")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert after.returncode == EXIT_OK, after.stdout + after.stderr
    assert "stale lock" in after.stdout
    assert not list((root / "releases").glob(".building-*"))
    assert os.readlink(root / "previous") == live
    report = latest_report(root)
    assert index_count(root / "current" / "index") == report["stories_total"]
    assert any("unfinished release" in w for w in report["warnings"])


@pytest.mark.slow
def test_quiet_prints_one_line_and_rollback_swaps_back(demo_server: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from csrnews.commands.nightly import rollback

    sources = write_sources(demo_server, tmp_path)
    root = tmp_path / "site"
    runner = CliRunner()
    assert runner.invoke(rollback, ["--root", str(root)]).exit_code == EXIT_FAILED
    names = []
    for _ in range(2):
        result = subprocess.run(
            _cli(*_nightly_args(tmp_path, sources, "--quiet")),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == EXIT_OK, result.stdout + result.stderr
        assert len(result.stdout.strip().splitlines()) == 1
        assert result.stdout.startswith("csrnews nightly ") and "ok (exit 0)" in result.stdout
        names.append(latest_report(root)["run_id"])
    verbose = subprocess.run(  # (the steps it shows do not need a crawl)
        _cli(*_nightly_args(tmp_path, sources, "-v", "--no-crawl")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert verbose.returncode == EXIT_OK and "step build" in verbose.stderr
    names.append(latest_report(root)["run_id"])
    result = runner.invoke(rollback, ["--root", str(root)])
    assert result.exit_code == 0, result.output
    assert os.readlink(root / "current") == f"releases/{names[1]}"
    assert os.readlink(root / "previous") == f"releases/{names[2]}"
    with RunLock(root / "lock"):
        assert runner.invoke(rollback, ["--root", str(root)]).exit_code == EXIT_LOCKED
    assert runner.invoke(rollback, ["--root", str(root)]).exit_code == 0
    assert os.readlink(root / "current") == f"releases/{names[2]}"


@pytest.mark.slow
def test_a_source_over_its_max_pages_is_reported_to_the_operator(
    demo_server: Any, tmp_path: Path
) -> None:
    # a sources file whose first source may fetch two stories a run: the rest are not lost in
    # silence but named in the morning's report (and the crawl's own note says why skipped)
    import yaml

    from csrnews.demo.server import render_sources

    config = yaml.safe_load(render_sources(demo_server.url))
    first = config["sources"][0]
    first["max_pages"] = 2
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    report = run_nightly(options(tmp_path, sources, static_search=False))
    assert report.exit_code == EXIT_OK, report.errors
    src = report.sources[first["name"]]
    assert src["new"] == 2 and src["over_limit"] > 0 and src["skipped"] >= src["over_limit"]
    said = [w for w in report.warnings if w.startswith(f"source {first['name']}:")]
    assert any(f"{src['over_limit']} stories over its max_pages" in w for w in said), said
