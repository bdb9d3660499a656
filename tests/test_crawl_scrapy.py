"""Scrapy's own commands in the checkout: `scrapy list` and `scrapy crawl NAME` (scrapy.cfg).

`scrapy crawl` of one demo source writes the same story files, into the same state, as
`csrnews crawl --source` does: a `csrnews crawl` after it finds nothing new.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.crawler.run import scrapy_settings
from csrnews.crawler.sources import load_sources
from csrnews.crawler.spiderloader import spider_name

from csrnews.demo.server import render_sources, start_demo_server
from csrnews.story.storyfile import is_edited, iter_story_files, read_story
from tests.conftest import ROOT, run_cli

SCRAPY = str(Path(sys.executable).with_name("scrapy"))
LOOPBACK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]


@pytest.fixture(scope="module")
def publisher() -> Iterator[Any]:
    server = start_demo_server(port=0)
    try:
        yield server
    finally:
        server.stop()


def _scrapy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRAPY, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")},
    )


def test_scrapy_list_in_the_checkout_names_one_spider_per_source() -> None:
    result = _scrapy("list")
    assert result.returncode == 0, result.stderr
    names = result.stdout.split()
    sources = load_sources(ROOT / "sources.yaml").sources
    assert names == sorted(spider_name(s) for s in sources)
    assert len(names) == len(sources) >= 2


def test_the_run_settings_keep_scrapys_priorities() -> None:
    config = load_sources(ROOT / "sources.yaml")
    settings = scrapy_settings(config, delay=0, source_timeout=12)
    assert settings.getpriority("ROBOTSTXT_OBEY") == settings.getpriority("RETRY_TIMES") == 20
    assert settings.getpriority("DOWNLOAD_DELAY") == 40  # the run's value, over the project's
    assert settings["USER_AGENT"] == config.user_agent
    assert settings.getfloat("DOWNLOAD_TIMEOUT") == 4.0  # 12 s for a request and 2 retries
    assert "csrnews.crawler.pipelines.write.WritePipeline" in settings.getdict("ITEM_PIPELINES")


@pytest.mark.slow
def test_scrapy_crawl_writes_the_same_story_files_as_csrnews_crawl(
    publisher: Any, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(render_sources(publisher.url), encoding="utf-8")
    herald = next(s for s in load_sources(sources).sources if s.kind == "feed")
    content, state = tmp_path / "content", tmp_path / "var"
    where = ["-s", f"CSRNEWS_SOURCES={sources}", "-s", f"CSRNEWS_CONTENT={content}"]
    where += ["-s", f"CSRNEWS_STATE={state}"]
    listed = _scrapy("list", *where)
    assert spider_name(herald) in listed.stdout.split(), listed.stderr
    result = _scrapy("crawl", spider_name(herald), *where, *LOOPBACK)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    written = list(iter_story_files(content))
    assert len(written) >= 10
    for path in written:
        story = read_story(path)
        assert story.get("Source") == herald.name and not is_edited(path.read_text("utf-8"))
    assert "new" in result.stderr and herald.name in result.stderr  # the closing summary

    before = {p: p.read_bytes() for p in written}
    again = run_cli(
        "crawl",
        "--sources",
        str(sources),
        "--content",
        str(content),
        "--state",
        str(state),
        "--source",
        herald.name,
        "--delay",
        "0",
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert " 0 new," in again.stdout, again.stdout
    assert {p: p.read_bytes() for p in iter_story_files(content)} == before
    shutil.rmtree(content)
