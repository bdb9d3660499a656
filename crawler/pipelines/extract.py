"""Pipeline step 1: extract the story from the fetched page (the feed's text as fallback)."""

from __future__ import annotations

import logging
from typing import Any

from csrnews.crawler.extraction import extract_page
from csrnews.crawler.pipelines.step import PipelineStep
from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)


class ExtractPipeline(PipelineStep):
    """Adds title, date, lang, markdown, text and canonical URL to the item."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.crawler.spider
        source = spider.source  # type: ignore[attr-defined]
        report = spider.report  # type: ignore[attr-defined]
        extracted = None
        if item.get("body"):
            try:
                extracted = extract_page(
                    item["body"],
                    item["final_url"],
                    content_type=item.get("content_type"),
                    selectors=source.selectors,
                    lang=source.lang,
                )
            except Exception as exc:  # a hostile page must not stop the crawl
                logger.warning("cannot extract %s: %s", item["url"], exc, exc_info=True)
        fallback = item.get("fallback") or {}
        if (extracted is None or not extracted.text.strip()) and fallback.get("html"):
            extracted = extract_page(
                f"<html><body><article>{fallback['html']}</article></body></html>",
                item["final_url"],
                lang=source.lang,
            )
            extracted.title = fallback.get("title") or extracted.title
            extracted.date = fallback.get("date") or extracted.date
            item["from_fallback"] = True
        item.pop("body", None)
        if extracted is None or not extracted.text.strip():
            item.pop("fallback", None)
            report.error(f"{item['url']}: no story text found")
            raise DropItem(f"no story text on {item['url']}")
        if not extracted.title:
            extracted.title = fallback.get("title") or item["url"]
        if not extracted.date and fallback.get("date"):
            extracted.date = fallback["date"]
        item["extracted"] = extracted
        return item
