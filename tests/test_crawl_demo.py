"""End-to-end crawls of the demo publisher: every story once, robots, reprints, encodings, dates."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.crawler.urls import url_key

from csrnews.story.storyfile import is_edited, iter_story_files, read_story
from tests.test_crawl_support import CrawlRun, crawl, snapshot, write_sources

pytestmark = pytest.mark.slow

INDEX_PATH_RE = re.compile(
    r"^/(robots\.txt|herald/feed\.xml|review/atom\.xml|"
    r"weekly/list/\d+\.html|esn/sitemap[^/]*\.xml)$"
)


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """This module's own demo publisher (the tests read its request log)."""
    from csrnews.demo.server import start_demo_server

    srv = start_demo_server(port=0)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def first(server: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlRun, list[Any]]:
    """The first crawl of the demo and the requests it made."""
    from csrnews.demo.server import render_sources

    work = tmp_path_factory.mktemp("demo-crawl")
    write_sources(work, render_sources(server.url))
    server.clear_log()
    run = crawl(work)
    assert run.returncode == 0, run.stderr[-3000:]
    return run, server.request_log


def _stories(content: Path) -> list[Any]:
    return [read_story(p) for p in iter_story_files(content)]


def _served(server: Any) -> list[Any]:
    return [s for s in server.stories if "robots_disallowed" not in s.flags]


def _file_for(stories: list[Any], url: str) -> Any:
    key = url_key(url)
    found = [
        s
        for s in stories
        if url_key(s.get("Source_url")) == key
        or key in {url_key(u) for u in s.get_list("Also_reported_by")}
    ]
    assert len(found) == 1, f"{url}: {len(found)} story files"
    return found[0]


def _words(text: str) -> str:
    return " ".join(re.sub(r"[*_`#>\[\]]|\(http[^)]*\)", "", text).split())


