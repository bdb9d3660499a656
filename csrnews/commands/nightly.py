"""The `csrnews nightly` and `csrnews rollback` commands."""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

import click

from csrnews import console
from csrnews.commands.build import search_shard_target_option
from csrnews.options import content_option, sources_option

DEFAULT_ROOT = "var/site"

root_option = click.option(
    "--root",
    default=DEFAULT_ROOT,
    show_default=True,
    envvar="CSRNEWS_ROOT",
    type=click.Path(file_okay=False),
    help="The nightly folder: releases/, current and previous links, reports/, logs/, state/.",
)


@click.command("nightly")
@root_option
@sources_option
@content_option
@click.option(
    "--state",
    "state_dir",
    default=None,
    envvar="CSRNEWS_STATE",
    type=click.Path(file_okay=False),
    help="The crawl state folder (default: ROOT/state).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3 * 3600,
    show_default=True,
    help="Seconds the whole run may take (0: no limit).",
)
@click.option(
    "--source-timeout",
    type=click.FloatRange(min=0),
    default=900,
    show_default=True,
    help="Seconds one source's crawl may take.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds between requests to one site (default from the crawler settings).",
)
@click.option(
    "--keep-releases",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Releases kept on disk (current and previous are always kept); the oldest one past "
    "the limit is deleted before the build, which starts from its site.",
)
@click.option(
    "--keep-reports",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="JSON run reports kept under ROOT/reports/.",
)
@click.option(
    "--publish-hook",
    metavar="COMMAND",
    envvar="CSRNEWS_PUBLISH_HOOK",
    help="A shell command run after a successful publish (e.g. an rsync); it gets "
    "CSRNEWS_SITE, CSRNEWS_INDEX, CSRNEWS_RELEASE and CSRNEWS_ROOT.",
)
@click.option(
    "--hook-timeout",
    type=click.FloatRange(min=1),
    default=900,
    show_default=True,
    help="Seconds the publish hook may take.",
)
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0),
    default=72,
    show_default=True,
    help="Hours without a successful crawl after which a source is shown as stale.",
)
@click.option(
    "--site-url",
    default="",
    envvar="CSRNEWS_SITEURL",
    help="The public URL of the site, with its path if any (https://example.org/csr), "
    "passed to `csrnews build --site-url`; empty: SITEURL of the settings file.",
)
@click.option(
    "--static-search/--no-static-search",
    default=True,
    show_default=True,
    help="Bring the static search (Pagefind) up to date after the new release is live "
    "(only the shards whose stories changed; the publish does not wait for it).",
)
@search_shard_target_option
@click.option(
    "--build-arg",
    "build_args",
    multiple=True,
    metavar="ARG",
    help="An extra argument passed to `csrnews build` (repeatable), e.g. "
    "--build-arg=--theme --build-arg=mytheme.",
)
@click.option(
    "--build-command",
    metavar="COMMAND",
    envvar="CSRNEWS_BUILD_COMMAND",
    help="The build to run instead of `csrnews build` (split like a shell line, "
    "e.g. 'nice -n 10 csrnews build'); it gets --content, --output, --index.",
)
@click.option(
    "--no-crawl",
    is_flag=True,
    help="Skip the crawl: build, index and publish the content as it is (the editors' desk "
    "runs this for its rebuild button).",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    envvar="CSRNEWS_REDIS",
    help="Crawl with the workers of a distributed crawl (redis://HOST:PORT/DB; default: the "
    "sources file's `redis:` key): seed the frontier, ingest until it drains, then build.",
)
@click.option(
    "--until-idle",
    type=click.FloatRange(min=0.5),
    default=10,
    show_default=True,
    help="With Redis: seconds the frontier and the item queue must stay empty (or no worker "
    "alive) before the crawl counts as done.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show the steps as they run (-vv: debug); the log file has them anyway.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print only the closing line and problems (for cron mail)."
)
def nightly(
    root: str,
    sources: str,
    content: str,
    state_dir: str | None,
    timeout: float,
    source_timeout: float,
    delay: float | None,
    keep_releases: int,
    keep_reports: int,
    publish_hook: str | None,
    hook_timeout: float,
    stale_after: float,
    site_url: str,
    static_search: bool,
    search_shard_target: int | None,
    build_args: tuple[str, ...],
    build_command: str | None,
    no_crawl: bool,
    redis_url: str | None,
    until_idle: float,
    verbose: int,
    quiet: bool,
) -> None:
    """Crawl, index, build and publish atomically; report what changed.

    The site is built into ROOT/releases/<run> and made live by swapping the ROOT/current
    symlink; the release it replaces stays as ROOT/previous for `csrnews rollback`. Serve
    ROOT/current/site and ROOT/current/index. Exit codes: 0 all good, 1 failed (nothing
    published), 2 usage or invalid sources file, 3 partial (published, some sources failed),
    4 published but the publish hook failed, 75 another run holds the lock.
    """
    from csrnews.commands.distributed import resolve_redis
    from csrnews.nightly.report import summary_text
    from csrnews.nightly.run import NightlyOptions, run_nightly

    # `csrnews -v nightly` counts as much as `csrnews nightly -v`.
    root_level = logging.getLogger().level
    if root_level and root_level <= logging.INFO:
        verbose = max(verbose, 2 if root_level <= logging.DEBUG else 1)
    report = run_nightly(
        NightlyOptions(
            root=Path(root),
            sources=Path(sources),
            content=Path(content),
            state=Path(state_dir) if state_dir else None,
            timeout=timeout,
            source_timeout=source_timeout,
            delay=delay,
            keep_releases=keep_releases,
            keep_reports=keep_reports,
            publish_hook=publish_hook,
            hook_timeout=hook_timeout,
            build_args=[*(["--site-url", site_url] if site_url else []), *build_args],
            static_search=static_search,
            search_shard_target=search_shard_target,
            build_command=shlex.split(build_command) if build_command else None,
            stale_after_hours=stale_after,
            verbose=verbose,
            crawl=not no_crawl,
            redis=resolve_redis(redis_url, sources, strict=False),
            until_idle=until_idle,
        )
    )
    code = report.exit_code if report.exit_code is not None else 1
    text = summary_text(report)
    if quiet:
        for message in report.warnings:
            console.warn(message)
        for message in report.errors:
            console.error(message)
        console.summary(text.splitlines()[0])
    else:
        console.summary(text)
    raise SystemExit(code)


@click.command("rollback")
@root_option
def rollback(root: str) -> None:
    """Make the previous release live again (run it twice to undo).

    Swaps the ROOT/current and ROOT/previous symlinks atomically. Exits 1 when there is no
    previous release, 75 while a nightly run holds the lock.
    """
    from csrnews.nightly import EXIT_FAILED, EXIT_LOCKED
    from csrnews.nightly.lock import LockedError, RunLock
    from csrnews.nightly.release import ReleaseError, Releases

    lock = RunLock(Path(root) / "lock")
    try:
        lock.acquire()
    except LockedError as exc:
        console.error(str(exc))
        raise SystemExit(EXIT_LOCKED) from None
    try:
        live, previous = Releases(root).rollback()
    except ReleaseError as exc:
        console.error(str(exc))
        raise SystemExit(EXIT_FAILED) from None
    finally:
        lock.release()
    console.summary(f"rolled back: {live.name} is live again; {previous.name} is now previous")
