"""A worker (`csrnews crawl --redis URL`) and the seed (`csrnews crawl --redis URL --seed`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csrnews.crawler import settings as defaults
from csrnews.crawler.distributed import keys
from csrnews.crawler.distributed.connect import connect, redacted
from csrnews.crawler.distributed.leases import Heartbeat, Leases
from csrnews.crawler.distributed.shared import SharedState, WorkerContext, export_state
from csrnews.crawler.report import COUNTERS, SKIP_REASONS, CrawlReport
from csrnews.crawler.sources import Source, SourcesConfig, SourcesError, load_sources
from scrapy.settings import Settings

logger = logging.getLogger(__name__)

TICK = 1.0  # seconds between the worker's checks (dead workers, idle frontier, report)
PROGRESS_INTERVAL = 5.0
WORKER_TTL = 30.0  # seconds without a heartbeat after which a worker's requests are requeued
REPORTED = (*COUNTERS, *SKIP_REASONS, "index_ok", "index_failed")


def pick_sources(config: SourcesConfig, only: list[str] | None) -> list[Source]:
    """The sources of the file, or the `only` ones (SourcesError for an unknown name)."""
    if not only:
        return config.sources
    unknown = sorted(set(only) - {s.name for s in config.sources})
    if unknown:
        raise SourcesError(f"{config.path}: no source named {', '.join(unknown)}")
    return [s for s in config.sources if s.name in only]


def worker_settings(
    config: SourcesConfig,
    redis_url: str,
    worker_id: str,
    *,
    delay: float | None = None,
) -> Settings:
    """The local crawl's settings, with scrapy-redis's scheduler, dupefilter and item queue."""
    from csrnews.crawler.run import scrapy_settings

    host_delay = defaults.DOWNLOAD_DELAY if delay is None else delay
    values = scrapy_settings(config, delay=delay)
    values.setdict(
        {
            "REDIS_URL": redis_url,
            "SCHEDULER": "csrnews.crawler.distributed.scheduler.LeasedScheduler",
            "SCHEDULER_QUEUE_CLASS": "csrnews.crawler.distributed.queue.LeasedPriorityQueue",
            "SCHEDULER_QUEUE_KEY": keys.SCHEDULER_QUEUE_KEY,
            "SCHEDULER_DUPEFILTER_KEY": keys.SCHEDULER_DUPEFILTER_KEY,
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,  # the frontier is shared: a worker never clears it
            "SCHEDULER_SERIALIZER": "csrnews.crawler.distributed.serializer",
            "REDIS_ITEMS_KEY": keys.ITEMS,
            "REDIS_ITEMS_SERIALIZER": "csrnews.crawler.distributed.items.dumps",
            "ITEM_PIPELINES": {
                "csrnews.crawler.pipelines.extract.ExtractPipeline": 100,
                "csrnews.crawler.pipelines.enrich.EnrichPipeline": 200,
                "csrnews.crawler.distributed.pipeline.ItemQueuePipeline": 300,
            },
            "DOWNLOADER_MIDDLEWARES": {
                "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                "csrnews.crawler.distributed.politeness.SharedRobotsTxtMiddleware": 100,
            },
            "DOWNLOAD_HANDLERS": {
                "http": "csrnews.crawler.distributed.politeness.PoliteDownloadHandler",
                "https": "csrnews.crawler.distributed.politeness.PoliteDownloadHandler",
            },
            "DISTRIBUTED_HOST_DELAY": host_delay,
            # A worker holds no more of a source's requests than it can download at once, so
            # that the others get their share and a dead worker's share is small.
            "DISTRIBUTED_MAX_LEASES": defaults.CONCURRENT_REQUESTS_PER_DOMAIN,
            "CLOSESPIDER_TIMEOUT": 0,  # a worker's sources never finish on their own
            "CSRNEWS_WORKER_ID": worker_id,
        },
        priority="cmdline",
    )
    return values


class ReportSender:
    """Sends a worker's per-source counters to the writer as deltas on the item queue."""

    def __init__(self, server: Any, report: CrawlReport) -> None:
        self.server = server
        self.report = report
        self.sent: dict[str, dict[str, int]] = {}
        self.errors_sent: dict[str, int] = {}

    def send(self, *, force: bool = False) -> None:
        from csrnews.crawler.distributed.items import dumps

        records = []
        for name, src in self.report.sources.items():
            before = self.sent.setdefault(name, dict.fromkeys(REPORTED, 0))
            now = {c: int(getattr(src, c)) for c in REPORTED}
            delta = {c: now[c] - before[c] for c in REPORTED if now[c] != before[c]}
            errors = src.errors[self.errors_sent.get(name, 0) :]
            if delta or errors or (force and name not in self.errors_sent):
                records.append(
                    {"kind": "report", "source": name, "counts": delta, "errors": errors}
                )
                self.sent[name] = now
                self.errors_sent[name] = len(src.errors)
        if records:
            self.server.rpush(keys.ITEMS, *(dumps(r) for r in records))


