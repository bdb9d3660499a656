"""Run a crawl in-process: one Scrapy crawler per source, all sharing one context and report."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csrnews.crawler import settings as defaults
from csrnews.crawler.context import CrawlContext, fill_signatures
from csrnews.crawler.report import CrawlReport
from csrnews.crawler.sources import SourcesConfig, SourcesError, load_sources
from csrnews.crawler.spiderloader import source_spider
from csrnews.crawler.state import CrawlState
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.internet import task

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 5.0  # seconds between progress lines


def scrapy_settings(
    config: SourcesConfig,
    *,
    delay: float | None = None,
    source_timeout: float = 0,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """The Scrapy settings of a run: the project's settings module, the run's values over it.

    csrnews.crawler.settings goes in at Scrapy's "project" priority; what this run decides
    (the sources file's user agent, --delay, --source-timeout, logging) at "cmdline", and
    ``overrides`` (tests, benchmarks) over that.
    """
    settings = Settings()
    settings.setmodule(defaults, priority="project")
    start_delay = defaults.AUTOTHROTTLE_START_DELAY if delay is None else delay
    run: dict[str, Any] = {
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_USER_AGENT": config.user_agent,
        "AUTOTHROTTLE_START_DELAY": start_delay,
        "AUTOTHROTTLE_MAX_DELAY": max(defaults.AUTOTHROTTLE_MAX_DELAY, start_delay),
        "CLOSESPIDER_TIMEOUT": source_timeout or defaults.SOURCE_TIMEOUT,
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": False,  # the CLI configured logging already
        "LOG_LEVEL": "WARNING",
    }
    if delay is not None:
        run["DOWNLOAD_DELAY"] = delay
    if source_timeout:
        # With a per-source limit, one hanging request (and its retries) must fit inside it.
        each = max(1.0, source_timeout / (defaults.RETRY_TIMES + 1))
        run["DOWNLOAD_TIMEOUT"] = min(defaults.DOWNLOAD_TIMEOUT, each)
    settings.setdict(run, priority="cmdline")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


def index_existing(content_dir: str | Path, state_dir: str | Path) -> int:
    """Store the MinHash signature of every story file in a content folder the state lacks.

    What a crawl that wrote those files would have left (their URLs the crawl reads from the
    files themselves). The next crawl would do it at start-up anyway; this does it ahead, so
    a benchmark can measure a crawl into a folder that already holds many stories. Returns how
    many signatures the state holds for the folder's stories.
    """
    state = CrawlState(state_dir)
    try:
        ctx = CrawlContext(content_dir=Path(content_dir), state=state)
        ctx.load()
        fill_signatures(ctx)
        return len(ctx.signatures)
    finally:
        state.close()


def create_process(values: Settings) -> CrawlerProcess:
    """A CrawlerProcess with these settings, logging as the CLI's -v says (not Scrapy's way)."""
    root_level = logging.root.level
    # Scrapy's own log only with -v: the crawl's report says what failed and why.
    scrapy_level = logging.INFO if root_level < logging.WARNING else logging.CRITICAL
    logging.disable(logging.INFO if scrapy_level > logging.INFO else logging.NOTSET)
    try:
        process = CrawlerProcess(values)
    finally:
        logging.disable(logging.NOTSET)
    # Scrapy sets its own loggers to DEBUG and the root to NOTSET; the CLI's -v decides.
    logging.root.setLevel(root_level)
    logging.getLogger("scrapy").setLevel(scrapy_level)
    for noisy in ("trafilatura", "htmldate", "courlan", "justext"):
        # Their per-page warnings ("missing link attribute") are not the operator's business.
        logging.getLogger(noisy).setLevel(
            logging.ERROR if scrapy_level > logging.INFO else logging.NOTSET
        )
    return process


def crawl(
    sources_path: str | Path,
    content_dir: str | Path,
    state_dir: str | Path,
    *,
    delay: float | None = None,
    source_timeout: float = 0,
    run_timeout: float = 0,
    only: list[str] | None = None,
    on_event: Callable[[str], None] | None = None,
    overrides: dict[str, Any] | None = None,
) -> CrawlReport:
    """Crawl every source (or the `only` ones) and write story files; raises SourcesError early.

    Runs Twisted's reactor, so call it once per process (the CLI runs in its own process).
    """
    config = load_sources(sources_path)
    sources = config.sources
    if only:
        unknown = sorted(set(only) - {s.name for s in sources})
        if unknown:
            raise SourcesError(f"{config.path}: no source named {', '.join(unknown)}")
        sources = [s for s in sources if s.name in only]
    say = on_event or (lambda message: None)
    started = time.monotonic()
    content = Path(content_dir)
    content.mkdir(parents=True, exist_ok=True)
    state = CrawlState(state_dir)
    ctx = CrawlContext(content_dir=content, state=state)
    ctx.load()
    fill_signatures(ctx)
    run_id = state.start_run()
    report = ctx.report
    process = create_process(
        scrapy_settings(config, delay=delay, source_timeout=source_timeout, overrides=overrides)
    )

    def done(_: object, name: str, crawler: Any) -> None:
        src = report.source(name)
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        src.finish_reason = str(reason or "")
        if reason and reason != "finished":
            src.errors.append(f"stopped early ({reason}); the next run carries on")
        src.finish()
        say(
            f"source {name}: {src.status} ({src.fetched} fetched, {src.new} new, "
            f"{src.updated} updated, {src.unchanged} unchanged, {src.failed} failed)"
        )

    for source in sources:
        report.source(source.name)
        crawler = process.create_crawler(source_spider(source))
        deferred = process.crawl(crawler, source=source, ctx=ctx)
        deferred.addBoth(done, source.name, crawler)

    def progress() -> None:
        say(
            f"crawl: {report.total('fetched')} pages fetched, {report.total('new')} new, "
            f"{report.total('updated')} updated, {report.total('failed')} failed "
            f"({time.monotonic() - started:.0f} s)"
        )

    # Imported only now: importing it installs a reactor, and Scrapy chose which one above.
    from twisted.internet import reactor as installed

    # Twisted declares the reactor's methods on zope interfaces (without `self`): as Any.
    reactor: Any = installed
    ticker = task.LoopingCall(progress)
    reactor.callWhenRunning(ticker.start, PROGRESS_INTERVAL, False)
    if run_timeout:

        def stop() -> None:
            report.timed_out = True
            say(f"crawl: the run timeout ({run_timeout:g} s) is reached; stopping")
            process.stop()

        reactor.callLater(run_timeout, stop)
    # Everything loaded so far (Scrapy, the enrichment data, the story index of a large site)
    # lives until the end of the run: keep the cyclic GC from walking it again and again.
    gc.freeze()
    try:
        process.start()
    finally:
        gc.unfreeze()
        if ticker.running:
            ticker.stop()
        for src in report.sources.values():
            src.finish()
        report.seconds = time.monotonic() - started
        status = "failed" if report.all_failed else "timeout" if report.timed_out else "ok"
        state.finish_run(run_id, status, report.as_dict())
        state.close()
    return report
