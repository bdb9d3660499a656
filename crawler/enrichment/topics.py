"""Topic tags (supply chain, labour, environment ...) from topics.yaml."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from csrnews.crawler.enrichment.wordrules import WordRules

logger = logging.getLogger(__name__)


@dataclass
class TopicTagger:
    """Tags a topic when its words occur `min_count` times in the text or once in the title."""

    rules: WordRules
    order: list[str]
    min_count: int = 2

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TopicTagger:
        triples, order = [], []
        for entry in data.get("topics") or []:
            tag = str(entry["tag"]).strip()
            order.append(tag)
            triples += [(tag, 1.0, str(word)) for word in entry.get("words") or []]
        return cls(WordRules.build(triples), order, int(data.get("min_count", 2)))

    def tags(self, title: str, text: str) -> list[str]:
        """Topic tags in the order of the data file."""
        in_text = self.rules.scores(text, max_count=10**6)
        in_title = self.rules.scores(title, max_count=10**6)
        return [t for t in self.order if in_title[t] >= 1 or in_text[t] >= self.min_count]
