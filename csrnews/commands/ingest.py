"""The `csrnews ingest` command: the single writer of a distributed crawl."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrnews import console
from csrnews.commands.crawl import print_report
from csrnews.commands.distributed import redis_option, resolve_redis
from csrnews.options import content_option, quiet_option, sources_option
from csrnews.story import settings


@click.command("ingest")
@redis_option(
    "The Redis of the distributed crawl, redis://HOST:PORT/DB (default: the sources file's "
    "`redis:` key)."
)
@sources_option
@content_option
@click.option(
    "--state",
    "state_dir",
    default=settings.STATE_DIR,
    show_default=True,
    envvar="CSRNEWS_STATE",
    type=click.Path(file_okay=False),
    help="The crawl state folder (stored URLs, signatures for near-duplicates, run journal).",
)
@click.option(
    "--until-idle",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop once the item queue and the frontier have been empty (or no worker alive) "
    "this many seconds (0: run until stopped).",
)
@click.option(
    "--timeout",
    "run_timeout",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop after this many seconds (0: no limit); what is left waits in Redis.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Also write the run's report as JSON to this file (the shape of `csrnews crawl`'s).",
)
@quiet_option
def ingest(
    redis_url: str | None,
    sources: str,
    content: str,
    state_dir: str,
    until_idle: float,
    run_timeout: float,
    report_path: str | None,
) -> None:
    """Write the stories the workers of a distributed crawl put into Redis.

    The single writer: it takes each item from the queue, finds near-duplicates against the
    crawl state and writes or updates story files exactly as a local crawl does (editors'
    edits are never overwritten). An item is removed from Redis only after its file is
    written, so a writer killed at any point loses nothing. The sources file is read only for
    source names and its `redis:` key. Exits 1 when Redis cannot be reached or every source
    failed, 2 on an invalid sources file, 75 when another writer holds the lock.
    """
    from csrnews.crawler.distributed import DistributedError
    from csrnews.crawler.distributed.ingest import WriterLocked, run_ingest
    from csrnews.crawler.sources import SourcesError, load_sources
    from csrnews.crawler.state import StateError

    url = resolve_redis(redis_url, sources)
    if not url:
        console.error("no Redis to ingest from: give --redis URL or `redis:` in the sources file")
        raise SystemExit(2)
    names: list[str] = []
    if Path(sources).is_file():
        try:
            names = [s.name for s in load_sources(sources).sources]
        except SourcesError as exc:
            console.error(str(exc))
            raise SystemExit(2) from None
    try:
        report = run_ingest(
            content,
            state_dir,
            url,
            sources=names,
            until_idle=until_idle,
            run_timeout=run_timeout,
            on_event=console.info,
        )
    except WriterLocked as exc:
        console.error(str(exc))
        raise SystemExit(75) from None
    except (DistributedError, StateError) as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    except OSError as exc:  # disk full, permissions: the item stays in Redis for the restart
        console.error(f"cannot write a story file: {exc}; the item waits in Redis for a restart")
        raise SystemExit(1) from None
    if report_path:
        Path(report_path).write_text(
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
    print_report(report)
    if report.all_failed:
        console.error("every source failed")
        raise SystemExit(1)
