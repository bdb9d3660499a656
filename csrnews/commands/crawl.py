"""The `csrnews crawl` command."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrnews import console
from csrnews.commands.distributed import redis_option
from csrnews.options import content_option, quiet_option, sources_option
from csrnews.story import settings
from csrnews.tables import text_table


def format_report(report: object) -> str:
    """The per-source summary table as plain text (one row a source), each source's problems
    below it."""
    from csrnews.crawler.report import COUNTERS, CrawlReport

    assert isinstance(report, CrawlReport)
    sources = list(report.sources.values())
    rows = [[src.name, src.status, *(getattr(src, c) for c in COUNTERS)] for src in sources]
    lines = [text_table(["source", "status", *COUNTERS], rows, "ll" + "r" * len(COUNTERS))]
    for src in sources:
        notes = [src.skipped_note()] if src.skipped_note() else []
        notes += [f"! {problem}" for problem in src.errors[:5]]
        if len(src.errors) > 5:
            notes.append(f"! … and {len(src.errors) - 5} more")
        if notes:
            lines += [f"{src.name}:", *(f"    {note}" for note in notes)]
    return "\n".join(lines)


def print_report(report: object) -> None:
    """The per-source summary table (stdout, unless quiet) and the closing one-line summary."""
    from csrnews.crawler.report import CrawlReport

    assert isinstance(report, CrawlReport)
    if not console.is_quiet():
        console.out.print(format_report(report), markup=False)
    else:
        for src in report.sources.values():
            if src.status == "failed":
                console.error(f"source {src.name} failed: {'; '.join(src.errors[:3])}")
            elif src.offsite:
                console.warn(f"source {src.name}: {src.skipped_note()}")
    console.summary(report.summary_line())


@click.command("crawl")
@sources_option
@content_option
@click.option(
    "--state",
    "state_dir",
    default=settings.STATE_DIR,
    show_default=True,
    envvar="CSRNEWS_STATE",
    type=click.Path(file_okay=False),
    help="The crawl state folder (HTTP validators, stored URLs, run journal).",
)
@click.option(
    "--source", "only", multiple=True, metavar="NAME", help="Crawl only this source (repeatable)."
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds between requests to one site (AutoThrottle's start delay too); "
    "default from csrnews.crawler.settings, 0 on loopback tests.",
)
@click.option(
    "--source-timeout",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop a source after this many seconds (0: no limit).",
)
@click.option(
    "--timeout",
    "run_timeout",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop the whole run after this many seconds (0: no limit).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Also write the run's report as JSON to this file.",
)
@redis_option(
    "Crawl as a worker of a distributed crawl: requests come from and go to the shared "
    "frontier in Redis (redis://HOST:PORT/DB), stories go to its item queue for `csrnews "
    "ingest`. Default: the sources file's `redis:` key; without either, a local crawl."
)
@click.option(
    "--seed",
    is_flag=True,
    help="With Redis: put the sources' start requests (feeds, sitemaps, listings) into the "
    "frontier and exit. Run it where the crawl state is, beside `csrnews ingest`.",
)
@click.option(
    "--until-idle",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="With Redis: stop the worker once the frontier has been empty this many seconds "
    "(0: run until stopped).",
)
@click.option(
    "--worker-ttl",
    type=click.FloatRange(min=1),
    default=30,
    show_default=True,
    help="With Redis: seconds without this worker's heartbeat after which the other "
    "processes put its unfinished requests back into the frontier.",
)
@quiet_option
def crawl(
    sources: str,
    content: str,
    state_dir: str,
    only: tuple[str, ...],
    delay: float | None,
    source_timeout: float,
    run_timeout: float,
    report_path: str | None,
    redis_url: str | None,
    seed: bool,
    until_idle: float,
    worker_ttl: float,
) -> None:
    """Crawl every source in the sources file and write or update story files.

    With --redis (or `redis:` in the sources file) the crawl is a worker of a distributed
    crawl instead: it takes requests from the shared frontier and queues the stories it
    extracts for `csrnews ingest`, the single writer; with --seed it only puts the sources'
    start requests into the frontier. See docs/operations.md.

    Exits 2 when the sources file is invalid (nothing is fetched), 1 when every source failed
    or the crawl state (or Redis) cannot be read.
    """
    from csrnews.commands import distributed

    url = distributed.resolve_redis(redis_url, sources)
    if url and seed:
        distributed.run_seed_command(sources, content, state_dir, url, only=list(only) or None)
        return
    if url:
        distributed.run_worker_command(
            sources,
            url,
            only=list(only) or None,
            delay=delay,
            until_idle=until_idle,
            run_timeout=run_timeout,
            worker_ttl=worker_ttl,
            report_path=report_path,
        )
        return
    if seed or until_idle:
        console.error("--seed and --until-idle are for a distributed crawl: give --redis URL")
        raise SystemExit(2)
    from csrnews.crawler.run import crawl as run_crawl
    from csrnews.crawler.sources import SourcesError
    from csrnews.crawler.state import StateError

    try:
        report = run_crawl(
            sources,
            content,
            state_dir,
            delay=delay,
            source_timeout=source_timeout,
            run_timeout=run_timeout,
            only=list(only) or None,
            on_event=console.info,
        )
    except SourcesError as exc:
        console.error(str(exc))
        raise SystemExit(2) from None
    except StateError as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    if report_path:
        Path(report_path).write_text(
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
    print_report(report)
    if report.all_failed:
        console.error("every source failed")
        raise SystemExit(1)
