"""The sitemap spider: Scrapy's SitemapSpider with conditional GET and incremental story fetches."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import scrapy
from csrnews.crawler.context import CrawlContext
from csrnews.crawler.sources import Source
from csrnews.crawler.spiders.base import StoryMixin
from scrapy.http import Response
from scrapy.spiders import SitemapSpider

logger = logging.getLogger(__name__)


class StorySitemapSpider(StoryMixin, SitemapSpider):
    """Read a sitemap or sitemap index; fetch the story URLs matching `article_links`."""

    name = "sitemap"

    def __init__(
        self, source: Source | None = None, ctx: CrawlContext | None = None, **kw: Any
    ) -> None:
        source, ctx = self.given(source, ctx)
        self.sitemap_urls = list(source.urls)
        self.sitemap_rules = [(source.article_links or "", "parse_story")]
        name = self.name if self.name != "sitemap" else f"sitemap:{source.name}"
        super().__init__(name=name, **kw)
        self.setup(source, ctx)
        self.lastmod: dict[str, str] = {}

    async def start(self) -> AsyncIterator[Any]:
        for url in self.sitemap_urls:
            yield self.index_request(url, self._parse_sitemap)

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for entry in entries:
            if entry.get("loc") and entry.get("lastmod"):
                self.lastmod[entry["loc"]] = entry["lastmod"]
            yield entry

    def _parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        self.index_response(response)
        request_url = response.request.url if response.request else response.url
        if response.status == 304:
            children = self.ctx.state.children(request_url) or {}
        else:
            children = {"sitemaps": [], "stories": []}
            produced = list(super()._parse_sitemap(response))
            if not produced and self._get_sitemap_body(response) is None:
                self.report.index_ok -= 1
                self.index_failed(response.url, "not a sitemap")
                return
            for request in produced:
                if request.callback == self._parse_sitemap:
                    children["sitemaps"].append(request.url)
                else:
                    children["stories"].append([request.url, self.lastmod.get(request.url)])
            self.save_index(response, children)
        for url in children.get("sitemaps", []):
            if not self.offsite(url):
                yield self.index_request(url, self._parse_sitemap)
        for url, lastmod in children.get("stories", []):
            story = self.story_request(url, lastmod)
            if story is not None:
                yield story