@dataclass
class WorkerResult:
    """What one worker did."""

    worker_id: str
    report: CrawlReport
    queued: int
    requeued_by_me: int
    stopped_because: str


def run_worker(
    sources_path: str | Path,
    redis_url: str,
    *,
    delay: float | None = None,
    until_idle: float = 0,
    run_timeout: float = 0,
    worker_ttl: float = WORKER_TTL,
    only: list[str] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> WorkerResult:
    """Crawl from the shared frontier until stopped, the run timeout, or an idle frontier.

    Runs Twisted's reactor, so call it once per process (the CLI runs in its own process).
    """
    from csrnews.crawler.distributed.scheduler import RUNTIMES
    from csrnews.crawler.distributed.spiders import SPIDERS
    from csrnews.crawler.run import create_process

    config = load_sources(sources_path)
    sources = pick_sources(config, only)
    server = connect(redis_url)
    say = on_event or (lambda message: None)
    started = time.monotonic()
    # Scrapy takes SIGTERM and SIGINT as "finish gracefully" only once the reactor runs; one
    # that comes before (from the registration below, while the crawlers are made) is kept
    # and acted on as soon as the reactor runs, instead of killing the worker.
    early: list[str] = []
    saved: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            saved[sig] = signal.signal(sig, lambda signum, _frame: early.append(str(signum)))
    leases = Leases(server)
    RUNTIMES[leases.worker_id] = leases
    heartbeat = Heartbeat(leases, worker_ttl)
    heartbeat.start()
    ctx = WorkerContext(SharedState(server))
    report = ctx.report
    sender = ReportSender(server, report)
    process = create_process(worker_settings(config, redis_url, leases.worker_id, delay=delay))
    for source in sources:
        report.source(source.name)
        process.crawl(process.create_crawler(SPIDERS[source.kind]), source=source, ctx=ctx)
    sender.send(force=True)  # every source appears in the writer's report
    from twisted.internet import reactor as installed  # only now: the first crawl() installed it
    from twisted.internet import task

    # Twisted declares the reactor's methods on zope interfaces (without `self`): as Any.
    reactor: Any = installed

    say(
        f"worker {leases.worker_id}: {len(sources)} sources, frontier {redacted(redis_url)}"
        + (f", until idle for {until_idle:g} s" if until_idle else "")
    )
    state: dict[str, Any] = {"idle_since": None, "last_progress": started, "why": "stopped"}

    def stop(why: str) -> None:
        state["why"] = why
        process.stop()

    def tick() -> None:
        try:
            leases.reap()
            queued, leased, workers = leases.frontier()
            sender.send()
        except Exception as exc:  # Redis away for a moment: the next tick tries again
            logger.warning("cannot reach Redis: %s", exc)
            return
        now = time.monotonic()
        if now - state["last_progress"] >= PROGRESS_INTERVAL:
            state["last_progress"] = now
            say(
                f"worker: {report.total('fetched')} pages fetched, {ctx.queued} stories queued, "
                f"{report.total('failed')} failed; frontier {queued} queued, {leased} in "
                f"flight, {workers} workers ({now - started:.0f} s)"
            )
        if until_idle:
            if queued or leased:
                state["idle_since"] = None
            elif state["idle_since"] is None:
                state["idle_since"] = now
            elif now - state["idle_since"] >= until_idle:
                say(f"worker: the frontier has been empty for {until_idle:g} s; stopping")
                stop("idle")

    def stop_if_signalled() -> None:
        """A signal that came while the worker started: stop once every engine runs (a crawler
        asked to stop before its engine runs would start it all the same, and run on)."""
        if not early:
            return
        for crawler in process.crawlers:
            # crawler.engine raises before the crawl starts; Scrapy (its _LateAttribute) tells
            # code that runs before then to read _engine
            engine = crawler._engine
            if crawler.crawling and (engine is None or not engine.running):
                reactor.callLater(0.05, stop_if_signalled)
                return
        say("worker: a signal came while it started; stopping")
        stop("stopped")

    ticker = task.LoopingCall(tick)
    reactor.callWhenRunning(ticker.start, TICK, False)
    # after every start-up trigger, Scrapy's installing its signal handlers among them
    reactor.callWhenRunning(reactor.callLater, 0, stop_if_signalled)
    if run_timeout:
        reactor.callLater(run_timeout, stop, "timeout")
    gc.freeze()
    requeued = 0
    try:
        process.start()
    finally:
        for signum, old in saved.items():
            signal.signal(signum, old)
        gc.unfreeze()
        if ticker.running:
            ticker.stop()
        heartbeat.stop()
        try:
            sender.send()
            held = len(server.smembers(leases.leases_key))
            leases.retire()
            requeued = held
        except Exception as exc:
            logger.error("cannot say goodbye to Redis (leases expire by themselves): %s", exc)
        RUNTIMES.pop(leases.worker_id, None)
        for src in report.sources.values():
            src.finish()
        report.seconds = time.monotonic() - started
    return WorkerResult(leases.worker_id, report, ctx.queued, requeued, state["why"])


@dataclass
class SeedResult:
    """What `--seed` put into the frontier."""

    sources: int
    pushed: int
    already: int
    new_round: bool
    exported: dict[str, int]
    frontier: tuple[int, int, int]


def _clear_round(server: Any, config: SourcesConfig) -> None:
    """A new round: forget the last round's duplicate filters, page counts and robots.txt."""
    from csrnews.crawler.distributed.spiders import spider_name

    doomed = []
    for source in config.sources:
        name = spider_name(source)
        doomed += [keys.dupefilter_key(name), keys.ROUND_PREFIX + source.name]
    doomed += list(server.scan_iter(match=keys.ROBOTS_PREFIX + "*", count=500))
    if doomed:
        server.delete(*doomed)


def seed(
    sources_path: str | Path,
    content_dir: str | Path,
    state_dir: str | Path,
    redis_url: str,
    *,
    only: list[str] | None = None,
) -> SeedResult:
    """Put the sources' start requests (feeds, sitemaps, listings) into the shared frontier.

    Run it where the crawl state is (the writer's machine): it copies what the state knows
    (validators, stored story URLs, gone pages) into Redis first, for the workers. When the
    frontier is empty, this starts a new round (the duplicate filters are cleared); otherwise
    the requests join the round under way, and a start URL already fetched in it is not
    fetched again.
    """
    from csrnews.crawler.context import CrawlContext
    from csrnews.crawler.distributed import serializer
    from csrnews.crawler.distributed.queue import LeasedPriorityQueue
    from csrnews.crawler.distributed.spiders import SPIDERS
    from csrnews.crawler.state import CrawlState
    from scrapy_redis.dupefilter import RFPDupeFilter

    config = load_sources(sources_path)
    sources = pick_sources(config, only)
    server = connect(redis_url)
    leases = Leases(server, worker_id="seed")
    leases.reap()
    queued, leased, _ = leases.frontier()
    new_round = queued == 0 and leased == 0
    if new_round:
        _clear_round(server, config)
    state = CrawlState(state_dir)
    try:
        ctx = CrawlContext(content_dir=Path(content_dir), state=state)
        ctx.load()
        exported = export_state(ctx, server, replace=new_round)
    finally:
        state.close()
    shared = WorkerContext(SharedState(server))
    pushed = already = 0
    for source in sources:
        spider = SPIDERS[source.kind](source, shared)
        queue = LeasedPriorityQueue(server, spider, keys.SCHEDULER_QUEUE_KEY, serializer=serializer)
        dupefilter = RFPDupeFilter(server, key=keys.dupefilter_key(spider.name))

        async def collect(spider: Any = spider) -> list[Any]:
            return [request async for request in spider.seed_requests()]

        for request in asyncio.run(collect()):
            if queue.push_unseen(request, dupefilter):  # never seen without being queued
                pushed += 1
            else:
                already += 1
    server.hincrby(keys.STATS, "seeded", pushed)
    return SeedResult(len(sources), pushed, already, new_round, exported, leases.frontier())
