"""The fast query path gives Whoosh's own answers: matches, facets, snippets, pages, refresh.

Snippets are Whoosh's but for one rule of the site's: the bigrams of a Chinese query run are
marked only where the whole run stands (``run_starts``), which the reference applies too."""

from __future__ import annotations

import html
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from csrnews.search import IndexMissingError, QueryError, SearchRequest, SearchService, update_index
from csrnews.search.document import markdown_to_text
from csrnews.search.facets import FACETS, FacetTable, facet_answer, facet_objects
from csrnews.search.highlight import (
    FastHighlighter,
    chinese_runs,
    snippet_formatter,
    snippet_fragmenter,
)
from whoosh import highlight as whoosh_highlight
from whoosh import sorting
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    ContextFragmenter,
    Highlighter,
    HtmlFormatter,
    set_matched_filter,
    top_fragments,
)

from bench.corpus import generate_corpus
from bench.queries import QUERY_MIX
from tests.test_search_index import STORIES, _write

EXTRA_QUERIES = [
    "",
    "forum",
    "supply chain",
    "suppliers NOT wages",
    "memorandum AND textile",
    "audit OR training",
    "report ANDMAYBE safety",
    "s*",
    "supply~2",
    "org:amfori",
    "type:report",
    "year:[2015 TO 2019]",
    "企业社会责任",
    '"社会责任年会"',
    "ISO26000",
    "wages survey",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of 300 generated stories plus the hand-written test stories."""
    base = tmp_path_factory.mktemp("fast")
    content, index = base / "content", base / "index"
    generate_corpus(content, 300)
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    return index


def mix_requests() -> list[SearchRequest]:
    """The benchmark's query mix as search requests."""
    return [
        SearchRequest(
            q=item.q,
            filters=dict(item.filters),
            sort=item.sort,
            date_from=item.date_from,
            date_to=item.date_to,
        )
        for item in QUERY_MIX
    ]


def _requests() -> list[SearchRequest]:
    out = mix_requests()
    out += [SearchRequest(q=q) for q in EXTRA_QUERIES]
    out += [
        SearchRequest(q="audit", page=2),
        SearchRequest(q="supply", page=3, per_page=7),
        SearchRequest(q="supply", page=999),  # past the last page: no hits
        SearchRequest(q="", sort="date", page=4),
        SearchRequest(q="", filters={"org": ["amfori", "MIIT"], "lang": ["en"]}),
    ]
    return out


@contextmanager
def _marked_whole(text: str, runs: tuple[str, ...]) -> Iterator[None]:
    """Whoosh's highlighting of ``text``, with a bigram of a Chinese query run matched only
    where it starts inside the whole run (as the site marks it)."""
    # where each bigram of a run of three or more stands inside the whole run (written here
    # from the rule, not with the site's run_starts): a run the text never holds, and a
    # bigram the query searches alone (a run of two), keep their marks everywhere
    alone = {run for run in runs if len(run) == 2}
    only: dict[str, set[int]] = {}
    loose: set[str] = set()
    for run in (r for r in runs if len(r) > 2):
        pairs = [run[k : k + 2] for k in range(len(run) - 1)]
        starts = [m.start() for m in re.finditer(f"(?={re.escape(run)})", text)]
        if not starts:
            loose.update(pairs)
        for at in starts:
            for k, pair in enumerate(pairs):
                if pair not in alone:
                    only.setdefault(pair, set()).add(at + k)
    only = {pair: at for pair, at in only.items() if pair not in loose}

    def matched(tokens: Iterator, termset: frozenset[str]) -> Iterator:
        for token in tokens:
            starts = only.get(token.text)
            token.matched = token.text in termset and (starts is None or token.startchar in starts)
            yield token

    original = whoosh_highlight.set_matched_filter
    whoosh_highlight.set_matched_filter = matched
    try:
        yield
    finally:
        whoosh_highlight.set_matched_filter = original


def _reference(service: SearchService, request: SearchRequest) -> dict:
    """The answer as the query layer computed it before (grouped search, re-analysed snippets)."""
    snapshot = service._current()
    searcher = snapshot.acquire()
    try:
        final, qstring = service._query(searcher, request)
        runs = chinese_runs(qstring)
        sortedby = None if request.sort == "relevance" else sorting.FieldFacet("date", reverse=True)
        page = searcher.search_page(
            final,
            request.page,
            pagelen=request.per_page,
            groupedby=facet_objects(),
            sortedby=sortedby,
            terms=True,
        )
        page.results.fragmenter = ContextFragmenter(maxchars=220, surround=60)
        page.results.formatter = HtmlFormatter(tagname="mark", classname="hl", between=" … ")
        hits = []
        for hit in page:
            text = hit.get("body") or markdown_to_text(hit.get("summary") or "")
            with _marked_whole(text, runs):
                snippet = hit.highlights("body", text=text, top=2)
            if not snippet:
                with _marked_whole(hit.get("summary") or "", runs):
                    snippet = hit.highlights("summary", top=1)
            if not snippet:
                snippet = html.escape(text[:240] + ("…" if len(text) > 240 else ""))
            hits.append((hit["url"], snippet))
        counts = {}
        for name in FACETS:
            counts[name] = {k: len(v) for k, v in page.results.groups(name).items()}
        if request.page > max(1, -(-len(page) // request.per_page)):
            hits = []  # a page past the last is answered with no hits (not the last page's)
        return {"total": len(page), "hits": hits, "facets": counts}
    finally:
        snapshot.release(searcher)


@pytest.mark.slow
@pytest.mark.parametrize("cache_size", [0, 64])
def test_answers_equal_whooshs_grouped_search(corpus: Path, cache_size: int) -> None:
    service = SearchService(corpus, cache_size=cache_size)
    for request in _requests() * 2:  # twice: the second time from the cache, if any
        answer = service.search(request)
        expected = _reference(service, request)
        assert answer["total"] == expected["total"], request
        assert [(h["url"], h["snippet"]) for h in answer["hits"]] == expected["hits"], request
        want_facets = facet_answer(
            {name: Counter(c) for name, c in expected["facets"].items()},
            lambda _name, value: value,
        )
        for name in FACETS:
            got = [(f["value"], f["count"]) for f in answer["facets"][name]]
            assert got == [(f["value"], f["count"]) for f in want_facets[name]], (request, name)


def test_snippets_have_marks_and_match_whoosh(corpus: Path) -> None:
    service = SearchService(corpus, cache_size=0)
    answer = service.search(SearchRequest(q="supply chain"))
    assert answer["hits"] and all('<mark class="hl term' in h["snippet"] for h in answer["hits"])


def test_facet_table_counts_equal_grouped_search_counts(corpus: Path) -> None:
    service = SearchService(corpus, cache_size=0)
    snapshot = service._current()
    searcher = snapshot.acquire()
    try:
        table = FacetTable(searcher)
        assert table.doc_count_all == searcher.doc_count_all()
        for request in _requests():
            final, _ = service._query(searcher, request)
            results = searcher.search(final, limit=None, groupedby=facet_objects())
            counts = table.counts(sorted(results.docs()))
            for name in FACETS:
                slow = {k: len(v) for k, v in results.groups(name).items()}
                assert dict(counts[name]) == slow, (request, name)
    finally:
        snapshot.release(searcher)


@pytest.mark.slow
def test_fast_highlighter_equals_whoosh_highlight(corpus: Path) -> None:
    service = SearchService(corpus, cache_size=0)
    snapshot = service._current()
    searcher = snapshot.acquire()
    try:
        analyzer = searcher.schema["body"].analyzer
        fast = FastHighlighter(analyzer)
        assert fast.tokenizer is not None and fast.raw_tokens  # the fast path is the one tested
        texts = [fields["body"] for fields in searcher.all_stored_fields()][:120]
        for words in (
            {"suppli", "chain"},
            {"audit"},
            {"供应", "应链"},
            {"iso", "26000"},
            {"train", "supplier"},
            {"the"},
        ):
            for text in texts:
                want = _whoosh_highlight(text, frozenset(words), analyzer)
                got = fast.highlight(
                    text, frozenset(words), snippet_formatter(), snippet_fragmenter(), top=2
                )
                assert got == want, (words, text[:80])
    finally:
        snapshot.release(searcher)


def _whoosh_highlight(text: str, words: frozenset[str], analyzer: object) -> str:
    """What ``Hit.highlights`` does when it re-tokenizes a text (its retokenizing branch)."""
    tokens = analyzer(text, positions=True, chars=True, mode="index", removestops=False)
    tokens = Highlighter._merge_matched_tokens(set_matched_filter(tokens, words))
    fragments = ContextFragmenter(maxchars=220, surround=60).fragment_tokens(text, tokens)
    best = top_fragments(fragments, 2, BasicFragmentScorer(), FIRST)
    return HtmlFormatter(tagname="mark", classname="hl", between=" … ").format(best)


def test_a_changed_index_refreshes_searchers_and_caches(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    for row in STORIES[:3]:
        _write(content, row)
    update_index(content, index)
    service = SearchService(index)
    first = service.search(SearchRequest(q=""))
    assert first["total"] == 3
    years = {f["value"]: f["count"] for f in first["facets"]["year"]}
    assert "2018" in years and years["2018"] == 1
    old = service._snapshot
    assert service.search(SearchRequest(q=""))["total"] == 3
    assert service._snapshot is old  # same generation: same searchers and caches

    _write(content, STORIES[4])  # a second 2018 story
    update_index(content, index)
    second = service.search(SearchRequest(q=""))
    assert second["total"] == 4
    assert {f["value"]: f["count"] for f in second["facets"]["year"]}["2018"] == 2
    assert service._snapshot is not old and old.retired
    assert service.search(SearchRequest(q="memorandum"))["total"] == 1

    # A deletion leaves a deleted docnum in the segment: not matched, not counted.
    for path in content.rglob("*.md"):
        if "textile-mou" in path.name:
            path.unlink()
    update_index(content, index)
    third = service.search(SearchRequest(q=""))
    assert third["total"] == 3 and service.search(SearchRequest(q="memorandum"))["total"] == 0
    assert {f["value"]: f["count"] for f in third["facets"]["year"]}["2018"] == 1


def test_concurrent_searches_share_the_service(corpus: Path) -> None:
    service = SearchService(corpus)
    requests = _requests()
    expected = {repr(r): service.search(r) for r in requests}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for request in requests:
                assert service.search(request) == expected[repr(request)]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]


def test_misspelled_words_still_get_suggestions(corpus: Path) -> None:
    service = SearchService(corpus)
    for _ in range(2):  # computed, then from the cache
        answer = service.search(SearchRequest(q="conflcit minerals"))
        assert answer["suggestion"] == "conflict minerals"


@pytest.mark.parametrize(
    "text",
    [
        "ISO26000 and SJ/T 11728-2018 apply; 企业社会责任 报告 中 a",
        "Café naïve e\u0301 x²y snake_case CO2e 3.5% ＡＢＣ１２ Ⅻ",
        "第七届中国企业社会责任年会在北京召开。8月28日",
        "",
        "   ...   ",
    ],
)
def test_raw_tokens_are_the_tokenizers(text: str) -> None:
    from csrnews.search.analysis import MixedTokenizer
    from csrnews.search.highlight import mixed_raw_tokens

    want = [(t.startchar, t.endchar, t.text) for t in MixedTokenizer()(text, chars=True)]
    assert mixed_raw_tokens(text) == want


@pytest.mark.parametrize("per_page", [0, -3])
def test_a_page_size_below_one_is_a_query_error(corpus: Path, per_page: int) -> None:
    with pytest.raises(QueryError, match="per_page"):
        SearchService(corpus).search(SearchRequest(q="audit", per_page=per_page))


# Whoosh leaves the damaged file open; it is closed when the exception is freed.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_damaged_index_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "_MAIN_3.toc").write_bytes(b"not a table of contents")
    with pytest.raises(IndexMissingError, match=r"cannot be read.*csrnews build"):
        SearchService(tmp_path).search(SearchRequest(q="audit"))
