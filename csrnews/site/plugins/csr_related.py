"""Related stories by shared organisations, standards and tags: inverted indexes and top-k."""

from __future__ import annotations

import bisect
import heapq
import logging
from collections import defaultdict
from typing import Any

from pelican import signals

logger = logging.getLogger(__name__)

WEIGHTS = {"org": 3.0, "std": 3.0, "tag": 1.0}
WINDOW = 25  # per shared key, only the stories nearest in time on either side are candidates


def _keys(article: Any) -> list[tuple[str, str]]:
    keys = [("org", o.slug) for o in getattr(article, "organisations", [])]
    keys += [("std", s.slug) for s in getattr(article, "standards", [])]
    keys += [("tag", t.slug) for t in getattr(article, "tags", []) or []]
    return keys


def compute_related(articles: list[Any], limit: int = 5) -> None:
    """Set ``article.related`` on each article (newest first in ``articles``).

    Inverted indexes over organisations, standards and tags; each shared key adds a weight
    that falls with the key's frequency; bounded work per story (no all-pairs comparison).
    """
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    keys_of = [_keys(a) for a in articles]
    for i, keys in enumerate(keys_of):
        for key in keys:
            postings[key].append(i)  # ascending, so bisect finds a story's neighbours
    for i, article in enumerate(articles):
        scores: dict[int, float] = defaultdict(float)
        for key in keys_of[i]:
            posting = postings[key]
            weight = WEIGHTS[key[0]] / (1.0 + len(posting) / 50.0)
            pos = bisect.bisect_left(posting, i)
            for j in posting[max(0, pos - WINDOW) : pos + WINDOW + 1]:
                if j != i:
                    scores[j] += weight
        # highest score first, then the newer story: the same order as key=(-score, j)
        best = heapq.nsmallest(limit, [(-score, j) for j, score in scores.items()])
        article.related = [articles[j] for _, j in best]


def set_neighbours(articles: list[Any]) -> None:
    """``prev_article`` (older) and ``next_article`` (newer) on each story, newest first in."""
    for i, article in enumerate(articles):
        article.next_article = articles[i - 1] if i > 0 else None
        article.prev_article = articles[i + 1] if i + 1 < len(articles) else None


def on_articles(generator: Any) -> None:
    compute_related(generator.articles, generator.settings.get("RELATED_MAX", 5))
    set_neighbours(generator.articles)


def register() -> None:
    signals.article_generator_finalized.connect(on_articles)
