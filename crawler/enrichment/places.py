"""Locations: cities, provinces and countries in English and Chinese, by canonical English name."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from csrnews.crawler.enrichment.textutil import PhraseIndex, drop_overlaps

logger = logging.getLogger(__name__)


@dataclass
class PlaceMatcher:
    """Compiled place data: case-sensitive names, and a regex for the idiom patterns."""

    index: PhraseIndex
    pattern: re.Pattern[str] | None
    pattern_names: dict[str, str]
    countries: frozenset[str] = frozenset()

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PlaceMatcher:
        index = PhraseIndex()
        pattern_names: dict[str, str] = {}
        branches: list[str] = []
        for entry in data.get("locations") or []:
            name = str(entry["name"]).strip()
            for alias in [name, *(str(a) for a in entry.get("aliases") or [])]:
                index.add(alias, name, ignore_case=False)
            for pat in entry.get("patterns") or []:
                group = f"p{len(pattern_names)}"
                pattern_names[group] = name
                branches.append(f"(?P<{group}>{pat})")
        pattern = re.compile("|".join(branches)) if branches else None
        countries = frozenset(
            str(e["name"]) for e in data.get("locations") or [] if e.get("kind") == "country"
        )
        return cls(index, pattern, pattern_names, countries)

    def find(self, text: str, masked: Sequence[tuple[int, int]] = ()) -> list[str]:
        """Canonical place names in order of first mention, skipping matches inside `masked`."""
        matches = self.index.finditer(text)
        if self.pattern is not None:
            for match in self.pattern.finditer(text):
                matches.append((*match.span(), self.pattern_names[match.lastgroup or ""]))
        found: dict[str, None] = {}
        national: dict[str, None] = {}
        for start, end, name in drop_overlaps(matches):
            if not any(s < end and start < e for s, e in masked):
                found.setdefault(str(name), None)
            elif name in self.countries:
                # "中国ESG研究院", "Canon (China)": a national body's country is the story's
                # scope too, after every place named in its own right.
                national.setdefault(str(name), None)
        return list(found) + [n for n in national if n not in found]
