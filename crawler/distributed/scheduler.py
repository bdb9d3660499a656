"""scrapy-redis's scheduler with leased requests: acknowledged when done, requeued if not."""

from __future__ import annotations

import logging
from typing import Any, Self

from csrnews.crawler.distributed.leases import Leases
from csrnews.crawler.distributed.queue import LeasedPriorityQueue
from scrapy import Request
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

logger = logging.getLogger(__name__)

SETTLE_INTERVAL = 0.5  # seconds between acknowledging finished requests and polling the queue
RUNTIMES: dict[str, Leases] = {}  # worker id -> its Leases (Scrapy deep-copies settings)


class LeasedScheduler(Scheduler):
    """Takes at most `DISTRIBUTED_MAX_LEASES` requests of its spider at a time, each leased.

    A request counts as done when the engine no longer has it in progress: by then its
    response went through the callback, the requests it yielded are queued in Redis and its
    items went through the item pipelines (the last of which pushes them to Redis). Scrapy has
    no public signal for that moment; `engine._slot.inprogress` (Scrapy's own bookkeeping of
    it) is read, and the worker refuses to start when a Scrapy version lacks it.
    """

    crawler: Any
    leases: Leases
    df: Any  # scrapy-redis's duplicate filter (set by its from_crawler, or in open())

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        worker_id = crawler.settings.get("CSRNEWS_WORKER_ID")
        if worker_id not in RUNTIMES:
            raise RuntimeError("LeasedScheduler runs only inside a csrnews worker")
        instance.leases = RUNTIMES[worker_id]
        instance.max_leases = crawler.settings.getint("DISTRIBUTED_MAX_LEASES") or 4
        instance.leased = {}
        instance._ticker = None
        return instance

    def open(self, spider: Any) -> None:
        """As scrapy-redis's open(), without its flush options, with the queue key formatted once
        (a source name may hold a '%')."""
        self.spider = spider
        queue_cls = load_object(self.queue_cls)
        if not issubclass(queue_cls, LeasedPriorityQueue):
            raise ValueError(f"{self.queue_cls} is not a LeasedPriorityQueue")
        self.queue = queue_cls(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self._inprogress() is None:
            raise RuntimeError(
                "this Scrapy version has no engine._slot.inprogress: the worker cannot tell "
                "when a request is done (tested with Scrapy 2.13 to 2.19)"
            )
        self._ticker = task.LoopingCall(self._tick)
        self._ticker.start(SETTLE_INTERVAL, now=False)

    def _inprogress(self) -> set[Request] | None:
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "inprogress", None)

    def settle(self) -> None:
        """Acknowledge the leases of requests the engine has finished with."""
        inprogress = self._inprogress()
        if inprogress is None or not self.leased:
            return
        done = [lid for lid, req in self.leased.items() if req not in inprogress]
        if done:
            self.leases.ack(done)
            for lid in done:
                del self.leased[lid]

    def _tick(self) -> None:
        try:
            self.settle()
            # Wake the engine when requests wait and this worker has room (it polls only
            # every 5 s by itself when idle).
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None and len(self.leased) < self.max_leases and len(self.queue):
                slot.nextcall.schedule()
        except Exception as exc:  # Redis away for a moment: the next tick tries again
            logger.warning("%s: cannot reach Redis: %s", self.spider.name, exc)

    def next_request(self) -> Request | None:
        self.settle()
        if len(self.leased) >= self.max_leases:
            return None
        found = self.queue.pop_leased(self.leases)
        if found is None:
            return None
        request, lease_id = found
        self.leased[lease_id] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def enqueue_request(self, request: Request) -> bool:
        """Queue REQUEST unless the shared duplicate filter has seen it (one Redis script:
        never marked seen without being queued, see LeasedPriorityQueue.push_unseen)."""
        if request.dont_filter:
            self.queue.push(request)
        elif not self.queue.push_unseen(request, self.df):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def close(self, reason: str) -> None:
        """Acknowledge what is done, put back what is not; never flush the shared queue."""
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        self.settle()
        if self.leased:
            back = self.leases.requeue(list(self.leased))
            logger.info("%s: %d unfinished requests put back in the frontier", self.spider, back)
            self.leased.clear()