def test_every_story_is_written_exactly_once(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    run, _ = first
    stories = _stories(run.content)
    served = _served(server)
    assert len(stories) == len(served), run.stdout
    for demo in served:
        _file_for(stories, demo.url)
    assert "Done:" in run.stdout and "failed" in run.stdout


def test_robots_disallowed_pages_are_never_requested(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    _, log = first
    assert any(r.path == "/robots.txt" for r in log)
    assert not [r.path for r in log if "/members/" in r.path]
    agents = {r.headers.get("User-Agent", "") for r in log}
    assert all(a.startswith("csrnews/") and "+http" in a for a in agents), agents


def test_the_reprint_is_merged(server: Any, first: tuple[CrawlRun, list[Any]]) -> None:
    run, _ = first
    stories = _stories(run.content)
    reprinted = [s for s in _served(server) if s.reprinted_by]
    assert reprinted, "the demo has a reprinted story"
    for demo in reprinted:
        story = _file_for(stories, demo.url)
        assert story is _file_for(stories, demo.reprint_url)
        urls = {url_key(story.get("Source_url"))} | {
            url_key(u) for u in story.get_list("Also_reported_by")
        }
        assert urls == {url_key(demo.url), url_key(demo.reprint_url)}
        # Whichever was crawled first, the original publisher's page is the story.
        assert url_key(story.get("Source_url")) == url_key(demo.url)
        assert "first appeared" not in story.body


def test_chinese_pages_in_every_encoding_read_correctly(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    run, _ = first
    stories = _stories(run.content)
    zh = [s for s in _served(server) if s.lang == "zh"]
    assert {s.encoding for s in zh} >= {"gbk", "utf-8"}
    for demo in zh:
        story = _file_for(stories, demo.url)
        assert story.title == demo.title
        assert story.get("Lang") == "zh"
        first_para = demo.body.strip().split("\n\n")[0]
        assert _words(first_para)[:40] in _words(story.body), demo.id
        assert "\ufffd" not in story.body


def test_the_date_is_right_for_every_dating_style(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    run, _ = first
    stories = _stories(run.content)
    styles = set()
    for demo in _served(server):
        story = _file_for(stories, demo.url)
        styles.add(demo.date_style)
        assert story.get("Date")[:10] == demo.date.isoformat(), (demo.id, demo.date_style)
    assert styles >= {"meta", "time", "byline", "jsonld", "url"}


def test_no_chrome_in_any_story_body(first: tuple[CrawlRun, list[Any]]) -> None:
    from csrnews.demo.server import CHROME_TEXTS

    run, _ = first
    for story in _stories(run.content):
        body = _words(story.body)
        for chrome in CHROME_TEXTS:
            assert chrome not in body, f"{story.path}: {chrome!r}"


def test_the_hostile_page_keeps_its_text_and_loses_its_weapons(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    run, _ = first
    stories = _stories(run.content)
    hostile = [s for s in _served(server) if "hostile" in s.flags]
    assert hostile
    for demo in hostile:
        story = _file_for(stories, demo.url)
        text = (story.path.read_text(encoding="utf-8") if story.path else "").lower()
        for weapon in (
            "<script",
            "<iframe",
            "onclick",
            "onerror",
            "javascript:",
            "evil.invalid",
            "document.cookie",
            "<img",
            "&lt;",
        ):
            assert weapon not in text, weapon
        for para in demo.body.strip().split("\n\n"):
            if not para.startswith(("#", "-", "|")):
                assert _words(para) in _words(story.body)


def test_story_files_carry_the_metadata(first: tuple[CrawlRun, list[Any]]) -> None:
    run, _ = first
    for story in _stories(run.content):
        for key in (
            "Title",
            "Date",
            "Slug",
            "Lang",
            "Category",
            "Source",
            "Source_url",
            "Crawled",
            "Fingerprint",
        ):
            assert story.get(key), (story.path, key)
        assert story.path is not None
        assert story.path.stem == story.slug
        assert story.path.parent.name == story.get("Date")[:4]
        assert re.fullmatch(r"[a-z0-9-]+", story.slug)
        assert not is_edited(story.path.read_text(encoding="utf-8"))


def test_a_second_crawl_writes_nothing_and_asks_only_for_indexes(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    run, _ = first
    before = snapshot(run.content)
    server.clear_log()
    again = crawl(run.work)
    assert again.returncode == 0, again.stderr[-2000:]
    assert snapshot(run.content) == before
    log = server.request_log
    assert log
    paths = [r.path for r in log]
    assert all(INDEX_PATH_RE.match(p) for p in paths), paths
    for record in log:
        if record.path != "/robots.txt":
            assert record.status == 304, (record.path, record.status)
            assert record.headers.get("If-None-Match") or record.headers.get("If-Modified-Since")
    totals = again.report["sources"]
    assert sum(s["new"] + s["updated"] for s in totals.values()) == 0


def test_an_edited_story_survives_a_recrawl(server: Any, first: tuple[CrawlRun, list[Any]]) -> None:
    run, _ = first
    paths = list(iter_story_files(run.content))
    edited, untouched = paths[0], paths[1]
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("\n\n", "\n\nEditor's note.\n\n", 1),
        encoding="utf-8",
    )
    edited_bytes, untouched_bytes = edited.read_bytes(), untouched.read_bytes()
    # Pretend both stories' feed entries changed, so that the crawl fetches them again.
    db = sqlite3.connect(run.work / "var" / "crawl.sqlite3")
    rels = [p.relative_to(run.content).as_posix() for p in (edited, untouched)]
    db.execute(f"UPDATE stories SET entry_hash='changed' WHERE path IN ({','.join('?' * 2)})", rels)
    db.execute("DELETE FROM docs")  # and forget the validators: every index answers 200
    db.commit()
    db.close()
    again = crawl(run.work)
    assert again.returncode == 0
    assert edited.read_bytes() == edited_bytes
    assert untouched.read_bytes() == untouched_bytes
    totals = again.report["sources"]
    assert sum(s["kept"] for s in totals.values()) >= 1
    assert sum(s["new"] + s["updated"] for s in totals.values()) == 0


def test_a_crawl_writes_no_story_while_an_editor_saves(
    server: Any, first: tuple[CrawlRun, list[Any]]
) -> None:
    """The crawler's read-check-write of a story waits for the lock an editor's save holds, so
    an edit saved between the crawler's read and its write cannot be overwritten."""
    import os
    import subprocess
    import sys
    import time
    from urllib.parse import urlsplit

    from csrnews.story.storyfile import story_write_lock

    run, _ = first
    target = list(iter_story_files(run.content))[2]
    page = urlsplit(read_story(target).get("Source_url")).path
    rel = target.relative_to(run.content).as_posix()
    db = sqlite3.connect(run.work / "var" / "crawl.sqlite3")
    db.execute("UPDATE stories SET entry_hash='changed' WHERE path = ?", (rel,))
    db.execute("DELETE FROM docs")
    db.commit()
    db.close()
    target.unlink()  # the crawl writes it again: a story write to wait for
    server.clear_log()
    argv = [sys.executable, "-m", "csrnews", "crawl", "--sources", str(run.work / "sources.yaml")]
    argv += ["--content", str(run.content), "--state", str(run.work / "var"), "--delay", "0"]
    with story_write_lock(run.content):  # as the desk holds it while it saves
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 90
            while not any(r.path == page for r in server.request_log):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the crawl never fetched the story"
                time.sleep(0.1)
            time.sleep(2.0)
            assert not target.exists(), "the crawl wrote a story while the lock was held"
            assert proc.poll() is None
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert target.exists() and not is_edited(target.read_text(encoding="utf-8"))
    assert os.path.isdir(run.content / "news")
