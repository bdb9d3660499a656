"""The vectorised match path (search/fastmatch.py) answers exactly as Whoosh's collectors do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from csrnews.search import SearchRequest, SearchService, update_index
from csrnews.search.fastmatch import FastIndex, fast_matches
from csrnews.search.query import RESULT_CACHE_DEPTH, service_options

from bench.corpus import generate_corpus
from tests.test_search_query_fast import mix_requests

pytestmark = pytest.mark.slow

STORIES = 1500


def _request(q: str = "", **kwargs: object) -> SearchRequest:
    return SearchRequest(q=q, **kwargs)  # type: ignore[arg-type]


MIX = mix_requests()
EXTRA = [
    _request(""),
    _request("", sort="date"),
    _request("", filters={"lang": ["zh"]}),
    _request("", filters={"org": ["MIIT", "amfori"], "lang": ["en"]}, sort="date"),
    _request("", filters={"type": ["report"], "year": ["2019", "2021"]}),
    _request("", filters={"standard": ["ISO 26000"]}),
    _request("", filters={"tag": ["labour"]}),
    _request("", date_from="2019-01-01", date_to="2020-06-30"),
    _request("", date_from="2021-03"),
    _request("safety", date_to="2016", sort="date"),
    _request('"supply chain"'),
    _request('"fire safety"', sort="date"),
    _request('"corrective action plans"', filters={"lang": ["en"]}),
    _request('"action corrective"'),  # the words, never in this order
    _request('"社会责任"'),
    _request('"绿色采购"'),
    _request("社会责任报告"),
    _request("audit OR training"),
    _request("labour OR emissions OR 供应链"),
    _request('"supply chain" OR amfori'),
    _request("title:audit"),
    _request("title:audit summary:safety"),
    _request("org:amfori"),
    _request("type:report"),
    _request("year:[2015 TO 2019]"),
    _request("supp*"),
    _request("emisions~1"),
    _request("audit^3 supply"),
    _request("nosuchwordanywhere"),
    _request("audit", page=8),  # deeper than the cached depth: a longer top
]
UNSUPPORTED = [
    _request("audit NOT supply"),
    _request("report ANDMAYBE safety"),
    _request("audit ANDNOT labour"),
    _request('"supply chain"~3'),
]


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One index of a generated corpus, and a copy updated incrementally (several segments)."""
    base = tmp_path_factory.mktemp("fastmatch")
    content, single = base / "content", base / "single"
    generate_corpus(content, STORIES, seed=7)
    update_index(content, single)

    content2, multi = base / "content2", base / "multi"
    shutil.copytree(content, content2)
    shutil.copytree(single, multi)
    files = sorted((content2 / "news").glob("*/*.md"))
    for path in files[::40]:  # changed stories: deleted and added again
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text + "\nAuditors reviewed the corrective action plans of the supply chain.\n",
            encoding="utf-8",
        )
    for path in files[5::37]:  # removed stories: deleted documents
        path.unlink()
    generate_corpus(content2, 80, seed=7, start=STORIES)  # new stories
    update_index(content2, multi)
    return {"single": single, "multi": multi}


def _both(index: Path, request: SearchRequest) -> tuple[object, tuple, list]:
    """The fast path's result and Whoosh's (top, all docnums) for one request."""
    service = SearchService(index, cache_size=0)
    snapshot = service._current()
    searcher = snapshot.acquire()
    try:
        final, _ = service._query(searcher, request)
        limit = max(request.page * request.per_page, RESULT_CACHE_DEPTH)
        fast = fast_matches(FastIndex(), searcher, final, request.sort, limit)
        top, docnums = service._whoosh_matches(searcher, final, request.sort, limit)
        return fast, top, list(docnums)
    finally:
        snapshot.release(searcher)


def test_the_incremental_index_has_segments_and_deletions(indexes: dict[str, Path]) -> None:
    from whoosh import index as whoosh_index

    with whoosh_index.open_dir(str(indexes["multi"])).searcher() as searcher:
        reader = searcher.reader()
        assert len(searcher.leaf_searchers()) > 1
        assert reader.has_deletions()


@pytest.mark.parametrize("kind", ["single", "multi"])
@pytest.mark.parametrize("request_", MIX + EXTRA, ids=lambda r: f"{r.q!r}-{r.sort}")
def test_fast_path_matches_whoosh(
    indexes: dict[str, Path], kind: str, request_: SearchRequest
) -> None:
    fast, top, docnums = _both(indexes[kind], request_)
    assert fast is not None, "the fast path declined a query shape it should answer"
    assert len(fast.docnums) == len(docnums)
    assert fast.docnums == docnums  # both ascending
    assert fast.top == top  # same scores, same tie-break (lower docnum first)


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_search_answers_are_identical(indexes: dict[str, Path], kind: str) -> None:
    fast = SearchService(indexes[kind], cache_size=0, fastpath=True)
    slow = SearchService(indexes[kind], cache_size=0, fastpath=False)
    for request in MIX + EXTRA + UNSUPPORTED:
        want = slow.search(request)
        got = fast.search(request)
        assert got == want, request


@pytest.mark.parametrize("request_", UNSUPPORTED, ids=lambda r: r.q)
def test_unsupported_queries_fall_back(indexes: dict[str, Path], request_: SearchRequest) -> None:
    fast, _top, docnums = _both(indexes["multi"], request_)
    assert fast is None
    service = SearchService(indexes["multi"], cache_size=0)
    answer = service.search(request_)
    assert answer["total"] == len(docnums) > 0


def test_the_switch_turns_the_fast_path_off(indexes: dict[str, Path]) -> None:
    off = service_options({"CSRNEWS_SEARCH_FASTPATH": "0"})
    assert SearchService(indexes["single"], **off).fastpath is False
    on = service_options({"CSRNEWS_SEARCH_FASTPATH": "1"})
    assert SearchService(indexes["single"], **on).fastpath is True
    assert SearchService(indexes["single"]).fastpath is True
    assert SearchService(indexes["single"], fastpath=False).fastpath is False


def test_field_lengths_are_whooshs(indexes: dict[str, Path]) -> None:
    from whoosh import index as whoosh_index

    fast_index = FastIndex()
    with whoosh_index.open_dir(str(indexes["multi"])).searcher() as searcher:
        for number, (sub, _offset) in enumerate(searcher.leaf_searchers()):
            reader = sub.reader()
            for fieldname in ("title", "body", "organisations", "tags"):
                got = fast_index.lengths(number, reader, fieldname)
                for docnum in range(0, reader.doc_count_all(), 7):
                    want = reader.doc_field_length(docnum, fieldname, 1)
                    assert got[docnum] == (want or 0), (fieldname, docnum)


def test_a_failing_fast_path_leaves_the_answer_to_whoosh(
    indexes: dict[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from csrnews.search import fastmatch

    request = _request('"supply chain"', filters={"lang": ["en"]})
    want = SearchService(indexes["multi"], cache_size=0, fastpath=False).search(request)

    def broken(*args: object) -> None:
        raise AttributeError("an internal the fast path reads has gone")

    monkeypatch.setattr(fastmatch, "_match_all", broken)
    monkeypatch.setattr(fastmatch, "_warned", fastmatch.threading.Event())
    with caplog.at_level("WARNING", logger="csrnews.search.fastmatch"):
        got = SearchService(indexes["multi"], cache_size=0).search(request)
    assert got == want and want["total"] > 0
    assert "fast path failed" in caplog.text
