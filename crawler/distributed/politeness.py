"""Politeness across workers: one robots.txt per host and round, one request per host per delay.

scrapy-redis shares the frontier and the duplicate filter but nothing about politeness: each
worker would fetch robots.txt itself and keep its own per-host delay, so N workers would ask a
site N times as often. These two downloader middlewares share both through Redis.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Self

from csrnews.crawler.distributed import keys
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from scrapy_redis import connection

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
        self._fetching: dict[str, str] = {}  # netloc -> the lock key this worker holds

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
                self._fetching[origin.split("://", 1)[1]] = key + ":lock"
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
        self._fetching.pop(netloc, None)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        lock = self._fetching.pop(netloc, None)
        if lock:  # let the next worker try at once rather than after the lock's time
            self.server.delete(lock)
        super()._robots_error(exc, netloc)


class HostToken:
    """At most one request to a host every DISTRIBUTED_HOST_DELAY seconds, across all workers:
    each request takes the host's token in Redis (Redis's clock) before it is sent."""

    def __init__(self, server: Any, delay: float) -> None:
        self.delay_ms = max(1, int(delay * 1000))
        self.script = server.register_script(_TOKEN)

    async def wait(self, request: Request) -> float:
        """Wait for the token of the request's host; returns the seconds waited."""
        key = keys.HOST_PREFIX + (urlparse_cached(request).hostname or "")
        waited = 0.0
        while True:
            wait_ms = int(self.script(keys=[key], args=[self.delay_ms]))
            if wait_ms <= 0:
                return waited
            await sleep(wait_ms / 1000)
            waited += wait_ms / 1000


_ASYNC_HANDLER = inspect.iscoroutinefunction(HTTP11DownloadHandler.download_request)


class PoliteDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP download handler, taking the host's token just before each request is sent.

    Here, and not in a downloader middleware: Scrapy's own per-worker delay (DOWNLOAD_DELAY,
    randomised, and AutoThrottle's) and its per-host concurrency come after the middlewares,
    so a token taken there would not space the requests as they leave. The handler runs when
    the request leaves. Off (a plain HTTP11DownloadHandler) when DISTRIBUTED_HOST_DELAY is 0.
    """

    token: HostToken | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        handler = super().from_crawler(crawler)
        delay = crawler.settings.getfloat("DISTRIBUTED_HOST_DELAY")
        if delay > 0:
            handler.token = HostToken(connection.from_settings(crawler.settings), delay)
        return handler

    if _ASYNC_HANDLER:  # Scrapy 2.14 and later

        async def download_request(self, request: Request) -> Response:
            if self.token is not None:
                await self.token.wait(request)
            return await super().download_request(request)

    else:  # pragma: no cover - Scrapy 2.13: download_request(request, spider) -> Deferred

        def download_request(self, request: Request, spider: Any) -> Any:  # type: ignore[misc]
            from scrapy.utils.defer import deferred_from_coro

            async def polite() -> Response:
                if self.token is not None:
                    await self.token.wait(request)
                parent = super(PoliteDownloadHandler, self).download_request
                deferred = parent(request, spider)  # type: ignore[call-arg]
                return await maybe_deferred_to_future(deferred)  # type: ignore[arg-type]

            return deferred_from_coro(polite())
