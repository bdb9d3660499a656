"""The Enricher: every data file compiled once per data directory, and the enrichment itself."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from csrnews.crawler.enrichment.dates import find_event_date
from csrnews.crawler.enrichment.eventtypes import TypeClassifier
from csrnews.crawler.enrichment.gazetteer import Gazetteer
from csrnews.crawler.enrichment.model import Enrichment
from csrnews.crawler.enrichment.places import PlaceMatcher
from csrnews.crawler.enrichment.standards import StandardsMatcher
from csrnews.crawler.enrichment.textutil import normalise, strip_markdown
from csrnews.crawler.enrichment.top10 import find_items_with_title
from csrnews.crawler.enrichment.topics import TopicTagger

from csrnews.story.vocabulary import event_type_label

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DATA_FILES = (
    "event_types.yaml",
    "organisations.yaml",
    "standards.yaml",
    "locations.yaml",
    "topics.yaml",
)

# libyaml's safe loader when PyYAML was built with it (reading the data files is most of
# the compile time), else the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_cache: dict[tuple[str, tuple[float, ...]], Enricher] = {}
_lock = threading.Lock()


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        logger.warning("enrichment data file %s is missing; it finds nothing", path)
        return {}
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_LOADER) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


@dataclass
class Enricher:
    """Compiled enrichment data; `enrich()` is safe to call from many threads."""

    types: TypeClassifier
    gazetteer: Gazetteer
    standards: StandardsMatcher
    places: PlaceMatcher
    topics: TopicTagger

    @classmethod
    def from_dir(cls, data_dir: str | Path) -> Enricher:
        """Read and compile the data files in `data_dir`."""
        data_dir = Path(data_dir)
        locations = _load_yaml(data_dir / "locations.yaml")
        gazetteer = Gazetteer.from_data(_load_yaml(data_dir / "organisations.yaml"))
        gazetteer.use_places(
            tuple(
                str(name)
                for entry in locations.get("locations") or []
                for name in [entry["name"], *(entry.get("aliases") or [])]
            )
        )
        return cls(
            types=TypeClassifier.from_data(_load_yaml(data_dir / "event_types.yaml")),
            gazetteer=gazetteer,
            standards=StandardsMatcher.from_data(_load_yaml(data_dir / "standards.yaml")),
            places=PlaceMatcher.from_data(locations),
            topics=TopicTagger.from_data(_load_yaml(data_dir / "topics.yaml")),
        )

    def _national_policy(self, organisations: list[str], category: str) -> str | None:
        """The country of a national policy: a policy whose first body is a national government
        body (MIIT: China); its place where no event's place is named."""
        if category != "policy" or not organisations:
            return None
        return self.gazetteer.countries.get(organisations[0])

    def enrich(
        self, title: str, text: str, lang: str = "en", published: date | None = None
    ) -> Enrichment:
        """Enrich one story. `text` may be plain text or simple Markdown."""
        published = _as_date(published)
        title = normalise(title or "")
        body = normalise(strip_markdown(text or ""))
        full = f"{title}\n\n{body}"
        # Unnormalised: headlines keep Chinese punctuation.
        items = find_items_with_title(title, text or "")
        reasons = sum(1 for item in items if item["reason"])
        decision = self.types.classify(title, body, len(items), reasons)
        category, runners = decision.category, decision.runners
        if category != "top10" and not reasons:
            items = []
        standards, std_spans = self.standards.find(full, len(title) + 2)
        organisations, org_spans = self.gazetteer.find(full, std_spans, len(title) + 2)
        # A list's items are events of their own ("training sessions in Shenzhen"): where the
        # list happens is said before its first item.
        first_item = (
            full.find(normalise(str(items[0]["headline"])))
            if category == "top10" and len(items) >= 3 and items[0].get("headline")
            else -1
        )
        locations = self.places.find(
            full,
            org_spans + std_spans,
            len(title) + 2,
            slots_end=first_item if first_item > 0 else None,
            country=self._national_policy(organisations, category),
        )
        tags = [event_type_label(r) for r in runners] + self.topics.tags(title, body)
        return Enrichment(
            category=category,
            tags=tags,
            organisations=organisations,
            standards=standards,
            locations=locations,
            event_date=find_event_date(full, published, retrospective=category == "top10"),
            top10_items=items,
            category_evidence=decision.evidence,
        )


def _as_date(value: object) -> date | None:
    """Accept a date, a datetime or an ISO 8601 string for the publication date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            logger.debug("unreadable publication date %r", value)
    return None


def _signature(data_dir: Path) -> tuple[float, ...]:
    """Modification times of the data files, so an edited file is picked up on the next call."""
    return tuple(
        (data_dir / name).stat().st_mtime if (data_dir / name).exists() else -1.0
        for name in DATA_FILES
    )


def load_rules(data_dir: str | Path | None = None) -> Enricher:
    """The Enricher for `data_dir` (default: crawler/data), compiled once and cached."""
    path = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    key = (str(path.resolve()), _signature(path))
    with _lock:
        enricher = _cache.get(key)
        if enricher is None:
            enricher = Enricher.from_dir(path)
            for stale in [k for k in _cache if k[0] == key[0]]:
                del _cache[stale]  # an older version of the same folder's files
            _cache[key] = enricher
            logger.debug("compiled enrichment data from %s", path)
    return enricher
