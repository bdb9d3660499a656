"""scrapy-redis's priority queue, with pops that take a lease instead of deleting the request."""

from __future__ import annotations

import logging
from typing import Any

from csrnews.crawler.distributed import keys
from csrnews.crawler.distributed.leases import Leases
from scrapy import Request
from scrapy_redis.queue import PriorityQueue

logger = logging.getLogger(__name__)


class LeasedPriorityQueue(PriorityQueue):
    """Pushes as scrapy-redis does (ZADD, score = -priority); `pop_leased` leases the request.

    The queue's key is registered in a set, so that the frontier's size can be measured
    without knowing every worker's sources.
    """

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        server.sadd(keys.QUEUES, self.key)

    def pop_leased(self, leases: Leases) -> tuple[Request, str] | None:
        """The first request and its lease id, or None when the queue is empty.

        Data that is not a request of this spider (written by hand, or by another version) is
        dropped with an error line rather than stopping the worker.
        """
        while True:
            found = leases.pop(self.key)
            if found is None:
                return None
            lease_id, data = found
            try:
                return self._decode_request(data), lease_id
            except Exception as exc:
                logger.error("%s: dropped an unreadable request (%s): %.200r", self.key, exc, data)
                leases.ack([lease_id])

    def pop(self, timeout: int = 0) -> Request | None:
        raise RuntimeError("use pop_leased(): a plain pop would lose the request if we died")
