"""The Enrichment record: what enrichment found in one story."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Enrichment:
    """What enrichment found in one story; `category` is an event-type id (story.vocabulary)."""

    category: str = "other"
    tags: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    standards: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    event_date: date | None = None
    # [{"rank": 2, "headline": "MOFCOM convenes ...", "reason": "..."}]
    top10_items: list[dict[str, object]] = field(default_factory=list)
    # Which words decided `category`: "headline: MoU", "lead: signed" (strongest first).
    category_evidence: list[str] = field(default_factory=list)
