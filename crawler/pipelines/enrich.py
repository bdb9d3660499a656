"""Pipeline step 2: enrichment (event type, organisations, standards, places, top-10 items)."""

from __future__ import annotations

import logging
from datetime import date

from csrnews.crawler.enrichment import Enricher, Enrichment, enrich, load_rules
from csrnews.crawler.items import StoryItem
from csrnews.crawler.pipelines.step import PipelineStep
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def published_date(value: str | None) -> date | None:
    """The date part of an ISO 8601 string, or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def run_enrich(
    title: str, text: str, lang: str, published: str | None, enricher: Enricher | None = None
) -> Enrichment:
    """Call enrichment (with `enricher`, or the default data files); a failure there leaves the
    story unenriched, not lost."""
    try:
        if enricher is not None:
            return enricher.enrich(title, text, lang, published_date(published))
        return enrich(title, text, lang, published_date(published))
    except Exception:  # enrichment is another module's code; a bug there must not drop stories
        logger.exception("enrichment failed for %r", title)
        return Enrichment()


class EnrichPipeline(PipelineStep):
    """Adds `enrichment` to the item; the data files are read once per run."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._enricher: Enricher | None = None

    def process_item(self, item: StoryItem) -> StoryItem:
        ex = item.page
        if self._enricher is None:
            try:
                self._enricher = load_rules()
            except Exception:  # unreadable data files: run_enrich logs it for every story
                pass
        item.enrichment = run_enrich(ex.title, ex.text, ex.lang, ex.date, self._enricher)
        return item
