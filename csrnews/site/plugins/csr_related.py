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
# Per shared key, only the WINDOW stories published just before a story are candidates: a
# story's related stories are earlier ones, so a new story never changes an older story's page
# (the nightly renders the new stories, not the pages of every story they would be related to).
WINDOW = 50


def _keys(article: Any) -> list[tuple[str, str]]:
    keys = [("org", o.slug) for o in getattr(article, "organisations", [])]
    keys += [("std", s.slug) for s in getattr(article, "standards", [])]
    keys += [("tag", t.slug) for t in getattr(article, "tags", []) or []]
    return keys


def compute_related(articles: list[Any], limit: int = 5) -> None:
    """Set ``article.related`` on each article (newest first in ``articles``): earlier stories.

    Inverted indexes over organisations, standards and tags; each shared key adds a weight
    that falls with the key's frequency among the stories up to this one (so later stories
    change no earlier story's weights); bounded work per story (no all-pairs comparison).
    """
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    keys_of = [_keys(a) for a in articles]
    places: list[list[tuple[list[int], int, float]]] = []
    for i, keys in enumerate(keys_of):
        mine = []
        for key in keys:
            posting = postings[key]
            # where the story's own entry is (its first, should it name a key twice)
            pos = bisect.bisect_left(posting, i) if posting and posting[-1] == i else len(posting)
            mine.append((posting, pos, WEIGHTS[key[0]]))
            posting.append(i)  # ascending: the stories after i in a posting are older ones
        places.append(mine)
    for i, article in enumerate(articles):
        scores: dict[int, float] = {}
        get = scores.get
        for posting, pos, base in places[i]:
            weight = base / (1.0 + (len(posting) - pos) / 50.0)
            for j in posting[pos + 1 : pos + WINDOW + 1]:
                scores[j] = get(j, 0.0) + weight
        # highest score first, then the newer of the earlier stories
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
