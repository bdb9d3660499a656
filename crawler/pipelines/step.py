"""The base of every pipeline step: built from the crawler, as Scrapy components are."""

from __future__ import annotations

from typing import Protocol, Self, cast

from csrnews.crawler.context import CrawlContext
from csrnews.crawler.report import SourceReport
from csrnews.crawler.sources import Source
from scrapy.crawler import Crawler


class StoryHost(Protocol):
    """What a step needs of the spider it runs for: its source, the run's context, the report."""

    source: Source
    ctx: CrawlContext
    report: SourceReport


class PipelineStep:
    """Keeps the crawler; subclasses implement `process_item`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def spider(self) -> StoryHost:
        """The running spider of a source (csrnews.crawler.spiders.base.StoryMixin)."""
        return cast(StoryHost, self.crawler.spider)
