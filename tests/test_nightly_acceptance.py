"""Acceptance of `csrnews nightly` as an operator runs it: the CLI, the real crawl, the real build.

Each run is `python -m csrnews nightly` in a subprocess against the bundled demo publisher; the
published site is served by the real WSGI app on waitress from ROOT/current, as in production.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from csrnews.nightly import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from csrnews.story import settings
from csrnews.story.storyfile import iter_story_files, read_story
from tests.conftest import ROOT, DemoSite, run_cli, wsgi_server
from tests.test_nightly_run import (
    NEW_BODY,
    NEW_STORY,
    from_the_demo_crawl,
    index_count,
    latest_report,
    source_prefix,
    story_files,
    tree_state,
    write_sources,
)

pytestmark = pytest.mark.slow


def nightly_args(tmp_path: Path, sources: Path, *extra: str) -> list[str]:
    return [
        "nightly",
        "--root",
        str(tmp_path / "site"),
        "--sources",
        str(sources),
        "--content",
        str(tmp_path / "content"),
        "--delay",
        "0",
        "--timeout",
        "500",
        "--source-timeout",
        "120",
        *extra,
    ]


def nightly(tmp_path: Path, sources: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*nightly_args(tmp_path, sources, *extra), timeout=560)


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """The live release on waitress, exactly as `csrnews serve` is pointed at it."""
    from csrnews.serve.wsgi import make_app

    with wsgi_server(
        make_app(root / "current" / "site", root / "current" / "index"), threads=2
    ) as url:
        yield url


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode("utf-8", "replace")


def story_page(content: Path, title: str) -> str:
    """The site URL of the story file with this title."""
    for path in iter_story_files(content):
        story = read_story(path)
        if story.title == title:
            return f"/news/{story.get('Date')[:4]}/{story.slug}/"
    raise AssertionError(f"no story file titled {title!r}")


def outcome(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_nightly_publishes_then_is_incremental_then_picks_up_a_new_story_and_a_broken_source(
    fresh_demo_server: Any, tmp_path: Path
) -> None:
    server = fresh_demo_server
    sources = write_sources(server, tmp_path)
    root, content = tmp_path / "site", tmp_path / "content"

    first = nightly(tmp_path, sources)
    assert first.returncode == EXIT_OK, outcome(first)
    assert "published release" in first.stdout and "stories in total" in first.stdout
    total = latest_report(root)["stories_total"]
    assert total >= 40 and index_count(root / "current" / "index") == total
    with serving(root) as url:
        status, home = get(url + "/")
        assert status == 200 and "<html" in home.lower()
        status, body = get(url + "/api/search?q=supply")
        assert status == 200 and json.loads(body)["total"] > 0
        assert get(url + "/status/")[0] == 200

    before = story_files(content)
    second = nightly(tmp_path, sources)
    assert second.returncode == EXIT_OK, outcome(second)
    report = latest_report(root)
    assert sum(s["new"] for s in report["sources"].values()) == 0
    assert story_files(content) == before
    assert report["index"]["added"] == 0 and not report["index"]["rebuilt"]

    server.add_story(NEW_STORY, NEW_BODY)
    third = nightly(tmp_path, sources)
    assert third.returncode == EXIT_OK, outcome(third)
    page = story_page(content, NEW_STORY["title"])
    with serving(root) as url:
        status, html = get(url + page)
        assert status == 200 and "supplier audit" in html.lower()
        query = urllib.parse.quote("supplier audits checklist")
        hits = json.loads(get(url + f"/api/search?q={query}")[1])["hits"]
        assert any(NEW_STORY["title"] in h["title"] for h in hits)

    broken = "Supply Chain Responsibility Review"
    server.fail_prefix(source_prefix(server, broken), 500)
    fourth = nightly(tmp_path, sources)
    assert fourth.returncode == EXIT_PARTIAL, outcome(fourth)
    assert broken in fourth.stdout
    assert os.readlink(root / "current") == f"releases/{latest_report(root)['run_id']}"
    with serving(root) as url:
        status, page_html = get(url + "/status/")
        assert status == 200 and broken in page_html and "Needs attention" in page_html
        assert get(url + "/")[0] == 200


def _theme_copy(tmp_path: Path) -> Path:
    theme = tmp_path / "theme"
    shutil.copytree(settings.THEME_DIR, theme)
    return theme


def _break_theme(theme: Path) -> Path:
    templates = sorted((theme / "templates").glob("*.html"))
    assert templates, f"no templates to break in {theme}"
    victim = next((t for t in templates if t.name == "base.html"), templates[0])
    victim.write_text("{% extends 'nowhere.html' %}{% block broken %}{{ 1 + }}", encoding="utf-8")
    return victim


# `csrnews build` with a theme of the test's own: the real build_site and update_index, with
# build_site's THEME setting pointed at a copy of the theme that the test can break.
THEMED_BUILD = r"""
import argparse
from csrnews.site.build import build_site
from csrnews.search.indexer import update_index
p = argparse.ArgumentParser()
for name in ("--content", "--output", "--index", "--theme", "--previous", "--cache-dir"):
    p.add_argument(name)
