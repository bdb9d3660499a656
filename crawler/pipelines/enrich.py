"""Pipeline step 2: enrichment (event type, organisations, standards, places, top-10 items)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from crawler.enrichment import Enrichment, enrich
from crawler.pipelines.step import PipelineStep

logger = logging.getLogger(__name__)


def published_date(value: str | None) -> date | None:
    """The date part of an ISO 8601 string, or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def run_enrich(title: str, text: str, lang: str, published: str | None) -> Enrichment:
    """Call enrichment; a failure there leaves the story unenriched, not lost."""
    try:
        return enrich(title, text, lang, published_date(published))
    except Exception:  # enrichment is another module's code; a bug there must not drop stories
        logger.exception("enrichment failed for %r", title)
        return Enrichment()


class EnrichPipeline(PipelineStep):
    """Adds `enrichment` to the item."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        ex = item["extracted"]
        item["enrichment"] = run_enrich(ex.title, ex.text, ex.lang, ex.date)
        return item
