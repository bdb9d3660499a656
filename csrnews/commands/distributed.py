"""The distributed side of `csrnews crawl --redis`: a worker, or the seed (thin CLI helpers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from csrnews import console


def redis_option(help_text: str) -> Any:
    """--redis URL (also $CSRNEWS_REDIS), with the command's own help text."""
    return click.option(
        "--redis", "redis_url", metavar="URL", envvar="CSRNEWS_REDIS", help=help_text
    )


def resolve_redis(redis_url: str | None, sources: str, *, strict: bool = True) -> str | None:
    """--redis, else the sources file's `redis:` key. An invalid sources file exits 2, or with
    `strict=False` gives None (the crawl step then reports it)."""
    if redis_url:
        return redis_url
    from csrnews.crawler.sources import SourcesError, load_sources

    if not Path(sources).is_file():
        return None
    try:
        return load_sources(sources).redis
    except SourcesError as exc:
        if not strict:
            return None
        console.error(str(exc))
        raise SystemExit(2) from None


def run_worker_command(
    sources: str,
    redis_url: str,
    *,
    only: list[str] | None,
    delay: float | None,
    until_idle: float,
    run_timeout: float,
    worker_ttl: float,
    report_path: str | None,
) -> None:
    """`csrnews crawl --redis URL`: crawl from the frontier; print a closing summary line."""
    from csrnews.crawler.distributed import DistributedError
    from csrnews.crawler.distributed.worker import run_worker
    from csrnews.crawler.sources import SourcesError

    try:
        result = run_worker(
            sources,
            redis_url,
            delay=delay,
            until_idle=until_idle,
            run_timeout=run_timeout,
            worker_ttl=worker_ttl,
            only=only,
            on_event=console.info,
        )
    except SourcesError as exc:
        console.error(str(exc))
        raise SystemExit(2) from None
    except DistributedError as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    report = result.report
    if report_path:
        data = {
            **report.as_dict(),
            "worker": result.worker_id,
            "queued": result.queued,
            "stopped": result.stopped_because,
        }
        Path(report_path).write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    for src in report.sources.values():
        console.info(
            f"source {src.name}: {src.fetched} fetched, {src.unchanged} unchanged, "
            f"{src.skipped} skipped, {src.failed} failed"
        )
    console.summary(
        f"Done: worker {result.worker_id}: {len(report.sources)} sources: "
        f"{report.total('fetched')} fetched, {result.queued} stories queued for the writer, "
        f"{report.total('unchanged')} unchanged, {report.total('skipped')} skipped, "
        f"{report.total('failed')} failed in {report.seconds:.1f} seconds "
        f"({result.stopped_because})"
    )


def run_seed_command(
    sources: str, content: str, state_dir: str, redis_url: str, *, only: list[str] | None
) -> None:
    """`csrnews crawl --redis URL --seed`: the start requests into the frontier; one line."""
    from csrnews.crawler.distributed import DistributedError
    from csrnews.crawler.distributed.connect import redacted
    from csrnews.crawler.distributed.worker import seed
    from csrnews.crawler.sources import SourcesError
    from csrnews.crawler.state import StateError

    try:
        result = seed(sources, content, state_dir, redis_url, only=only)
    except SourcesError as exc:
        console.error(str(exc))
        raise SystemExit(2) from None
    except (DistributedError, StateError) as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    ex = result.exported
    console.info(
        f"seed: {'a new round' if result.new_round else 'joining the round under way'}; "
        f"the workers know {ex['stories']} stored story URLs, {ex['docs']} index documents"
    )
    queued, leased, workers = result.frontier
    console.summary(
        f"Seeded {result.pushed} start requests of {result.sources} sources into "
        f"{redacted(redis_url)} ({result.already} already in this round); frontier: "
        f"{queued} queued, {leased} in flight, {workers} workers alive"
    )
