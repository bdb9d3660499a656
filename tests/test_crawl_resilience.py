"""Crawls that go wrong: failing sources, invalid config, SIGKILL mid-run; new stories; excerpts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from csrnews.crawler.urls import url_key

from csrnews.story.storyfile import FULLTEXT_SUFFIX, is_edited, iter_story_files, read_story
from tests.conftest import ROOT
from tests.test_crawl_support import crawl, write_sources

pytestmark = pytest.mark.slow


def _demo_sources(server: Any, work: Path) -> Path:
    from csrnews.demo.server import render_sources

    return write_sources(work, render_sources(server.url))


def test_a_failing_source_does_not_stop_the_others(fresh_demo_server: Any, tmp_path: Path) -> None:
    _demo_sources(fresh_demo_server, tmp_path)
    fresh_demo_server.fail_prefix("/review/", 500)
    run = crawl(tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    sources = run.report["sources"]
    review = sources["Supply Chain Responsibility Review"]
    assert review["status"] == "failed"
    assert any("HTTP 500" in e for e in review["errors"])
    assert "HTTP 500" in run.stdout
    assert sources["The CSR Herald"]["status"] == "ok"
    assert sources["The CSR Herald"]["new"] >= 10
    # Retries: the failing feed was asked more than once.
    asked = [r for r in fresh_demo_server.request_log if r.path == "/review/atom.xml"]
    assert len(asked) > 1
    # Once the source recovers, its stories arrive.
    fresh_demo_server.clear_failures()
    again = crawl(tmp_path)
    assert again.report["sources"]["Supply Chain Responsibility Review"]["new"] >= 9


def test_every_source_failing_exits_non_zero(fresh_demo_server: Any, tmp_path: Path) -> None:
    _demo_sources(fresh_demo_server, tmp_path)
    fresh_demo_server.fail_prefix("/", 503)
    run = crawl(tmp_path)
    assert run.returncode == 1
    assert "every source failed" in run.stderr
    assert all(s["status"] == "failed" for s in run.report["sources"].values())


def test_a_malformed_feed_and_an_unknown_host_fail_only_their_source(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    base = fresh_demo_server.url
    write_sources(
        tmp_path,
        f"""
sources:
  - name: Broken feed
    feed: "{base}/herald/news/2016/11/2016-beijing-csr-annual-summit.html"
  - name: Nowhere
    feed: "http://nowhere.invalid/feed.xml"
  - name: Herald
    feed: "{base}/herald/feed.xml"
""",
    )
    run = crawl(tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    sources = run.report["sources"]
    assert sources["Broken feed"]["status"] == "failed"
    assert any("feed" in e for e in sources["Broken feed"]["errors"])
    assert sources["Nowhere"]["status"] == "failed"
    assert sources["Herald"]["new"] >= 10


def test_an_invalid_sources_file_fetches_nothing(fresh_demo_server: Any, tmp_path: Path) -> None:
    base = fresh_demo_server.url
    sources = write_sources(
        tmp_path,
        f"""
sources:
  - name: Herald
    feed: "{base}/herald/feed.xml"
  - name: Weekly
    start_urls: ["{base}/weekly/list/1.html"]
    article_links: "/weekly/(story"
""",
    )
    fresh_demo_server.clear_log()
    run = crawl(tmp_path)
    assert run.returncode == 2
    assert str(sources) in run.stderr and "'Weekly'" in run.stderr
    assert "article_links" in run.stderr
    assert fresh_demo_server.request_log == []
    assert not (tmp_path / "content" / "news").exists()


def test_a_new_story_is_the_only_page_fetched(fresh_demo_server: Any, tmp_path: Path) -> None:
    _demo_sources(fresh_demo_server, tmp_path)
    assert crawl(tmp_path).returncode == 0
    story = fresh_demo_server.add_story(
        {
            "id": "2020-new-csr-report-test",
            "publisher": "herald",
            "lang": "en",
            "title": "Test company publishes its first CSR report",
            "date": "2020-03-02",
            "summary": "A new story.",
        },
        "Test company published its first corporate social responsibility report on Monday, "
        "covering labour conditions at its forty suppliers and the energy use of its plants.\n\n"
        "The report follows the GRI Standards and was reviewed by an independent assurance "
        "provider, the company said.",
    )
    fresh_demo_server.clear_log()
    run = crawl(tmp_path)
    assert run.returncode == 0
    herald = run.report["sources"]["The CSR Herald"]
    assert herald["new"] == 1
    story_requests = [
        r.path
        for r in fresh_demo_server.request_log
        if r.path not in ("/robots.txt",)
        and "feed" not in r.path
        and "atom" not in r.path
        and "sitemap" not in r.path
        and "/list/" not in r.path
    ]
    assert story_requests == [story.path]
    files = [read_story(p) for p in iter_story_files(tmp_path / "content")]
    assert [f for f in files if url_key(f.get("Source_url")) == url_key(story.url)]


def test_excerpt_sources_keep_the_lead_and_a_sidecar(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    base = fresh_demo_server.url
    write_sources(
        tmp_path,
        f"""
