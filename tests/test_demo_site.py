"""The whole job on the demo publisher: crawl, build and index, then search and links on it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from csrnews.search import SearchRequest, SearchService
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csrnews.serve.wsgi import make_app
from tests.conftest import DemoSite, wsgi_server
from tests.test_site_build import check_html

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(demo_site: DemoSite) -> SearchService:
    return SearchService(demo_site.index)


def _first_title(service: SearchService, q: str, **filters: list[str]) -> str:
    answer = service.search(SearchRequest(q=q, filters=filters))
    assert answer["hits"], (q, filters)
    return answer["hits"][0]["title"]


def test_every_demo_story_is_indexed(service: SearchService, demo_site: DemoSite) -> None:
    stories = list((demo_site.content / "news").rglob("*.md"))
    assert service.search(SearchRequest(q=""))["total"] == len(stories)


@pytest.mark.parametrize(
    ("q", "filters", "expected"),
    [
        # a phrase
        ('"join up audits"', {}, "Shenzhen forum: amfori and RBA urge suppliers to join up audits"),
        # a field filter in the query and one as a parameter
        ("training org:amfori", {}, "amfori BSCI"),
        ("workshop", {"org": ["amfori"], "year": ["2019"]}, "amfori BSCI workshop trains 90"),
        # Chinese, as words and as a phrase
        ("企业社会责任年会", {}, "第七届中国企业社会责任年会在北京召开"),
        ('"十大企业社会责任事件"', {}, "2017年度中国十大企业社会责任事件"),
        # standard codes in their spellings
        ("SJ/T 11728", {}, "MIIT issues SJ/T 11728-2018"),
        ("SJ/T 11728-2018 MIIT", {"lang": ["en"]}, "MIIT issues SJ/T 11728-2018"),
    ],
)
def test_expected_story_first_on_the_demo_site(
    service: SearchService, q: str, filters: dict[str, list[str]], expected: str
) -> None:
    assert expected in _first_title(service, q, **filters)


def test_iso_code_without_a_space(service: SearchService) -> None:
    joined = service.search(SearchRequest(q="ISO26000"))
    spaced = service.search(SearchRequest(q="ISO 26000"))
    assert joined["total"] == spaced["total"] > 0
    assert {h["url"] for h in joined["hits"]} == {h["url"] for h in spaced["hits"]}
    bare = [h["title"] for h in service.search(SearchRequest(q="11728"))["hits"][:3]]
    assert any(t.startswith("MIIT issues SJ/T 11728-2018") for t in bare), bare


def test_facet_counts_match_the_story_files(service: SearchService, demo_site: DemoSite) -> None:
    from csrnews.story.storyfile import iter_story_files, read_story
    from csrnews.story.vocabulary import event_type_id

    answer = service.search(SearchRequest(q=""))
    facet = {f["value"]: f["count"] for f in answer["facets"]["type"]}
    expected: dict[str, int] = {}
    orgs: dict[str, int] = {}
    for path in iter_story_files(demo_site.content):
        story = read_story(path)
        key = event_type_id(story.get("Category"))
        expected[key] = expected.get(key, 0) + 1
        for org in story.get_list("Organisations"):
            orgs[org] = orgs.get(org, 0) + 1
    assert facet == expected
    org_facet = {f["value"]: f["count"] for f in answer["facets"]["organisation"]}
    assert org_facet["amfori"] == orgs["amfori"] and org_facet["MIIT"] == orgs["MIIT"]


def test_misspelled_query_suggests_the_right_words(service: SearchService) -> None:
    answer = service.search(SearchRequest(q="conflcit minerals"))
    assert answer["suggestion"] == "conflict minerals"
    assert (
        "minerals" in _first_title(service, answer["suggestion"]).lower()
        or service.search(SearchRequest(q=answer["suggestion"]))["total"] > 0
    )


def test_the_demo_site_has_no_broken_internal_link(demo_site: DemoSite) -> None:
    site = demo_site.output
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 100
    broken, invalid = [], []
    for page in pages:
        checker = check_html(page)
        if checker.errors:
            invalid.append((page.relative_to(site), checker.errors[:3]))
        for link in checker.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            target = site / unquote(parts.path).lstrip("/")
            if parts.path.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
    assert not broken, broken[:20]
    assert not invalid, invalid[:10]


def test_the_published_top10_list_shows_and_the_draft_does_not(demo_site: DemoSite) -> None:
    assert (demo_site.output / "top10" / "2018" / "index.html").is_file()
    assert not (demo_site.output / "top10" / "2019").exists()
    listing = (demo_site.output / "top10" / "index.html").read_text(encoding="utf-8")
    assert "2018" in listing and "/top10/2019/" not in listing


@pytest.fixture(scope="module")
def api(demo_site: DemoSite) -> Iterator[str]:
    with wsgi_server(make_app(demo_site.output, demo_site.index)) as url:
        yield f"{url}/api/search"


HOSTILE = st.sampled_from(
    [
        *'abcforumISO26000企业社会责任"*?~^:()[]{}<>/\\-+!&|',
        " AND ",
        " OR ",
        " NOT ",
        "org:",
        "type:",
        "year:",
        "lang:",
        " TO ",
        "\x00",
        "%",
        "'",
        "\u202e",
        "<script>",
        "*" * 5,
        "~9",
        "[* TO *]",
    ]
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=100), st.lists(HOSTILE, max_size=30).map("".join)))
def test_hostile_queries_on_the_demo_index_never_500_or_hang(api: str, q: str) -> None:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{api}?q={urllib.parse.quote(q)}", timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as err:
        with err:
            status, body = err.code, err.read()
    assert status in (200, 400), (q, status, body[:200])
    assert time.monotonic() - started < 2.0, q
    json.loads(body)


def test_a_changed_story_reindexes_exactly_one_document(
    demo_site: DemoSite, tmp_path: Path
) -> None:
    import shutil

    from csrnews.story.storyfile import iter_story_files, read_story, write_story
    from tests.conftest import run_cli

    content, index = tmp_path / "content", tmp_path / "index"
    shutil.copytree(demo_site.content, content)
    shutil.copytree(demo_site.index, index)
    path = next(iter_story_files(content))
    story = read_story(path)
    story.body += "\n\nEditors added a note about the quokka programme."
    write_story(path, story)
    result = run_cli(
        "build", "--content", str(content), "--output", str(tmp_path / "out"), "--index", str(index)
    )
    assert result.returncode == 0, result.stderr
    assert "0 added, 1 updated, 0 deleted" in result.stdout + result.stderr
    assert SearchService(index).search(SearchRequest(q="quokka"))["total"] == 1


def test_listed_stories_carry_their_top10_badge(demo_site: DemoSite) -> None:
    import feedparser

    from csrnews.top10 import badges, load_lists

    lists = load_lists(demo_site.content)
    expected = badges(lists)
    assert expected  # the published demo list links demo stories
    pages = {p.parent.name: p for p in (demo_site.output / "news").rglob("index.html")}
    for slug, texts in expected.items():
        html = pages[slug].read_text(encoding="utf-8")
        assert all(text in html for text in texts), slug
    unlisted = [p for s, p in pages.items() if s not in expected]
    assert not any("top10-badge" in p.read_text(encoding="utf-8") for p in unlisted)
    feed = feedparser.parse((demo_site.output / "feeds" / "top10.atom.xml").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [lst.title for lst in lists if lst.published]
