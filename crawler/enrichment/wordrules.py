"""Weighted word rules: editors' words, each filed under a key (event type, topic) with a weight."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from csrnews.crawler.enrichment.textutil import PhraseIndex, normalise

logger = logging.getLogger(__name__)


@dataclass
class WordRules:
    """Words grouped under keys (event types, topics), each with a weight."""

    index: PhraseIndex
    groups: dict[str, list[tuple[str, float]]]  # word -> [(key, weight), ...]

    @classmethod
    def build(cls, rules: Iterable[tuple[str, float, str]]) -> WordRules:
        """Compile (key, weight, word) triples; a word listed under several keys counts for each."""
        groups: dict[str, list[tuple[str, float]]] = {}
        for key, weight, word in rules:
            word = " ".join(normalise(word).split())
            groups.setdefault(word, []).append((key, float(weight)))
        index = PhraseIndex()
        for word in groups:
            wildcard = word.endswith("*") and len(word) > 1
            index.add(
                word.rstrip("*") if wildcard else word, word, ignore_case=True, wildcard=wildcard
            )
        return cls(index, groups)

    def counts(self, text: str) -> Counter[str]:
        """How often each word occurs in `text`."""
        return Counter(str(payload) for _, _, payload in self.index.finditer(text))

    def scores(self, text: str, max_count: int, factor: float = 1.0) -> Counter[str]:
        """Weighted score per key; each word counts at most `max_count` times."""
        totals: Counter[str] = Counter()
        for word, count in self.counts(text).items():
            for key, weight in self.groups[word]:
                totals[key] += weight * min(count, max_count) * factor  # type: ignore[assignment]  # a Counter of float points
        return totals
