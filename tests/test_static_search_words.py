"""The static search over several shards finds what one index of the same stories finds: a query
word some shards lack must not bring their prefix matches (Pagefind, in a shard without the
word, matches the longest prefix of it the shard indexes), in English and in Chinese; and its
excerpts mark each query word whole, as /api/search does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.search.staticsearch import build_static_search

from tests.golden_site import SAMPLES
from tests.test_static_search_delta import (
    SEARCHED,
    TARGET,
    UNAVAILABLE,
    _answer,
    _site_root,
    search_page,
    serve_roots,
)

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


# Query words the samples' index holds only split into shorter words (供应链 as 供应 and 链, 年会
# as 年 and 会, 与会者 as 与会 and 者): Pagefind matches each by its longest indexed prefix and
# marks only that prefix; the search page must mark the whole word. English marks stay
# Pagefind's own.
WHOLE = ("供应链", "年会", "与会者", "供应链 年会")
PLAIN = ("supply chain", "train")

# Each hit's snippet as the page shows it, and the excerpt Pagefind itself gives for it (the
# page's own Pagefind instance, every shard merged in, asked again once the page has answered).
SNIPPETS = """async () => {
  const q = new URLSearchParams(location.search).get("q");
  const manifest = await (await fetch("/pagefind/shards.json")).json();
  const pagefind = await import("/pagefind/" + manifest.shards[0].id + "/pagefind.js");
  const own = {};
  for (const result of (await pagefind.search(q)).results) {
    const data = await result.data();
    own[data.url] = data.excerpt;
  }
  const marks = (node) => Array.from(node.querySelectorAll("mark"), (m) => m.textContent);
  return Array.from(document.querySelectorAll("#search-results .hit"), (hit) => {
    const url = hit.querySelector(".hit-title a").getAttribute("href");
    const snippet = hit.querySelector(".snippet");
    const excerpt = new DOMParser().parseFromString("<body>" + own[url], "text/html").body;
    return { url: url, text: snippet.textContent, marks: marks(snippet),
             pagefind: url in own ? marks(excerpt) : null };
  });
}"""


def _snippets(page: Any, url: str) -> list[dict[str, Any]]:
    for attempt in (1, 2):  # as _answer: once more when Pagefind failed to load a bundle file
        page.goto(url)
        page.wait_for_function(f"{SEARCHED} || {UNAVAILABLE}", timeout=60_000)
        if page.evaluate(SEARCHED):
            break
        assert attempt == 1, f"{url}: {page.inner_text('#search-status')}"
    snippets: list[dict[str, Any]] = page.evaluate(SNIPPETS)
    assert not page.errors, page.errors
    assert snippets, url
    for snippet in snippets:
        assert snippet["pagefind"] is not None, snippet  # a hit Pagefind gives
    return snippets


def test_excerpts_mark_each_query_word_whole(layouts: dict[str, str], browser: Any) -> None:
    # layouts first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    for name, root in layouts.items():
        for query in WHOLE:
            snippets = _snippets(page, f"{root}/search/?q={query}")
            for word in query.split():
                assert any(word in s["text"] for s in snippets), (name, query, word)
                for s in snippets:  # every time the word shows, a mark holds it
                    held = sum(mark.count(word) for mark in s["marks"])
                    assert held == s["text"].count(word), (name, query, word, s)
            for s in snippets:  # Pagefind's marks, some grown to the whole word; no new ones
                assert len(s["marks"]) == len(s["pagefind"]), (name, query, s)
                assert all(map(str.startswith, s["marks"], s["pagefind"])), (name, query, s)
        for query in PLAIN:
            snippets = _snippets(page, f"{root}/search/?q={query}")
            assert any(s["marks"] for s in snippets), (name, query)
            for s in snippets:
                assert s["marks"] == s["pagefind"], (name, query, s)
    page.close()
