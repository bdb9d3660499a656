"""Pipeline step 1: extract the story from the fetched page (the feed's text as fallback)."""

from __future__ import annotations

import logging

from csrnews.crawler.extraction import extract_page
from csrnews.crawler.items import FeedEntry, StoryItem
from csrnews.crawler.pipelines.step import PipelineStep
from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)


class ExtractPipeline(PipelineStep):
    """Sets the item's `extracted` page: title, date, lang, markdown, text, canonical URL."""

    def process_item(self, item: StoryItem) -> StoryItem:
        spider = self.spider
        source, report = spider.source, spider.report
        extracted = None
        if item.body:
            try:
                extracted = extract_page(
                    item.body,
                    item.final_url,
                    content_type=item.content_type,
                    selectors=source.selectors,
                    lang=source.lang,
                )
            except Exception as exc:  # a hostile page must not stop the crawl
                logger.warning("cannot extract %s: %s", item.url, exc, exc_info=True)
        fallback = item.fallback or FeedEntry()
        if (extracted is None or not extracted.text.strip()) and fallback.html:
            extracted = extract_page(
                f"<html><body><article>{fallback.html}</article></body></html>",
                item.final_url,
                lang=source.lang,
            )
            extracted.title = fallback.title or extracted.title
            extracted.date = fallback.date or extracted.date
            item.from_fallback = True
        item.body = None
        if extracted is None or not extracted.text.strip():
            item.fallback = None
            report.error(f"{item.url}: no story text found")
            raise DropItem(f"no story text on {item.url}")
        if not extracted.title:
            extracted.title = fallback.title or item.url
        if not extracted.date and fallback.date:
            extracted.date = fallback.date
        item.extracted = extracted
        return item
