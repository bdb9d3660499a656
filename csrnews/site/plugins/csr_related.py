"""Related stories by shared organisations, standards and tags: inverted indexes and top-k."""

from __future__ import annotations

import bisect
import hashlib
import heapq
import logging
import pickle
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pelican import signals

from csrnews.story.atomicfile import replacing

logger = logging.getLogger(__name__)

WEIGHTS = {"org": 3.0, "std": 3.0, "tag": 1.0}
# Per shared key, only the WINDOW stories published just before a story are candidates: a
# story's related stories are earlier ones, so a new story never changes an older story's page
# (the nightly renders the new stories, not the pages of every story they would be related to).
WINDOW = 50
# The related stories of the last build, in Pelican's reader cache folder (one per build setup:
# code and settings); see compute_related.
CACHE_FILE = "csrnews-related.pickle"


def _keys(article: Any) -> list[tuple[str, str]]:
    keys = [("org", o.slug) for o in getattr(article, "organisations", [])]
    keys += [("std", s.slug) for s in getattr(article, "standards", [])]
    keys += [("tag", t.slug) for t in getattr(article, "tags", []) or []]
    return keys


def compute_related(
    articles: list[Any], limit: int = 5, known: Mapping[bytes, tuple[int, ...]] | None = None
) -> dict[bytes, tuple[int, ...]]:
    """Set ``article.related`` on each article (newest first in ``articles``): earlier stories.

    Inverted indexes over organisations, standards and tags; each shared key adds a weight
    that falls with the key's frequency among the stories up to this one (so later stories
    change no earlier story's weights); bounded work per story (no all-pairs comparison).

    A story's related stories depend on nothing but the keys of the stories from it to the
    oldest, in order: returns them by a digest of those keys (as offsets to the story), and
    takes ``known``, such a result of an earlier build, to keep those whose digest is the same
    (a night's new stories, newer than the rest, leave every older story's digest unchanged).
    """
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    keys_of = [_keys(a) for a in articles]
    digests = _suffix_digests(keys_of, limit)
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
    found: dict[bytes, tuple[int, ...]] = {}
    for i, article in enumerate(articles):
        offsets = known.get(digests[i]) if known else None
        if offsets is None:
            scores: dict[int, float] = {}
            get = scores.get
            for posting, pos, base in places[i]:
                weight = base / (1.0 + (len(posting) - pos) / 50.0)
                for j in posting[pos + 1 : pos + WINDOW + 1]:
                    scores[j] = get(j, 0.0) + weight
            # highest score first, then the newer of the earlier stories
            best = heapq.nsmallest(limit, [(-score, j) for j, score in scores.items()])
            offsets = tuple(j - i for _, j in best)
        found[digests[i]] = offsets
        article.related = [articles[i + d] for d in offsets]
    return found


def _suffix_digests(keys_of: list[list[tuple[str, str]]], limit: int) -> list[bytes]:
    """For each story, a digest of its keys and those of every older story, in order."""
    digests = [b""] * len(keys_of)
    running = hashlib.blake2b(f"{limit},{WINDOW},{sorted(WEIGHTS.items())}".encode()).digest()
    for i in range(len(keys_of) - 1, -1, -1):
        running = hashlib.blake2b(running + repr(keys_of[i]).encode(), digest_size=16).digest()
        digests[i] = running
    return digests


def _load(path: Path) -> dict[bytes, tuple[int, ...]]:
    try:
        with path.open("rb") as handle:
            data = pickle.load(handle)
    except Exception:  # missing, or cut short by a killed build: compute them all
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, data: dict[bytes, tuple[int, ...]]) -> None:
    """Write the file whole or not at all, with the umask's mode as Pelican's cache files."""
    try:
        with replacing(path) as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        logger.warning("could not save the related stories in %s: %s", path, exc)


def set_neighbours(articles: list[Any]) -> None:
    """``prev_article`` (older) and ``next_article`` (newer) on each story, newest first in."""
    for i, article in enumerate(articles):
        article.next_article = articles[i - 1] if i > 0 else None
        article.prev_article = articles[i + 1] if i + 1 < len(articles) else None


def on_articles(generator: Any) -> None:
    settings = generator.settings
    limit = settings.get("RELATED_MAX", 5)
    if not (settings.get("CACHE_CONTENT") and settings.get("CACHE_PATH")):
        compute_related(generator.articles, limit)
    else:
        # kept beside Pelican's reader cache (whose folder is one per code and settings)
        path = Path(settings["CACHE_PATH"]) / CACHE_FILE
        known = _load(path) if settings.get("LOAD_CONTENT_CACHE") else {}
        found = compute_related(generator.articles, limit, known)
        if found != known:
            _save(path, found)
    set_neighbours(generator.articles)


def register() -> None:
    signals.article_generator_finalized.connect(on_articles)