p.add_argument("--no-index", action="store_true")
p.add_argument("--no-static-search", action="store_true")
a = p.parse_args()
build_site(
    a.content,
    a.output,
    quiet=True,
    extra_settings={"THEME": a.theme},
    previous=a.previous,
    cache_dir=a.cache_dir,
)
if not a.no_index:
    update_index(a.content, a.index)
"""


def test_a_failing_build_and_a_sigkill_in_the_real_build_keep_the_live_site_then_a_good_run(
    demo_server: Any, demo_site: DemoSite, tmp_path: Path
) -> None:
    """A build that fails, then a run killed in the real build: the same live release (one
    first run for both; they were two tests, test_a_failing_build_leaves_the_previous_site_serving
    and test_sigkill_during_the_real_build_then_a_consistent_run)."""
    from_the_demo_crawl(demo_site, tmp_path)
    sources = write_sources(demo_server, tmp_path)
    root = tmp_path / "site"
    theme = _theme_copy(tmp_path)
    theme_args = (
        "--build-command",
        shlex.join([sys.executable, "-c", THEMED_BUILD]),
        "--build-arg=--theme",
        f"--build-arg={theme}",
    )
    good = nightly(tmp_path, sources, *theme_args)
    assert good.returncode == EXIT_OK, outcome(good)
    live = os.readlink(root / "current")
    site_before = tree_state(root / "current" / "site")
    index_before = tree_state(root / "current" / "index")
    with serving(root) as url:
        home_before = get(url + "/")
        assert home_before[0] == 200

        _break_theme(theme)
        bad = nightly(tmp_path, sources, "--no-crawl", *theme_args)  # (the build is what fails)
        assert bad.returncode == EXIT_FAILED, outcome(bad)
        assert "nothing published" in bad.stdout and "build failed" in bad.stdout
        # The same server, still running, still serves the same site.
        assert get(url + "/") == home_before
        assert json.loads(get(url + "/api/search?q=forum")[1])["total"] > 0
    assert os.readlink(root / "current") == live
    assert tree_state(root / "current" / "site") == site_before
    assert tree_state(root / "current" / "index") == index_before
    assert not list((root / "releases").glob(".building-*"))
    assert latest_report(root)["outcome"] == "failed"

    # A run killed in the real `csrnews build` (the theme's own, not the broken copy).
    log = root / "logs" / "nightly.log"
    earlier = log.stat().st_size  # the runs above wrote their own "step build:" lines
    victim = subprocess.Popen(  # (killed in its build: it goes straight there, no crawl)
        [sys.executable, "-m", "csrnews", *nightly_args(tmp_path, sources, "--no-crawl")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while b"step build:" not in log.read_bytes()[earlier:]:
            assert victim.poll() is None, "the run ended before its build started"
            assert time.monotonic() < deadline, "the build step never started"
            time.sleep(0.05)
        # Into Pelican's work: its staging folder or cache appears in the unfinished release.
        deadline = time.monotonic() + 5
        while not list((root / "releases").glob(".building-*/.*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert os.readlink(root / "current") == live

    after = nightly(tmp_path, sources)
    assert after.returncode == EXIT_OK, outcome(after)
    assert "stale lock" in after.stdout
    assert not list((root / "releases").glob(".building-*"))
    assert os.readlink(root / "previous") == live
    assert index_count(root / "current" / "index") == latest_report(root)["stories_total"]
    with serving(root) as url:
        assert get(url + "/")[0] == 200
