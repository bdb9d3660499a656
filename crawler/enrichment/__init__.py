"""Enrichment: event type, organisations, standards, places, event date and top-10 items of a story.

Interface (stable; the crawler pipeline and `csrnews extract` call only this):

    enrich(title, text, lang, published) -> Enrichment
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Enrichment:
    """What enrichment found in one story. `category` is an event-type id (csrnews.vocabulary)."""

    category: str = "other"
    tags: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    standards: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    event_date: date | None = None
    # [{"rank": 2, "headline": "MOFCOM convenes ...", "reason": "..."}]
    top10_items: list[dict[str, object]] = field(default_factory=list)


def enrich(title: str, text: str, lang: str = "en", published: date | None = None) -> Enrichment:
    """Enrich one story (placeholder until the enrichment issue lands: finds nothing)."""
    return Enrichment()
