"""Politeness across workers: one robots.txt per host and round, one request per host per delay.

scrapy-redis shares the frontier and the duplicate filter but nothing about politeness: each
worker would fetch robots.txt itself and keep its own per-host delay, so N workers would ask a
site N times as often. These two downloader middlewares share both through Redis.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from scrapy_redis import connection

from crawler.distributed import keys

logger = logging.getLogger(__name__)

ROBOTS_TTL = 3600  # seconds a robots.txt is shared before a worker fetches it again
ROBOTS_LOCK_TTL = 30.0  # seconds one worker may take to fetch it while the others wait
POLL = 0.1

# KEYS: the host's token. ARGV: delay in ms. Returns ms to wait (0: go, the token is taken).
# Redis's clock, not the workers': one clock for every machine.
_TOKEN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return nxt - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) * 2 + 1000)
return 0
"""


async def sleep(seconds: float) -> None:
    """Wait without blocking the reactor."""
    from twisted.internet import reactor, task

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with each host's robots.txt fetched once for all workers.

    The first worker to need it takes a short lock and fetches it; the body is kept in Redis
    for ROBOTS_TTL seconds, and the other workers parse that copy. If the fetch fails, the lock
    expires and the next worker tries, as Scrapy would on its own.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.server = connection.from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    async def robot_parser(self, request: Request) -> Any:
        parts = urlparse_cached(request)
        netloc = parts.netloc
        if netloc not in self._parsers:
            origin = f"{parts.scheme}://{netloc}"
            body = await self._shared_copy(origin)
            if body is not None and netloc not in self._parsers:
                parser = build_from_crawler(self._parserimpl, self.crawler, body)
                self._parsers[netloc] = parser
                self._stats.inc_value("robotstxt/shared")
                return parser
        return await super().robot_parser(request)

    async def _shared_copy(self, origin: str) -> bytes | None:
        """The shared body, waiting while another worker fetches it; None: fetch it here."""
        key = keys.ROBOTS_PREFIX + origin
        waited = 0.0
        while True:
            body = self.server.get(key)
            if body is not None:
                return bytes(body)
            if self.server.set(key + ":lock", "1", nx=True, px=int(ROBOTS_LOCK_TTL * 1000)):
                return None  # ours to fetch
            if waited >= ROBOTS_LOCK_TTL:
                return None
            await sleep(POLL)
            waited += POLL

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        parts = urlparse_cached(response)
        key = keys.ROBOTS_PREFIX + f"{parts.scheme}://{parts.netloc}"
        if response.status < 500:
            pipe = self.server.pipeline()
            pipe.set(key, response.body, ex=ROBOTS_TTL)
            pipe.delete(key + ":lock")
            pipe.execute()
        await super()._parse_robots(response, netloc, request)


class HostTokenMiddleware:
    """Before a request leaves, take its host's token in Redis: at most one request per host
    every DISTRIBUTED_HOST_DELAY seconds across all workers (off when the delay is 0).

    Scrapy's own DOWNLOAD_DELAY and AutoThrottle still pace each worker; the token keeps the
    sum of the workers' requests to a host at the delay the operator chose.
    """

    def __init__(self, crawler: Any) -> None:
        delay = crawler.settings.getfloat("DISTRIBUTED_HOST_DELAY")
        if delay <= 0:
            raise NotConfigured
        self.delay_ms = max(1, int(delay * 1000))
        self.server = connection.from_settings(crawler.settings)
        self.script = self.server.register_script(_TOKEN)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        host = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        key = keys.HOST_PREFIX + host
        while True:
            wait_ms = int(self.script(keys=[key], args=[self.delay_ms]))
            if wait_ms <= 0:
                return
            self.stats.inc_value("politeness/token_wait_ms", wait_ms)
            await sleep(wait_ms / 1000)
