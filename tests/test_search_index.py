"""Search: analysis, incremental indexing, queries, facets, suggestions and the CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from csrnews.search import IndexLockedError, QueryError, SearchRequest, SearchService, update_index
from csrnews.search.analysis import mixed_analyzer

from csrnews.story.storyfile import Story, read_story, story_path, write_story
from tests.conftest import run_cli

STORIES = [
    # slug, title, date, lang, category, organisations, standards, source, body
    (
        "sjt-11728-issued",
        "MIIT issues SJ/T 11728-2018 on responsible minerals",
        "2018-05-02",
        "en",
        "Policy & standard",
        ["MIIT", "CESA"],
        ["SJ/T 11728-2018"],
        "Electronics News",
        "The Ministry of Industry and Information Technology released the industry standard "
        "SJ/T 11728-2018, which sets out due diligence for tin, tantalum and tungsten.",
    ),
    (
        "shenzhen-forum",
        "Shenzhen supply chain forum draws 300 delegates",
        "2017-06-14",
        "en",
        "Summit & forum",
        ["amfori", "RBA"],
        [],
        "The CSR Herald",
        "Delegates from amfori and the Responsible Business Alliance discussed working hours, "
        "wages and green procurement at the supply chain forum in Shenzhen.",
    ),
    (
        "annual-meeting-zh",
        "第七届企业社会责任年会在北京召开",
        "2019-08-28",
        "zh",
        "Summit & forum",
        ["China WTO Tribune"],
        ["SJ/T 16000-2016"],
        "China CSR Weekly",
        "8月28日，第七届中国企业社会责任年会在北京召开。与会代表讨论了电子信息行业社会责任指南的"
        "实施情况，并发布了年度报告。",
    ),
    (
        "iso-guide",
        "A practical guide to ISO 26000 for small suppliers",
        "2016-03-01",
        "en",
        "Report",
        ["ISO"],
        ["ISO 26000"],
        "The CSR Herald",
        "Small suppliers in Guangdong can apply ISO 26000 social responsibility guidance step by "
        "step, the guide says, starting with labour practices.",
    ),
    (
        "textile-mou",
        "Textile council and retailer sign memorandum of understanding",
        "2018-11-20",
        "en",
        "MoU & partnership",
        ["CNTAC"],
        [],
        "Supply Chain Review",
        "The China National Textile and Apparel Council signed a memorandum of understanding "
        "with a European retailer on chemical management in dyeing mills.",
    ),
    (
        "hostile",
        "Report <script>alert(1)</script> on wages",
        "2019-02-02",
        "en",
        "Report",
        [],
        [],
        "The CSR Herald",
        "A survey of wages in electronics factories <img src=x onerror=alert(2)> found gaps: "
        "pay in 2 of 3 plants was < the local minimum & falling.",
    ),
]


def _write(content: Path, row: tuple) -> Path:
    slug, title, date, lang, category, orgs, stds, source, body = row
    story = Story(body=body)
    for key, value in (
        ("Title", title),
        ("Date", date),
        ("Slug", slug),
        ("Lang", lang),
        ("Category", category),
        ("Source", source),
    ):
        story.set(key, value)
    story.set_list("Organisations", orgs)
    story.set_list("Standards", stds)
    path = story_path(content, date[:4], slug)
    write_story(path, story)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("search")
    content, index = base / "content", base / "index"
    for row in STORIES:
        _write(content, row)
    stats = update_index(content, index)
    assert stats.added == len(STORIES)
    return content, index


@pytest.fixture(scope="module")
def service(corpus: tuple[Path, Path]) -> SearchService:
    return SearchService(corpus[1])


def _first(service: SearchService, q: str, **filters: list[str]) -> str | None:
    answer = service.search(SearchRequest(q=q, filters=filters))
    return answer["hits"][0]["url"] if answer["hits"] else None


def test_chinese_bigrams_have_consecutive_positions() -> None:
    tokens = [(t.text, t.pos) for t in mixed_analyzer()("企业社会责任", positions=True)]
    assert tokens == [("企业", 0), ("业社", 1), ("社会", 2), ("会责", 3), ("责任", 4)]


@pytest.mark.parametrize(
    ("q", "slug"),
    [
        ('"supply chain forum"', "shenzhen-forum"),
        ("SJ/T 11728", "sjt-11728-issued"),
        ("11728", "sjt-11728-issued"),
        ("SJ/T 11728-2018", "sjt-11728-issued"),
        ("ISO26000", "iso-guide"),
        ("ISO 26000", "iso-guide"),
        ("企业社会责任", "annual-meeting-zh"),
        ('"社会责任年会"', "annual-meeting-zh"),
        ("org:amfori", "shenzhen-forum"),
        ("type:mou", "textile-mou"),
        ("memorandum AND textile", "textile-mou"),
        ("suppliers NOT wages", "iso-guide"),
        ("standard:11728", "sjt-11728-issued"),
        ('standard:"SJ/T 16000"', "annual-meeting-zh"),
    ],
)
def test_expected_story_first(service: SearchService, q: str, slug: str) -> None:
    url = _first(service, q)
    assert url is not None and url.endswith(f"/{slug}/"), (q, url)


def test_phrase_does_not_match_words_apart(service: SearchService) -> None:
    assert service.search(SearchRequest(q='"forum supply"'))["total"] == 0
    assert service.search(SearchRequest(q='"会年责任"'))["total"] == 0


def test_filters_and_facets(service: SearchService) -> None:
    answer = service.search(SearchRequest(q="", filters={"year": ["2018"]}))
    assert answer["total"] == 2
    assert {f["value"]: f["count"] for f in answer["facets"]["year"]} == {"2018": 2}
    everything = service.search(SearchRequest(q=""))
    types = {f["value"]: f["count"] for f in everything["facets"]["type"]}
    assert types["summit"] == 2 and types["report"] == 2
    orgs = {f["value"]: f["count"] for f in everything["facets"]["organisation"]}
    assert orgs["amfori"] == 1 and orgs["CESA"] == 1
    std = service.search(SearchRequest(q="", filters={"standard": ["SJ/T 11728-2018"]}))
    assert [h["url"].split("/")[-2] for h in std["hits"]] == ["sjt-11728-issued"]
    only_zh = service.search(SearchRequest(q="", filters={"lang": ["zh"]}))
    assert [h["lang"] for h in only_zh["hits"]] == ["zh"]


def test_date_range_and_sort_by_date(service: SearchService) -> None:
    answer = service.search(SearchRequest(q="", date_from="2018-01-01", date_to="2018-12-31"))
    assert answer["total"] == 2
    dated = service.search(SearchRequest(q="", sort="date"))
    dates = [h["date"] for h in dated["hits"]]
    assert dates == sorted(dates, reverse=True)


def test_misspelled_query_gets_a_suggestion(service: SearchService) -> None:
    answer = service.search(SearchRequest(q="suply chian"))
    assert answer["total"] == 0
    assert answer["suggestion"] == "supply chain"
    assert _first(service, answer["suggestion"]).endswith("/shenzhen-forum/")


def test_snippets_highlight_and_escape(service: SearchService) -> None:
    hit = service.search(SearchRequest(q="wages survey"))["hits"][0]
    assert "<mark" in hit["snippet"]
    assert "<img" not in hit["snippet"] and "onerror" not in hit["snippet"]
    assert "was &lt; the local" in hit["snippet"]
    assert hit["title"] == "Report <script>alert(1)</script> on wages"  # JSON, escaped by clients


def test_a_chinese_query_is_marked_where_it_stands_whole(service: SearchService) -> None:
    # 企业社会 is searched as its bigrams 企业, 业社, 社会; the body also has 社会 in 行业社会责任
    # (not part of 企业社会): only the whole run is marked, unless 社会 is searched alone too
    hit = service.search(SearchRequest(q="企业社会"))["hits"][0]
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", hit["snippet"])
    assert marks == ["企业社会"], hit["snippet"]
    hit = service.search(SearchRequest(q="企业社会 社会"))["hits"][0]
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", hit["snippet"])
    assert marks == ["企业社会", "社会"], hit["snippet"]


def test_pagination(service: SearchService) -> None:
    first = service.search(SearchRequest(q="", per_page=4))
    second = service.search(SearchRequest(q="", per_page=4, page=2))
    assert first["pages"] == 2 and len(first["hits"]) == 4 and len(second["hits"]) == 2
    assert not {h["url"] for h in first["hits"]} & {h["url"] for h in second["hits"]}


@pytest.mark.parametrize(
    "bad",
    [
        SearchRequest(q="x" * 501),
        SearchRequest(page=0),
        SearchRequest(sort="random"),
        SearchRequest(filters={"colour": ["red"]}),
        SearchRequest(filters={"year": ["20x8"]}),
        SearchRequest(date_from="yesterday"),
    ],
)
def test_bad_requests_are_query_errors(service: SearchService, bad: SearchRequest) -> None:
    with pytest.raises(QueryError):
        service.search(bad)


def test_wildcards_are_bounded(service: SearchService) -> None:
    answer = service.search(SearchRequest(q="* OR a* OR s*~2 OR [a TO z]"))
    assert answer["total"] >= 1  # answered, not refused or exploded


def test_incremental_update_reindexes_exactly_the_changed_story(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    paths = [_write(content, row) for row in STORIES]
    assert update_index(content, index).added == len(STORIES)
    again = update_index(content, index)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, len(STORIES))

    story = read_story(paths[3])
    story.body += "\n\nA new paragraph mentions the zanzibar pilot."
    write_story(paths[3], story)
    stats = update_index(content, index)
    assert (stats.added, stats.updated, stats.deleted) == (0, 1, 0)
    assert _first(SearchService(index), "zanzibar").endswith("/iso-guide/")

    paths[0].unlink()
    hidden = read_story(paths[1])
    hidden.set("Status", "hidden")
    write_story(paths[1], hidden)
    stats = update_index(content, index)
    assert stats.deleted == 2
    assert SearchService(index).search(SearchRequest(q="11728"))["total"] == 0


def test_corrupt_index_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    for toc in index.glob("_MAIN_*.toc"):
        toc.write_bytes(b"garbage")
    stats = update_index(content, index)
    assert stats.rebuilt and stats.added == len(STORIES)
    assert any("rebuilding" in w for w in stats.warnings)


def test_a_held_lock_gives_a_clear_error(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    _write(content, STORIES[0])
    update_index(content, index)
    from whoosh import index as whoosh_index

    writer = whoosh_index.open_dir(str(index)).writer()
    try:
        _write(content, STORIES[1])
        with pytest.raises(IndexLockedError, match="locked by another writer"):
            update_index(content, index, lock_timeout=0.2)
    finally:
        writer.cancel()


def test_search_cli_json_and_table(corpus: tuple[Path, Path]) -> None:
    _, index = corpus
    result = run_cli("search", "--index", str(index), "--json", "--org", "amfori", "forum")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {"query", "total", "page", "hits", "facets", "suggestion"}
    assert set(answer["hits"][0]) >= {"title", "url", "date", "category", "source", "snippet"}
    table = run_cli("search", "--index", str(index), "memorandum")
    assert table.returncode == 0 and "Textile council" in table.stdout
    assert "1 stories found" in table.stdout or "1 story found" in table.stdout
    missing = run_cli("search", "--index", str(index.parent / "nowhere"), "x")
    assert missing.returncode == 1 and "csrnews build" in missing.stderr


def test_missing_index_folder_is_created(tmp_path: Path) -> None:
    content = tmp_path / "content"
    _write(content, STORIES[0])
    stats = update_index(content, tmp_path / "deep" / "index")
    assert stats.added == 1 and not stats.rebuilt
    shutil.rmtree(tmp_path / "deep")


def test_story_files_are_read_whole(tmp_path: Path) -> None:
    from csrnews.search.indexer import _read_bytes

    for name, data in (
        ("empty", b""),
        ("small", "Title: 标题\n".encode()),
        ("big", bytes(range(256)) * 700),
    ):
        path = tmp_path / name  # "big": 179,200 bytes, more than one read
        path.write_bytes(data)
        assert _read_bytes(str(path)) == data == path.read_bytes()
    with pytest.raises(FileNotFoundError):
        _read_bytes(str(tmp_path / "gone"))


def test_stems_through_the_cache_are_porters(monkeypatch: pytest.MonkeyPatch) -> None:
    from csrnews.search import analysis
    from whoosh.lang.porter import stem

    words = ["running", "runs", "forum", "forums", "suppliers", "running", "x", "forums"]
    for limit in (200_000, 3):  # a small cache is cleared while a list is stemmed
        monkeypatch.setattr(analysis, "_STEM_CACHE_MAX", limit)
        analysis._STEM_CACHE.clear()
        assert analysis._stem_all(words) == [stem(word) for word in words]  # new words
        assert analysis._stem_all(words) == [stem(word) for word in words]  # seen before
        assert len(analysis._STEM_CACHE) <= max(limit, 1)
    analysis._STEM_CACHE.clear()
