"""Scrapy's spider loader for csrnews: one spider per source of sources.yaml (`scrapy list`).

Each source gets a subclass of the spider of its type (feed, sitemap, listing) named by the
source's slug and holding the source, so `scrapy crawl NAME` crawls it with the project's
settings into the same story files and state as `csrnews crawl --source NAME`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from csrnews.crawler.sources import Source, SourcesError, load_sources
from csrnews.crawler.spiders import SPIDERS
from scrapy import Spider
from scrapy.settings import BaseSettings
from scrapy.spiderloader import SpiderLoader

logger = logging.getLogger(__name__)


def spider_name(source: Source) -> str:
    """A source's spider name: its name in lower case, words joined by hyphens."""
    return re.sub(r"[^\w]+", "-", source.name.lower()).strip("-") or "source"


def source_spider(source: Source, user_agent: str | None = None) -> type[Spider]:
    """The spider class of one source (a subclass of its type's spider)."""
    base = SPIDERS[source.kind]
    attrs: dict[str, Any] = {"name": spider_name(source), "source": source}
    if user_agent:
        attrs["custom_settings"] = {"USER_AGENT": user_agent, "ROBOTSTXT_USER_AGENT": user_agent}
    return type(f"{base.__name__}_{attrs['name'].replace('-', '_')}", (base,), attrs)


class SourcesSpiderLoader(SpiderLoader):
    """The spiders of the sources file named by the CSRNEWS_SOURCES setting."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)  # the spiders of each type (SPIDER_MODULES), by type
        self._spiders = {}
        path = settings.get("CSRNEWS_SOURCES") or "sources.yaml"
        try:
            config = load_sources(path)
        except SourcesError as exc:
            logger.error("%s", exc)
            return
        for source in config.sources:
            spider = source_spider(source, config.user_agent)
            self._spiders[str(spider.name)] = spider