contact: https://example.org/csrnews-contact
sources:
  - name: The CSR Herald
    feed: "{base}/herald/feed.xml"
    republish: excerpt
""",
    )
    run = crawl(tmp_path)
    assert run.returncode == 0
    stories = [read_story(p) for p in iter_story_files(tmp_path / "content")]
    assert stories
    for story in stories:
        assert story.get("Republish") == "excerpt"
        assert story.path is not None
        sidecar = story.path.with_name(story.path.stem + FULLTEXT_SUFFIX)
        full = sidecar.read_text(encoding="utf-8")
        assert len(full) > len(story.body) / 2
        assert f"]({story.get('Source_url')})" in story.body
        paragraphs = [p for p in story.body.split("\n\n") if p.strip()]
        assert len(paragraphs) <= 3
    agents = {r.headers.get("User-Agent") for r in fresh_demo_server.request_log}
    assert agents == {"csrnews/0.1 (+https://example.org/csrnews-contact)"}


def test_a_crawl_killed_mid_run_and_run_again_is_consistent(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    sources = _demo_sources(fresh_demo_server, tmp_path)
    content = tmp_path / "content"
    args = [
        sys.executable,
        "-m",
        "csrnews",
        "crawl",
        "--sources",
        str(sources),
        "--content",
        str(content),
        "--state",
        str(tmp_path / "var"),
        "--delay",
        "0",
        "-q",
    ]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(iter_story_files(content))) < 5:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(list(iter_story_files(content)))
    assert written >= 5, "the crawl was killed before it wrote anything"
    served = [s for s in fresh_demo_server.stories if "robots_disallowed" not in s.flags]
    assert written < len(served), "the crawl finished before it was killed; nothing tested"
    run = crawl(tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    files = list(iter_story_files(content))
    assert not [p for p in content.rglob("*") if p.name.startswith(".")]
    assert len(files) == len(served)
    keys = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not is_edited(text), path
        story = read_story(path)
        keys.append(url_key(story.get("Source_url")))
        keys += [url_key(u) for u in story.get_list("Also_reported_by")]
    assert len(keys) == len(set(keys))


def test_the_run_timeout_stops_the_crawl_and_the_next_run_finishes_it(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    _demo_sources(fresh_demo_server, tmp_path)
    name = "The CSR Herald"
    herald = [s for s in fresh_demo_server.stories if s.publisher == "herald"]
    run = crawl(tmp_path, "--source", name, "--timeout", "0.05")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.report["timed_out"] is True
    assert list(run.report["sources"]) == [name]
    assert run.report["sources"][name]["new"] < len(herald)
    assert "run timeout" in run.stderr
    assert run.report["sources"][name]["finish_reason"] == "shutdown"
    again = crawl(tmp_path, "--source", name)
    assert again.report["timed_out"] is False
    assert f"source {name}: ok" in again.stderr  # progress while it works
    keys = {
        url_key(read_story(p).get("Source_url")) for p in iter_story_files(tmp_path / "content")
    }
    assert {url_key(s.url) for s in herald} <= keys


def test_the_original_replaces_a_reprint_crawled_before_it(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    _demo_sources(fresh_demo_server, tmp_path)
    demo = next(s for s in fresh_demo_server.stories if s.reprinted_by == "review")
    assert crawl(tmp_path, "--source", "Supply Chain Responsibility Review").returncode == 0
    content = tmp_path / "content"
    before = {p: read_story(p) for p in iter_story_files(content)}
    reprint = [
        s for s in before.values() if url_key(s.get("Source_url")) == url_key(demo.reprint_url)
    ]
    assert len(reprint) == 1
    run = crawl(tmp_path, "--source", "The CSR Herald")
    assert run.returncode == 0
    assert run.report["sources"]["The CSR Herald"]["merged"] == 1
    after = {p: read_story(p) for p in iter_story_files(content)}
    story = after[reprint[0].path]  # the same file, now the original's
    assert url_key(story.get("Source_url")) == url_key(demo.url)
    assert story.get("Source") == "The CSR Herald"
    assert [url_key(u) for u in story.get_list("Also_reported_by")] == [url_key(demo.reprint_url)]
    assert sum(1 for s in after.values() if s.title == demo.title) == 1


def test_the_source_timeout_stops_only_that_source(fresh_demo_server: Any, tmp_path: Path) -> None:
    _demo_sources(fresh_demo_server, tmp_path)
    run = crawl(tmp_path, "--source", "The CSR Herald", "--source-timeout", "0.05")
    assert run.returncode == 0, run.stderr[-2000:]
    herald = run.report["sources"]["The CSR Herald"]
    assert herald["finish_reason"] == "closespider_timeout"
    assert any("stopped early" in e for e in herald["errors"])
