"""What the search answer tells a reader: suggestions that find stories, unreadable queries,
pages past the last, facets in a reader's order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from csrnews.search import SearchRequest, SearchService, update_index
from csrnews.search.suggest import Speller, distance
from csrnews.search.syntax import plain_words, syntax_problem

from tests.test_search_index import STORIES, _write

ENVIRONMENT = [
    (
        f"environment-{i}",
        f"Environment report {i} on dyeing mills",
        f"201{i % 10}-0{1 + i % 9}-10",
        "en",
        "Report",
        ["IPE"],
        [],
        "Supply Chain Review",
        "The environment of the river improved once the mills treated their waste water; "
        "suppliers published their environment data.",
    )
    for i in range(12)
] + [
    (
        "typo-story",
        "A story with a typo",
        "2015-02-02",
        "en",
        "Other",
        [],
        [],
        "Supply Chain Review",
        "The enviroment of this story is spelt wrongly once.",
    )
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    base = tmp_path_factory.mktemp("answers")
    for row in [*STORIES, *ENVIRONMENT]:
        _write(base / "content", row)
    update_index(base / "content", base / "index")
    return SearchService(base / "index")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("suply chain", "supply chain"),
        ("suply chian", "supply chain"),
        ("enviroment", "environment"),  # in one story, but the right word is in 12
        ("memorandun", "memorandum"),
        ("Shenzen forum", "shenzhen forum"),
    ],
)
def test_a_typo_suggests_the_words_the_stories_use(
    service: SearchService, typed: str, meant: str
) -> None:
    answer = service.search(SearchRequest(q=typed))
    assert answer["suggestion"] == meant
    assert service.search(SearchRequest(q=meant))["total"] > answer["total"]


def test_no_suggestion_for_words_that_are_fine(service: SearchService) -> None:
    for q in ("supply chain", "environment", "forum", "memorandum", "企业社会责任"):
        assert service.search(SearchRequest(q=q))["suggestion"] is None, q


def test_a_suggestion_never_leads_to_no_results(service: SearchService) -> None:
    """Random one-letter typos of the stories' words: every suggestion made finds stories,
    with the same filters."""
    rng = random.Random(16)
    words = ["supply", "chain", "environment", "memorandum", "suppliers", "delegates", "mills"]
    made = 0
    for _ in range(60):
        word = rng.choice(words)
        i = rng.randrange(1, len(word))
        typo = word[:i] + rng.choice("aeioust") + word[i + 1 :]
        for filters in ({}, {"year": ["2017"]}, {"type": ["report"]}):
            answer = service.search(SearchRequest(q=typo, filters=filters))
            if answer["suggestion"]:
                made += 1
                again = service.search(SearchRequest(q=answer["suggestion"], filters=filters))
                assert again["total"] > 0, (typo, filters, answer["suggestion"])
    assert made >= 20  # the typos do get suggestions


@pytest.mark.parametrize(
    ("q", "searched", "why"),
    [
        ("supply AND", "supply", "AND has nothing after it"),
        ('"supply chain', "supply chain", "quotation mark is not closed"),
        ("(supply chain", "supply chain", "bracket is not closed"),
        ("OR forum", "forum", "OR has nothing before it"),
        ("title: forum", "forum", "title: has nothing after it"),
    ],
)
def test_an_unreadable_query_says_what_was_searched(
    service: SearchService, q: str, searched: str, why: str
) -> None:
    answer = service.search(SearchRequest(q=q))
    assert answer["searched"] == searched
    assert why in answer["notice"] and searched in answer["notice"]
    assert answer["total"] == service.search(SearchRequest(q=searched))["total"] > 0


@pytest.mark.parametrize(
    "q", ["supply chain", '"supply chain"', "org:amfori forum", "wages OR forum", "sup*"]
)
def test_readable_queries_have_no_notice(service: SearchService, q: str) -> None:
    answer = service.search(SearchRequest(q=q))
    assert answer["notice"] is None and answer["searched"] == q and answer["total"] > 0


def test_a_page_past_the_last_is_answered_honestly(service: SearchService) -> None:
    first = service.search(SearchRequest(q="", per_page=5))
    assert first["pages"] >= 2
    past = service.search(SearchRequest(q="", page=999, per_page=5))
    assert past["page"] == 999 and past["hits"] == [] and past["total"] == first["total"]
    assert f"results end on page {first['pages']}" in past["notice"]
    nothing = service.search(SearchRequest(q="zzzzqqq", page=3))
    assert nothing["hits"] == [] and "nothing was found" in nothing["notice"]


def test_years_newest_first_and_languages_by_name(service: SearchService) -> None:
    facets = service.search(SearchRequest(q=""))["facets"]
    years = [f["value"] for f in facets["year"]]
    assert years == sorted(years, reverse=True) and len(years) >= 5
    labels = {f["value"]: f["label"] for f in facets["lang"]}
    assert labels == {"en": "English", "zh": "中文"}


def test_syntax_checks() -> None:
    assert syntax_problem("supply chain") is None
    assert syntax_problem('"supply chain" AND (forum OR summit)') is None
    assert syntax_problem("supply AND AND chain") == "AND has nothing after it"
    assert syntax_problem("supply chain)") == "a closing bracket has no opening one"
    assert plain_words('"supply AND (chain') == "supply chain"


def test_distance_counts_a_swap_as_one_edit() -> None:
    assert distance("chian", "chain") == 1
    assert distance("suply", "supply") == 1
    assert distance("suply", "split") == 3
    assert distance("abc", "abcdefgh", limit=2) == 3
    assert Speller.edits("suply chian", "supply chain") == 2


def test_benchmark_corpus_typos(tmp_path: Path) -> None:
    """On the benchmark generator's stories too (other words, other frequencies)."""
    from bench.corpus import generate_corpus

    generate_corpus(tmp_path / "content", 300)
    update_index(tmp_path / "content", tmp_path / "index")
    service = SearchService(tmp_path / "index")
    answer = service.search(SearchRequest(q="suply chain"))
    assert answer["suggestion"] == "supply chain"
    assert service.search(SearchRequest(q="supply chain"))["total"] > 0
