"""The static search's shard target as an operator option of `csrnews build` and `csrnews nightly`
(less memory while Pagefind writes a shard, more shards for the browser to fetch)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from csrnews.search.filemap import StoryFile
from csrnews.search.staticsearch import (
    SHARD_BYTES,
    SHARD_TARGET,
    build_static_search,
    stories_a_shard,
)

from csrnews.commands.build import build
from csrnews.commands.nightly import nightly
from csrnews.nightly.report import NightlyReport
from csrnews.nightly.run import NightlyOptions, _Run
from tests.golden_site import SAMPLES

# the 13 sample stories: 6 of 2024, 7 of 2025 (one shard by default)
BY_YEAR = ["2024", "2025"]
BY_FIVE = ["2024.1", "2024.2", "2025.1", "2025.2"]


def _shard_ids(site: Path) -> list[str]:
    listing = json.loads((site / "pagefind" / "shards.json").read_text(encoding="utf-8"))
    return [shard["id"] for shard in listing["shards"]]


@pytest.mark.slow  # two builds with the static search: about 5 s
def test_csrnews_build_takes_a_search_shard_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, out = tmp_path / "content", tmp_path / "out"
    shutil.copytree(SAMPLES, content)
    args = ["--quiet", "--content", str(content), "--output", str(out), "--no-index"]
    done = CliRunner().invoke(build, [*args, "--search-shard-target", "10"])
    assert done.exit_code == 0, done.output
    assert _shard_ids(out) == BY_YEAR
    # from the environment too (a nightly's build, the editors' desk): every shard it changes
    # is built again
    monkeypatch.setenv("CSRNEWS_SEARCH_SHARD_TARGET", "5")
    again = CliRunner().invoke(build, args)
    assert again.exit_code == 0, again.output
    assert _shard_ids(out) == BY_FIVE


@pytest.mark.parametrize("command", [build, nightly], ids=["build", "nightly"])
@pytest.mark.parametrize("bad", ["0", "-4000", "many", "4000.5"])
def test_a_bad_search_shard_target_is_refused(
    command: click.Command, bad: str, tmp_path: Path
) -> None:
    refused = CliRunner().invoke(command, ["--search-shard-target", bad])
    assert refused.exit_code == 2
    assert "Invalid value for '--search-shard-target'" in refused.output
    from_env = CliRunner().invoke(command, [], env={"CSRNEWS_SEARCH_SHARD_TARGET": bad})
    assert from_env.exit_code == 2
    assert "--search-shard-target" in from_env.output


@pytest.mark.parametrize("command", [build, nightly], ids=["build", "nightly"])
def test_the_help_says_the_memory_and_bytes_trade(command: click.Command) -> None:
    shown = CliRunner().invoke(command, ["--help"], terminal_width=200)
    text = " ".join(shown.output.split())
    assert f"(default {SHARD_TARGET}; fewer when the stories are long" in text
    assert "less memory" in text and "bytes a query" in text and "again, once" in text


def test_the_nightly_builds_the_static_search_with_its_shard_target(tmp_path: Path) -> None:
    content, root = tmp_path / "content", tmp_path / "root"
    shutil.copytree(SAMPLES, content)
    (root / "current" / "site").mkdir(parents=True)  # the live release's site
    options = NightlyOptions(root=root, sources=tmp_path, content=content, search_shard_target=5)
    report = NightlyReport(run_id="test", started_at="now", published=True)
    _Run(options.resolved(), report).static_search()
    assert not report.warnings, report.warnings
    assert report.static_search["shards"] == len(BY_FIVE)
    assert _shard_ids(root / "current" / "site") == BY_FIVE


def test_the_largest_shards_are_built_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Beside a full build's site, which grows as it works, Pagefind's peaks come early."""
    site = tmp_path / "site"
    site.mkdir()
    caplog.set_level(logging.INFO, logger="csrnews.search.staticsearch")
    stats = build_static_search(SAMPLES, site, target=10)
    built = [r.args[0] for r in caplog.records if r.msg.startswith("static search: building")]
    assert built == ["2025", "2024"]  # 7 stories, then 6
    assert stats.built == 2 and _shard_ids(site) == BY_YEAR  # listed oldest first as before


def _stories(count: int, size: int, sidecar: int = -1) -> list[StoryFile]:
    """Story files of ``size`` bytes (and a full-text sidecar of ``sidecar``), as scanned."""
    return [
        StoryFile(
            f"news/2025/s{i}.md",
            f"/nowhere/news/2025/s{i}.md",
            None,
            (size, 1, 1, i, sidecar, 1 if sidecar >= 0 else -1, -1, -1),
        )
        for i in range(count)
    ]


def test_long_stories_make_smaller_shards_so_pagefinds_memory_stays_bounded() -> None:
    # the bench's stories (2.8 kB on average) keep the target: 2,000 of them are 5.6 MB
    assert stories_a_shard(_stories(50, 2_800)) == SHARD_TARGET == 2_000
    # twice as long: 1,000 a shard (two steps of √2), 5.6 MB; sidecars count with their files
    assert stories_a_shard(_stories(50, 5_600)) == 1_000
    assert stories_a_shard(_stories(50, 1_600, sidecar=4_000)) == 1_000
    # every step a factor of √2 from the target; at most the budget's worth of text a shard
    for size in (3_000, 7_000, 20_000, 100_000, 5_000_000, 50_000_000):
        chosen = stories_a_shard(_stories(10, size))
        assert chosen * size <= SHARD_BYTES or chosen == 1
        assert chosen == 1 or round(chosen * 2**0.5) * size > SHARD_BYTES * 0.99
    # an operator's lower target stays as it is; no stories, no change
    assert stories_a_shard(_stories(50, 5_600), target=1_000) == 1_000
    assert stories_a_shard([], target=4_000) == 4_000


def test_a_nights_few_new_and_longer_stories_do_not_move_the_shards() -> None:
    # the layout changes only when the mean size crosses a step (√2 apart)
    corpus = _stories(20_000, 3_900)  # 1,538 stories' worth a shard: 1,414
    night = _stories(70, 9_000)  # much longer than the rest
    assert stories_a_shard(corpus) == stories_a_shard(corpus + night) == 1_414


@pytest.mark.slow  # one build with the static search: about 3 s
def test_the_static_search_splits_long_stories_into_more_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample stories (about 0.6 kB) with a budget of 3 kB a shard: four stories a shard
    at most (the step below 6), so each year is split in two."""
    from csrnews.search import staticsearch

    content, site = tmp_path / "content", tmp_path / "site"
    shutil.copytree(SAMPLES, content)
    monkeypatch.setattr(staticsearch, "SHARD_BYTES", 3_000)
    sizes = [p.stat().st_size for p in (content / "news").rglob("*.md")]
    assert 3_000 / 6 < sum(sizes) / len(sizes) < 3_000 / 4
    stats = build_static_search(content, site)
    assert _shard_ids(site) == BY_FIVE and stats.stories == 12
