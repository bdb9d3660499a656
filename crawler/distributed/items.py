"""The records on the Redis item queue, from the workers to the single writer, as JSON.

story: a page extracted and enriched by a worker, for the writer's dedupe and write steps.
doc: an index document's validators and what it listed (the crawl state's `docs` row).
gone: a story URL that answered 404 or 410 (the crawl state's `gone` row).
report: a worker's counters of one source since its last report record.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

from csrnews.crawler.enrichment import Enrichment
from csrnews.crawler.extraction import Extracted
from csrnews.crawler.items import StoryItem

VERSION = 1
KINDS = frozenset({"story", "doc", "gone", "report"})


class RecordError(ValueError):
    """A record on the item queue is not one the writer can use; the message says why."""


def dumps(record: dict[str, Any]) -> bytes:
    """A record as JSON bytes (REDIS_ITEMS_SERIALIZER of the worker's item pipeline)."""
    return json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")).encode()


def story_record(item: StoryItem, source: Any) -> dict[str, Any]:
    """What the writer needs of an extracted, enriched item (the page body is not sent)."""
    enrichment = dataclasses.asdict(item.found)
    if enrichment.get("event_date"):
        enrichment["event_date"] = enrichment["event_date"].isoformat()
    return {
        "kind": "story",
        "v": VERSION,
        "source": source.name,
        "republish": source.republish,
        "url": item.url,
        "final_url": item.final_url,
        "entry_hash": item.entry_hash,
        "from_fallback": item.from_fallback,
        "extracted": dataclasses.asdict(item.page),
        "enrichment": enrichment,
    }


def _build(cls: type, data: Any, what: str) -> Any:
    if not isinstance(data, dict):
        raise RecordError(f"{what} is not a mapping")
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise RecordError(f"{what}: {exc}") from None


def loads(data: bytes | str) -> dict[str, Any]:
    """A record from the queue; a story's `extracted` and `enrichment` as their classes again.

    Raises RecordError for anything else (not JSON, an unknown kind, missing fields).
    """
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordError(f"not JSON: {exc}") from None
    if not isinstance(record, dict) or record.get("kind") not in KINDS:
        raise RecordError("not a csrnews record (no known 'kind')")
    kind = record["kind"]
    required = {
        "story": ("source", "url", "final_url", "extracted", "enrichment"),
        "doc": ("url",),
        "gone": ("key", "url", "status"),
        "report": ("source", "counts"),
    }[kind]
    missing = [name for name in required if name not in record]
    if missing:
        raise RecordError(f"{kind} record without {', '.join(missing)}")
    if kind == "story":
        if record.get("v") != VERSION:
            raise RecordError(f"story record of version {record.get('v')!r}, expected {VERSION}")
        extracted = _build(Extracted, record["extracted"], "extracted")
        if not isinstance(extracted.text, str) or not isinstance(extracted.markdown, str):
            raise RecordError("extracted text is not a string")
        enrichment = _build(Enrichment, record["enrichment"], "enrichment")
        if isinstance(enrichment.event_date, str):
            try:
                enrichment.event_date = date.fromisoformat(enrichment.event_date)
            except ValueError:
                raise RecordError(f"bad event_date {enrichment.event_date!r}") from None
        record["extracted"], record["enrichment"] = extracted, enrichment
    if kind == "report" and not isinstance(record["counts"], dict):
        raise RecordError("report counts are not a mapping")
    return record
