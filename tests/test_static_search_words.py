"""The static search over several shards finds what one index of the same stories finds: a query
word some shards lack must not bring their prefix matches (Pagefind, in a shard without the
word, matches the longest prefix of it the shard indexes), in English and in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.search.staticsearch import build_static_search

from tests.golden_site import SAMPLES
from tests.test_static_search_delta import TARGET, _answer, _site_root, search_page, serve_roots

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Each shard of the split layout (2024, 2025.1, 2025.2) lacks some of these words but indexes a
# shorter prefix of it: "a" or "am" for "amfori", "for" for "forum", "au" for "audit", 与 for
# 与会 (only 2024 has 与会; 2025.2 has 与). 与会者 no shard indexes: one index takes its longest
# indexed prefix, 与会, and so must the split layout (not 与 as well). "train" matches by prefix
# ("training") in every shard alike; facets and filters must agree too.
QUERIES = (
    "?q=amfori",
    "?q=forum",
    "?q=audit&lang=en",
    "?q=training%20amfori",
    "?q=train",
    "?q=%E4%B8%8E%E4%BC%9A",
    "?q=%E4%B8%8E%E4%BC%9A%E8%80%85",
)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The samples' static search as one shard and as three, each on a static server."""
    base = tmp_path_factory.mktemp("words")
    roots: dict[str, Path] = {}
    for name, target in (("one", 4000), ("split", TARGET)):
        bundle = base / f"bundle-{name}"
        bundle.mkdir()
        stats = build_static_search(SAMPLES, bundle, target=target)
        assert stats.shards == (1 if name == "one" else 3), stats
        roots[name] = _site_root(base / name, bundle)
    yield from serve_roots(roots, base)


def test_several_shards_find_what_one_index_finds(layouts: dict[str, str], browser: Any) -> None:
    # layouts first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    for query in QUERIES:
        want = _answer(page, layouts["one"] + "/search/" + query)
        assert want["hits"], query
        assert _answer(page, layouts["split"] + "/search/" + query) == want, query
    page.close()
