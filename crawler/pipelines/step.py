"""The base of every pipeline step: built from the crawler, as Scrapy components are."""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler


class PipelineStep:
    """Keeps the crawler; subclasses implement `process_item`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)
