"""Unit tests of the nightly run's parts: lock, releases, status page, reports, child steps."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csrnews.nightly import EXIT_LOCKED
from csrnews.nightly.lock import LockedError, RunLock, read_holder
from csrnews.nightly.release import ReleaseError, Releases
from csrnews.nightly.report import NightlyReport, save_report, summary_text
from csrnews.nightly.status import (
    load_history,
    record_crawl,
    render_status_html,
    save_history,
    status_document,
    write_status_page,
)
from csrnews.nightly.steps import run_step
from csrnews.site.folders import spare_of

# ---------------------------------------------------------------- lock


def test_second_lock_is_refused_and_names_the_holder(tmp_path: Path) -> None:
    first = RunLock(tmp_path / "lock")
    first.acquire()
    try:
        with pytest.raises(LockedError) as caught:
            RunLock(tmp_path / "lock").acquire()
        assert caught.value.holder["pid"] == os.getpid()
        assert "another nightly run" in str(caught.value)
    finally:
        first.release()
    with RunLock(tmp_path / "lock"):  # free again
        pass


def test_lock_of_a_sigkilled_process_is_stale_and_taken_over(tmp_path: Path) -> None:
    code = (
        "import sys, time; from csrnews.nightly.lock import RunLock; "
        "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(LockedError):
            RunLock(tmp_path / "lock").acquire()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert read_holder(tmp_path / "lock")["pid"] == proc.pid  # the file is left behind
    lock = RunLock(tmp_path / "lock")
    lock.acquire()
    try:
        assert lock.stale_holder is not None and lock.stale_holder["pid"] == proc.pid
        assert read_holder(tmp_path / "lock")["pid"] == os.getpid()
    finally:
        lock.release()


def test_lock_is_not_inherited_by_children(tmp_path: Path) -> None:
    lock = RunLock(tmp_path / "lock")
    lock.acquire()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock.release()
        with RunLock(tmp_path / "lock"):  # the live child does not keep it
            pass
    finally:
        child.kill()
        child.wait()


# ---------------------------------------------------------------- releases


def _fake_release(releases: Releases, name: str, text: str) -> Path:
    building = releases.start(name)
    (building / "site").mkdir()
    (building / "site" / "index.html").write_text(text, encoding="utf-8")
    (building / "index").mkdir(exist_ok=True)
    (building / "index" / "seg").write_text(text, encoding="utf-8")
    return building


def test_publish_swaps_current_and_keeps_previous(tmp_path: Path) -> None:
    releases = Releases(tmp_path)
    releases.recover()
    assert releases.current() is None
    releases.publish(_fake_release(releases, "r1", "one"))
    assert (tmp_path / "current" / "site" / "index.html").read_text() == "one"
    assert releases.previous() is None
    building = _fake_release(releases, "r2", "two")
    # The live index was copied into the new release before the build changed it.
    assert (building / "index" / "seg").read_text() == "two"
    releases.publish(building)
    assert (tmp_path / "current" / "site" / "index.html").read_text() == "two"
    assert (tmp_path / "previous" / "site" / "index.html").read_text() == "one"
    assert os.readlink(tmp_path / "current") == "releases/r2"  # relative: the root may move


def test_new_release_starts_with_a_copy_of_the_live_index(tmp_path: Path) -> None:
    releases = Releases(tmp_path)
    releases.recover()
    releases.publish(_fake_release(releases, "r1", "one"))
    (tmp_path / "current" / "index" / "MAIN_WRITELOCK").write_text("")
    building = releases.start("r2")
    copied = building / "index" / "seg"
    assert copied.read_text() == "one"
    assert not (building / "index" / "MAIN_WRITELOCK").exists()
    live = tmp_path / "current" / "index" / "seg"
    assert copied.stat().st_ino != live.stat().st_ino  # a copy, not a hard link
    copied.write_text("changed")
    assert live.read_text() == "one"


def test_rollback_swaps_and_twice_undoes(tmp_path: Path) -> None:
    releases = Releases(tmp_path)
    releases.recover()
    with pytest.raises(ReleaseError):
        releases.rollback()
    for name in ("r1", "r2"):
        releases.publish(_fake_release(releases, name, name))
    live, back = releases.rollback()
    assert (live.name, back.name) == ("r1", "r2")
    assert (tmp_path / "current" / "site" / "index.html").read_text() == "r1"
    releases.rollback()
    assert (tmp_path / "current" / "site" / "index.html").read_text() == "r2"


def test_prune_keeps_current_previous_and_the_newest(tmp_path: Path) -> None:
    releases = Releases(tmp_path)
    releases.recover()
    for name in ("r1", "r2", "r3", "r4", "r5"):
        releases.publish(_fake_release(releases, name, name))
    releases.rollback()  # current r4, previous r5
    removed = releases.prune(3)
    assert removed == ["r1", "r2"]
    assert releases.names() == ["r3", "r4", "r5"]
    assert releases.prune(1) == ["r3"]  # current and previous are never removed
    assert releases.names() == ["r4", "r5"]


def test_the_release_the_next_publish_would_prune_gives_its_site_to_the_build(
    tmp_path: Path,
) -> None:
    releases = Releases(tmp_path)
    releases.recover()
    for name in ("r1", "r2", "r3"):
        releases.publish(_fake_release(releases, name, name))
    building = releases.start("r4")
    target = building / "site"
    assert releases.reuse_prunable(target, 4) is None  # four releases fit: nothing pruned
    old_site = tmp_path / "releases" / "r1" / "site"
    inode = old_site.stat().st_ino
    assert releases.reuse_prunable(target, 3) == "r1"
    spare = spare_of(target)
    assert spare.stat().st_ino == inode and (spare / "index.html").read_text() == "r1"
    assert releases.names() == ["r2", "r3"]  # r1 gone whole; current and previous kept
    releases.rollback()  # current r2, previous r3: both protected
    shutil.rmtree(spare)
    assert releases.reuse_prunable(target, 2) is None and releases.names() == ["r2", "r3"]


def test_recover_cleans_what_a_killed_run_left(tmp_path: Path) -> None:
    releases = Releases(tmp_path)
    releases.recover()
    releases.publish(_fake_release(releases, "r1", "one"))
    _fake_release(releases, "r2", "half")  # never published
    os.symlink("releases/r2", tmp_path / ".current.tmp-4242")  # killed mid-swap
    done = releases.recover()
    assert len(done) == 2
    assert not list((tmp_path / "releases").glob(".building-*"))
    assert not (tmp_path / ".current.tmp-4242").exists()
    assert (tmp_path / "current" / "site" / "index.html").read_text() == "one"


# ---------------------------------------------------------------- status and reports


def test_history_counts_consecutive_failures_and_resets(tmp_path: Path) -> None:
    history = load_history(tmp_path)
    ok = {"status": "ok"}
    bad = {"status": "failed", "errors": ["HTTP 500 <script>"]}
    record_crawl(history, {"A": ok, "B": ok, "Gone": ok}, 1000.0)
    record_crawl(history, {"A": bad, "B": ok}, 2000.0)
    record_crawl(history, {"A": bad, "B": ok}, 3000.0)
    save_history(tmp_path, history)
    history = load_history(tmp_path)
    assert set(history["sources"]) == {"A", "B"}
    assert history["sources"]["A"]["consecutive_failures"] == 2
    assert history["sources"]["A"]["last_success"] == "1970-01-01T00:16:40Z"
    record_crawl(history, {"A": ok, "B": ok}, 4000.0)
    assert history["sources"]["A"]["consecutive_failures"] == 0


def test_status_page_marks_stale_and_failed_sources_and_escapes(tmp_path: Path) -> None:
    history = {"sources": {}}
    now = 1_000_000.0
    record_crawl(
        history,
        {
            "<b>Evil</b>": {"status": "failed", "errors": ["<script>x</script>"]},
            "Fine": {"status": "ok"},
        },
        now - 4 * 24 * 3600,
    )
    record_crawl(
        history,
        {
            "<b>Evil</b>": {"status": "failed", "errors": ["<script>x</script>"]},
            "Fine": {"status": "ok"},
        },
        now,
    )
    doc = status_document(history, run_id="r9", outcome="partial", now=now, stories_total=7)
    rows = {row["name"]: row for row in doc["sources"]}
    assert rows["<b>Evil</b>"]["stale"] and rows["<b>Evil</b>"]["consecutive_failures"] == 2
    assert not rows["Fine"]["stale"]
    folder = write_status_page(tmp_path, doc)
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;b&gt;Evil&lt;/b&gt;" in page
    assert "Needs attention" in page and "src=" not in page and "<style" not in page
    assert '<link rel="stylesheet" href="status.css">' in page  # a file: the CSP allows it
    assert "border-collapse" in (folder / "status.css").read_text(encoding="utf-8")
    assert json.loads((folder / "status.json").read_text())["sources"][0]["name"]
    assert "Every source is healthy" in render_status_html(
        status_document({"sources": {}}, run_id="r", outcome="ok", now=now, stories_total=0)
    )


def test_reports_are_kept_up_to_the_limit(tmp_path: Path) -> None:
    for i in range(5):
        report = NightlyReport(run_id=f"2026010{i}T000000.000000Z", started_at="x")
        report.finish(0, "y")
        save_report(tmp_path, report, keep=3)
    kept = sorted(p.name for p in tmp_path.glob("2026*.json"))
    assert kept == [f"2026010{i}T000000.000000Z.json" for i in (2, 3, 4)]
    assert json.loads((tmp_path / "latest.json").read_text())["run_id"].startswith("20260104")


def test_summary_text_names_sources_times_and_problems() -> None:
    report = NightlyReport(
        run_id="r1",
        started_at="x",
        published=True,
        release="r1",
        stories_total=12,
        times={"crawl": 1.5, "build": 2.0, "index": 0.5},
    )
    report.sources = {
        "Herald": {"status": "ok", "new": 2, "updated": 1, "unchanged": 9, "failed": 0},
        "Broken": {"status": "failed", "new": 0, "updated": 0, "unchanged": 0, "failed": 1},
    }
    report.warnings.append("source Broken failed: HTTP 500")
    report.finish(3, "z")
    text = summary_text(report)
    assert "partial (exit 3)" in text and "Herald" in text and "Broken" in text
    assert "stories in total: 12" in text and "crawl 1.5 s" in text and "build 2.0 s" in text
    assert "warning: source Broken failed" in text


# ---------------------------------------------------------------- steps


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting for a reaper."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def test_step_past_its_deadline_is_killed_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(marker)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    started = time.monotonic()
    result = run_step("slow", [sys.executable, "-c", code], timeout=2)
    assert result.timed_out and not result.ok and result.returncode is None
    assert time.monotonic() - started < 20
    grandchild = int(marker.read_text())
    for _ in range(50):
        if not _alive(grandchild):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the step's own child survived the deadline")


def test_step_reports_exit_code_and_output() -> None:
    result = run_step(
        "fails",
        [sys.executable, "-c", "import sys; print('oops', file=sys.stderr); sys.exit(3)"],
        timeout=30,
    )
    assert result.returncode == 3 and not result.ok and result.tail() == "oops"


def test_locked_exit_code_is_distinct() -> None:
    from csrnews.nightly import EXIT_CODES

    assert len(set(EXIT_CODES)) == len(EXIT_CODES) and EXIT_LOCKED not in (0, 1, 2, 3, 4)
