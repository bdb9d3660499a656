"""scrapy-redis's priority queue, with pops that take a lease instead of deleting the request."""

from __future__ import annotations

import logging
from typing import Any

from csrnews.crawler.distributed import keys
from csrnews.crawler.distributed.leases import Leases
from scrapy import Request
from scrapy_redis.queue import PriorityQueue

logger = logging.getLogger(__name__)

# KEYS: the duplicate filter's set, the queue. ARGV: fingerprint, score, request.
# Queued first, then marked seen: a failing ZADD leaves the request unseen.
_PUSH_UNSEEN = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""


class LeasedPriorityQueue(PriorityQueue):
    """Pushes as scrapy-redis does (ZADD, score = -priority); `pop_leased` leases the request.

    The queue's key is registered in a set, so that the frontier's size can be measured
    without knowing every worker's sources.
    """

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        server.sadd(keys.QUEUES, self.key)
        self._push_unseen = server.register_script(_PUSH_UNSEEN)

    def push_unseen(self, request: Request, dupefilter: Any) -> bool:
        """Queue REQUEST and mark it seen in DUPEFILTER (scrapy-redis's RFPDupeFilter), unless
        it was seen already; whether it was queued.

        One Lua script: scrapy-redis's scheduler marks a request seen, then queues it, in two
        commands, and a worker killed between them left it seen but never queued. Its parent
        page, fetched again from the dead worker's lease, then found its link seen: the story
        was lost (tests/distributed/test_cluster.py, now and then under load).
        """
        fingerprint = dupefilter.request_fingerprint(request)
        data = self._encode_request(request)
        keys_ = [dupefilter.key, self.key]
        return bool(self._push_unseen(keys=keys_, args=[fingerprint, -request.priority, data]))

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
