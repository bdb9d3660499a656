"""The listing spider: start_urls, stories by `article_links`, more listings by `follow_links`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from csrnews.crawler.context import CrawlContext
from csrnews.crawler.sources import Source
from csrnews.crawler.spiders.base import StoryMixin, request_url
from csrnews.crawler.urls import clean_url
from scrapy.http import Response

logger = logging.getLogger(__name__)


class ListingSpider(StoryMixin, scrapy.Spider):
    """Walk listing pages (conditionally) and fetch the story pages they link to."""

    name = "listing"

    def __init__(
        self, source: Source | None = None, ctx: CrawlContext | None = None, **kw: Any
    ) -> None:
        source, ctx = self.given(source, ctx)
        super().__init__(
            name=self.name if self.name != "listing" else f"listing:{source.name}", **kw
        )
        self.setup(source, ctx)
        self.listings_seen: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.urls:
            self.listings_seen.add(clean_url(url))
            yield self.index_request(url, self.parse_listing)

    def links(self, response: Response) -> dict[str, list[str]]:
        """The story links and further listing links on a listing page, in page order."""
        stories: list[str] = []
        follow: list[str] = []
        for href in response.xpath("//a/@href").getall():
            href = href.strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            url = clean_url(urljoin(response.url, href))
            if self.source.article_links and self.source.article_links.search(url):
                if url not in stories:
                    stories.append(url)
            elif self.source.follow_links and self.source.follow_links.search(url):
                if url not in follow:
                    follow.append(url)
        return {"stories": stories, "follow": follow}

    def parse_listing(self, response: Response) -> Iterator[Any]:
        self.index_response(response)
        if response.status == 304:
            found = self.ctx.state.children(request_url(response)) or {}
        else:
            found = self.links(response)
            self.save_index(response, found)
        for url in found.get("stories", []):
            request = self.story_request(url)
            if request is not None:
                yield request
        for url in found.get("follow", []):
            if url not in self.listings_seen:
                self.listings_seen.add(url)
                if not self.offsite(url):
                    yield self.index_request(url, self.parse_listing)
