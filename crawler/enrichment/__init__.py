"""Enrichment: event type, organisations, standards, places, event date and top-10 items of a story.

Interface (stable; the crawler pipeline and `csrnews extract` call only this):

    enrich(title, text, lang, published) -> Enrichment

The rules live in editable data files under ``crawler/data/`` (see docs/enrichment.md);
``load_rules(data_dir)`` compiles another copy of them, for tests or a site's own data.
"""

from __future__ import annotations

from datetime import date

from csrnews.crawler.enrichment.model import Enrichment
from csrnews.crawler.enrichment.rules import DEFAULT_DATA_DIR, Enricher, load_rules

__all__ = ["DEFAULT_DATA_DIR", "Enricher", "Enrichment", "enrich", "load_rules"]


def enrich(title: str, text: str, lang: str = "en", published: date | None = None) -> Enrichment:
    """Enrich one story with the default data files (compiled once, reloaded when edited)."""
    return load_rules().enrich(title, text, lang, published)
