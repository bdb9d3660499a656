"""The three spiders as workers run them: start requests come from the seed, not the spider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Self

import scrapy
from csrnews.crawler.distributed import keys
from csrnews.crawler.items import FeedEntry
from csrnews.crawler.spiders import FeedSpider, ListingSpider, StorySitemapSpider
from scrapy import signals
from scrapy.exceptions import DontCloseSpider


class DistributedMixin:
    """What changes for a spider whose frontier is shared.

    - `start()` yields nothing: `csrnews crawl --seed` puts the start requests in the frontier
      (`seed_requests()` gives them).
    - Index documents are filtered by scrapy-redis's duplicate filter like any request (the
      local crawl marks them dont_filter and remembers listings per process, which two workers
      would not share), so a listing page linked from two pages is fetched once per round.
    - `max_pages` counts a source's story requests across all workers (a Redis counter of the
      round) instead of per process.
    - The spider stays open when idle: other workers may still add requests.
    """

    source: Any
    ctx: Any
    report: Any
    story_count: int
    crawler: Any

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        crawler.signals.connect(spider.stay_open, signal=signals.spider_idle)
        return spider

    def stay_open(self) -> None:
        raise DontCloseSpider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing

    def seed_requests(self) -> AsyncIterator[Any]:
        """The source's start requests, as the local spider makes them."""
        return super().start()  # type: ignore[misc]

    def index_request(self, url: str, callback: Callable[..., Any], **kw: Any) -> scrapy.Request:
        request = super().index_request(url, callback, **kw)  # type: ignore[misc]
        return request.replace(dont_filter=False)

    def story_request(
        self, url: str, entry_hash: str | None = None, fallback: FeedEntry | None = None
    ) -> scrapy.Request | None:
        request = super().story_request(url, entry_hash, fallback)  # type: ignore[misc]
        self.story_count = 0  # the per-process count is replaced by the round's counter
        if request is None:
            return None
        counted = self.ctx.state.server.incr(keys.ROUND_PREFIX + self.source.name)
        if counted > self.source.max_pages:
            self.report.skip_over_limit()
            return None
        return request


class DistributedFeedSpider(DistributedMixin, FeedSpider):
    """FeedSpider for a worker."""


class DistributedListingSpider(DistributedMixin, ListingSpider):
    """ListingSpider for a worker."""


class DistributedSitemapSpider(DistributedMixin, StorySitemapSpider):
    """StorySitemapSpider for a worker."""


def spider_name(source: Any) -> str:
    """The name a source's spider has (and so its scrapy-redis keys), without making one."""
    return f"{source.kind}:{source.name}"


SPIDERS: dict[str, Any] = {  # spider classes by source type, built (source, context)
    "feed": DistributedFeedSpider,
    "listing": DistributedListingSpider,
    "sitemap": DistributedSitemapSpider,
}
