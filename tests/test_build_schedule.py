"""When `csrnews build` starts its child processes: the index after the static search in a
full build (their memory is not held at the same time), both at once in a nightly."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from csrnews.search import SearchRequest, SearchService

from csrnews.commands import build as build_cmd
from csrnews.story import storycheck
from tests.golden_site import SAMPLES


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The real child processes, with what each start saw: the static search's state."""
    events: list[tuple[str, Any]] = []
    statics: list[Any] = []
    start_static, start_index = build_cmd._start_static_search, build_cmd._start_index

    def static_spy(*args: Any, **kwargs: Any) -> Any:
        started = start_static(*args, **kwargs)
        statics.append(started)
        events.append(("static", None))
        return started

    def index_spy(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        # the static search's exit status when the index update starts (None: still running)
        events.append(("index", statics[-1].child.poll() if statics else "no static search"))
        return start_index(*args, **kwargs)

    monkeypatch.setattr(build_cmd, "_start_static_search", static_spy)
    monkeypatch.setattr(build_cmd, "_start_index", index_spy)
    return events


def _build(tmp_path: Path, *extra: str) -> Any:
    content, out, index = tmp_path / "content", tmp_path / "out", tmp_path / "index"
    args = ["--quiet", "--content", str(content), "--output", str(out), "--index", str(index)]
    return CliRunner().invoke(build_cmd.build, [*args, *extra])


@pytest.mark.slow  # two builds with the static search: about 6 s
def test_a_full_build_starts_the_index_when_the_static_search_has_ended(
    tmp_path: Path, spied: list[tuple[str, Any]]
) -> None:
    shutil.copytree(SAMPLES, tmp_path / "content")
    done = _build(tmp_path)  # no site yet: everything is made, as with --full
    assert done.exit_code == 0, done.output
    assert spied == [("static", None), ("index", 0)]
    assert (tmp_path / "out" / "pagefind" / "shards.json").is_file()  # the static search
    found = SearchService(tmp_path / "index").search(SearchRequest(q="supply chain"))
    assert found["total"] > 0  # the index committed with the site
    # A nightly (a site to reuse): both start at once, the index while the static search runs.
    spied.clear()
    again = _build(tmp_path)
    assert again.exit_code == 0, again.output
    assert spied == [("static", None), ("index", None)]


def test_a_failed_full_build_starts_no_index_update(
    tmp_path: Path, spied: list[tuple[str, Any]]
) -> None:
    content = tmp_path / "content"
    shutil.copytree(SAMPLES, content)
    (content / "top10").mkdir(exist_ok=True)
    (content / "top10" / "2025.yaml").write_text("year: 2025\nstatus: [published\n")
    failed = _build(tmp_path, "--full")
    assert failed.exit_code == 1
    # --full: the index update starts (if the site has not failed before) after the static search
    assert spied[0] == ("static", None) and all(seen == 0 for _, seen in spied[1:])
    assert not (tmp_path / "out").exists()
    assert not list((tmp_path / "index").glob("*.toc"))  # no commit, if it started at all
    assert not list(tmp_path.glob(".out.static-search-*"))  # the static search's scratch


def test_an_index_update_that_cannot_start_after_the_static_search_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from a thread, its failure to start is not lost: the new site is not used."""

    def cannot_start(*_args: Any, **_kwargs: Any) -> subprocess.Popen[str]:
        raise OSError("cannot start the index update")

    monkeypatch.setattr(build_cmd, "_start_index", cannot_start)
    shutil.copytree(SAMPLES, tmp_path / "content")
    done = _build(tmp_path, "--full")
    assert done.exit_code == 1
    assert "cannot start the index update" in done.output
    assert not (tmp_path / "out").exists()  # the site is not swapped in without its index


@pytest.mark.slow  # one build: about 5 s
@pytest.mark.parametrize("static", [True, False])
def test_a_full_build_checks_the_story_files_once_for_all_three_processes(
    tmp_path: Path, static: bool
) -> None:
    """Before the static search starts, the build checks every story file into the static
    search's cache folder; the static search finds them there, the site and the index take
    them (their seeds) instead of reading and checking every file again. A verdict planted
    there (as if a check had found it) is followed by all three, so none of them checked
    that file itself."""
    content = tmp_path / "content"
    shutil.copytree(SAMPLES, content)
    time.sleep(storycheck.RACY_NS / 1e9 + 0.1)  # settled for every process (each its own)
    static_cache = tmp_path / ".pelican-cache" / "static-search"  # the default folder
    storycheck.find_quarantine(content, cache_dir=static_cache)
    planted = "news/2025/iso-26000-forum-in-shanghai.md"
    checks_file = static_cache / storycheck.CACHE_FILE
    checks = json.loads(checks_file.read_text(encoding="utf-8"))
    checks["files"][planted][4] = "planted in the shared checks"
    checks_file.write_text(json.dumps(checks), encoding="utf-8")
    done = _build(tmp_path, "--full", *([] if static else ["--no-static-search"]))
    assert done.exit_code == 0, done.output
    assert f"left out of the site and the index: {planted}: planted" in done.output
    assert ("static search: 11 stories" in done.output) is static  # 12 without the verdict
    index_checks = json.loads((tmp_path / "index" / storycheck.CACHE_FILE).read_text("utf-8"))
    assert index_checks["files"][planted][4] == "planted in the shared checks"
    found = SearchService(tmp_path / "index").search(SearchRequest(q="ISO 26000 forum Shanghai"))
    assert all("iso-26000-forum" not in hit["url"] for hit in found["hits"])
    assert not (tmp_path / "out" / "news" / "2025" / "iso-26000-forum-in-shanghai").exists()


@pytest.mark.parametrize("in_turn", [False, True])
def test_a_nightlys_companions_yield_the_cpu_to_the_site(tmp_path: Path, in_turn: bool) -> None:
    """A nightly's index update and static search run at a lower priority (the site is its
    critical path); a build that makes everything leaves them as they are (there the static
    search and the index, one after the other, are the longer chain)."""
    import os
    import sys

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    children: list[subprocess.Popen[str]] = []

    def start(*_args: Any) -> subprocess.Popen[str]:
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        children.append(subprocess.Popen(sleeper, text=True, stdin=subprocess.DEVNULL, **pipes))
        return children[-1]

    mine = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        companions = build_cmd._Companions(
            start,
            lambda: build_cmd._StaticSearch(start(), tmp_path / "scratch"),
            in_turn=in_turn,
        )
        static = companions.static
        assert static is not None
        if in_turn:  # the index starts only when the static search has ended
            static.child.kill()
        indexer = companions.indexer()
        assert indexer is not None and len(children) == 2
        expected = mine if in_turn else min(19, mine + build_cmd.COMPANION_NICENESS)
        if not in_turn:
            assert os.getpriority(os.PRIO_PROCESS, static.child.pid) == expected
        assert os.getpriority(os.PRIO_PROCESS, indexer.pid) == expected
    finally:
        for child in children:
            child.kill()
            child.communicate()
