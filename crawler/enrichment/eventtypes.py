"""Event type: weighted rules over title and text (the title counts more) from event_types.yaml."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from crawler.enrichment.wordrules import WordRules
from csrnews.vocabulary import EVENT_TYPES

logger = logging.getLogger(__name__)


@dataclass
class TypeClassifier:
    """Scores every event type; the best is the Category, strong runners-up become tags."""

    rules: WordRules
    title_weight: float = 4.0
    max_count: int = 3
    min_score: float = 4.0
    runner_up_ratio: float = 0.75
    top10_items_bonus: float = 20.0

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TypeClassifier:
        triples = []
        for type_id, rules in (data.get("types") or {}).items():
            if type_id not in EVENT_TYPES:
                raise ValueError(f"event_types.yaml: unknown event type {type_id!r}")
            for rule in rules or []:
                weight = float(rule.get("weight", 1))
                triples += [(type_id, weight, str(word)) for word in rule.get("words") or []]
        return cls(
            rules=WordRules.build(triples),
            title_weight=float(data.get("title_weight", 4)),
            max_count=int(data.get("max_count", 3)),
            min_score=float(data.get("min_score", 4)),
            runner_up_ratio=float(data.get("runner_up_ratio", 0.75)),
            top10_items_bonus=float(data.get("top10_items_bonus", 20)),
        )

    def scores(self, title: str, text: str, top10_items: int = 0) -> Counter[str]:
        """The score of every event type that earned any."""
        totals = self.rules.scores(text, self.max_count)
        totals.update(self.rules.scores(title, self.max_count, self.title_weight))
        if top10_items >= 5:
            totals["top10"] += self.top10_items_bonus
        return totals

    def classify(self, title: str, text: str, top10_items: int = 0) -> tuple[str, list[str]]:
        """The winning event-type id and the ids of strong runners-up."""
        totals = self.scores(title, text, top10_items)
        # Ties go to the type listed first in the vocabulary.
        order = list(EVENT_TYPES)
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
        if not ranked or ranked[0][1] < self.min_score:
            return "other", []
        best, best_score = ranked[0]
        runners = [
            key
            for key, score in ranked[1:3]
            if score >= self.runner_up_ratio * best_score and score >= self.min_score
        ]
        return best, runners
