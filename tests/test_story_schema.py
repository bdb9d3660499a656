"""The story schema's table: every stage reads it, so one new row reaches them all.

A new field `Sector` (a list, shown on the story page, indexed as keywords, a facet, a query
filter and alias, a key of the API's hits) is added to the table; the test follows it through
the story file, a real Pelican build, a real Whoosh index and the WSGI app on a real server.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from csrnews.search import SearchRequest, SearchService, update_index

from csrnews.serve.wsgi import make_app
from csrnews.site.build import build_site
from csrnews.story import schema, storyfile
from csrnews.story.settings import THEME_DIR
from tests.conftest import wsgi_server

SECTOR = schema.Field(
    "Sector",
    list=True,
    kind="list",
    attr="sectors",
    index="sectors",
    analyzer=schema.KEYWORD,
    facet="sector",
    json="sectors",
    filter="sector",
    aliases=("sector",),
)
TEMPLATE_LINE = (
    '{% if article.sectors %}<p class="sectors">Sectors: '
    '{{ article.sectors|join(", ") }}</p>{% endif %}\n'
)


def _story(content: Path, slug: str, title: str, sectors: list[str]) -> Path:
    story = storyfile.Story()
    story.set("Title", title)
    story.set("Date", "2025-03-04")
    story.set("Slug", slug)
    story.set("Category", "Summit & forum")
    story.set_list("Organisations", ["amfori"])
    story.set_list("Sector", sectors)
    story.body = f"{title}. Buyers and suppliers met to talk about audits."
    path = storyfile.story_path(content, 2025, slug)
    storyfile.write_story(path, story)
    return path


def test_the_table_is_what_the_story_file_writes() -> None:
    assert storyfile.KEY_ORDER == schema.key_order()
    assert storyfile.LIST_KEYS == schema.list_keys()
    assert {"Organisations", "Standards", "Tags", "Also_reported_by"} <= schema.list_keys()
    assert schema.filters()["org"] == "organisations" and schema.filters()["year"] == "year"
    assert list(schema.facets()) == ["type", "organisation", "year", "source", "lang"]


def test_a_field_added_to_the_table_reaches_file_page_index_and_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version_before = schema.version()
    monkeypatch.setattr(schema, "FIELDS", (*schema.FIELDS, SECTOR))
    assert schema.version() != version_before  # an index of the old table is rebuilt

    # The story file: the key is written in the table's order and read back as a list.
    content = tmp_path / "content"
    path = _story(content, "electronics-audit-forum", "Electronics audit forum", ["Electronics"])
    _story(content, "textile-buyers-summit", "Textile buyers summit", ["Textiles", "Apparel"])
    text = path.read_text(encoding="utf-8")
    header = text.split("\n\n", 1)[0].splitlines()
    assert "Sector: Electronics" in header
    assert header.index("Sector: Electronics") > header.index("Organisations: amfori")
    assert storyfile.read_story(path).get_list("sector") == ["Electronics"]
    assert not storyfile.is_edited(text)

    # The page: the plugin gives the story `sectors`, the template line shows it.
    theme = tmp_path / "theme"
    shutil.copytree(THEME_DIR, theme)
    article = theme / "templates" / "article.html"
    html = article.read_text(encoding="utf-8")
    marker = "{% if article.locations %}"
    assert marker in html
    article.write_text(html.replace(marker, TEMPLATE_LINE + marker, 1), encoding="utf-8")
    output = tmp_path / "output"
    build_site(content, output, quiet=True, extra_settings={"THEME": str(theme)})
    page = (output / "news/2025/textile-buyers-summit/index.html").read_text(encoding="utf-8")
    assert '<p class="sectors">Sectors: Textiles, Apparel</p>' in page

    # The index: its own field, searched by name and alias, a filter and a facet.
    index = tmp_path / "index"
    stats = update_index(content, index)
    assert stats.added == 2
    service = SearchService(index)
    answer = service.search(SearchRequest(q="sector:textiles"))
    assert [hit["title"] for hit in answer["hits"]] == ["Textile buyers summit"]
    assert answer["hits"][0]["sectors"] == ["Textiles", "Apparel"]
    filtered = service.search(SearchRequest(q="", filters={"sector": ["electronics"]}))
    assert [hit["title"] for hit in filtered["hits"]] == ["Electronics audit forum"]
    facet = {row["value"]: row["count"] for row in answer["facets"]["sector"]}
    assert facet == {"textiles": 1, "apparel": 1}

    # The API: the hit's JSON key and the query parameter, over HTTP.
    with wsgi_server(make_app(output, index)) as url:
        with urllib.request.urlopen(f"{url}/api/search?sector=apparel", timeout=20) as response:
            body = json.loads(response.read())
    assert body["total"] == 1
    assert body["hits"][0]["sectors"] == ["Textiles", "Apparel"]
    assert list(body["hits"][0])[-1] == "snippet"
    assert "sector" in body["facets"]


def test_without_the_row_nothing_knows_the_field(tmp_path: Path) -> None:
    content = tmp_path / "content"
    _story(content, "plain-forum", "Plain forum", ["Electronics"])
    index = tmp_path / "index"
    update_index(content, index)
    answer = SearchService(index).search(SearchRequest(q="forum"))
    assert "sectors" not in answer["hits"][0] and "sector" not in answer["facets"]
    with pytest.raises(ValueError, match="unknown filter"):
        SearchService(index).search(SearchRequest(q="", filters={"sector": ["electronics"]}))
