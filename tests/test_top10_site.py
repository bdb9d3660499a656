"""The data the top-10 pages use: list context, JSON-LD, and the two templates rendered with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest

from csrnews.top10 import load_lists
from csrnews.top10.archive import load_archive
from csrnews.top10.site import item_list_jsonld, list_context, list_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "top10" / "content"
BASE = (
    "<html><head>{% block head %}<title>{% block title %}{% endblock %}</title>{% endblock %}"
    "</head><body>{% block content %}{% endblock %}</body></html>"
)


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def _env() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.DictLoader({"base.html": BASE}),
            jinja2.FileSystemLoader(ROOT / "theme" / "templates"),
        ]
    )
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def test_list_context_resolves_story_links(content: Path) -> None:
    (lst,) = load_lists(content)
    context = list_context(lst, load_archive(content), "https://csr.example")
    assert context["url"] == list_url(lst) == "/top10/2018/"
    first, _, third = context["entries"]
    assert first["links"] == [
        {
            "title": "MIIT issues an electronics CSR management system standard",
            "url": "/news/2018/miit-standard/",
            "external": False,
        }
    ]
    assert first["related"][0]["url"] == "/news/2018/dyeing-permits/"
    assert third["links"] == [
        {"title": "www.iso.org", "external": True, "url": "https://www.iso.org/standard/63787.html"}
    ]


def test_item_list_jsonld(content: Path) -> None:
    (lst,) = load_lists(content)
    data = item_list_jsonld(lst, load_archive(content), "https://csr.example/")
    assert data["@type"] == "ItemList" and data["numberOfItems"] == 3
    assert data["url"] == "https://csr.example/top10/2018/"
    assert [i["position"] for i in data["itemListElement"]] == [1, 2, 3]
    assert data["itemListElement"][0]["url"] == "https://csr.example/news/2018/miit-standard/"
    assert data["itemListElement"][2]["url"] == "https://www.iso.org/standard/63787.html"


def test_templates_render_and_escape(content: Path) -> None:
    path = content / "top10" / "2018.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "headline: ISO 45001 is published", "headline: ISO 45001 </script><b>x</b>"
        ),
        encoding="utf-8",
    )
    (lst,) = load_lists(content)
    context = list_context(lst, load_archive(content), "https://csr.example")
    page = _env().get_template("top10.html").render(top10=context, SITEURL="", SITENAME="CSR")
    assert "<title>Top 10 CSR Events of 2018 | CSR</title>" in page
    assert '<li value="2" id="no-2">' in page
    assert "<strong>Reason for listing:</strong> Firms can be assessed against it." in page
    assert '<a href="/news/2018/miit-standard/">' in page
    assert "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    script = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(script)["itemListElement"][2]["name"] == "ISO 45001 </script><b>x</b>"
    index = (
        _env()
        .get_template("top10_index.html")
        .render(top10_lists=[context], SITEURL="", SITENAME="CSR")
    )
    assert '<a href="/top10/2018/">Top 10 CSR Events of 2018</a>' in index
    assert "China" in index


def test_a_story_without_a_slug_is_linked_where_pelican_puts_it(content: Path) -> None:
    """A story file with no Slug line (written by hand) gets its page at the slug Pelican makes
    from its title; the lists and the desk link there, not to the file's name."""
    from pelican.settings import read_settings
    from pelican.utils import slugify

    from csrnews.desk.stories import Catalogue
    from csrnews.story import settings

    title = "Suppliers' forum on fair wages & overtime"
    story = content / "news" / "2018" / "handwritten-note.md"
    story.write_text(
        f"Title: {title}\nDate: 2018-05-02\nCategory: Forum & summit\n\nA note.\n",
        encoding="utf-8",
    )
    conf = read_settings(str(settings.PELICANCONF))
    slug = slugify(title, regex_subs=conf["SLUG_REGEX_SUBSTITUTIONS"])
    assert slug != story.stem
    path = content / "top10" / "2018.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "      - dyeing-permits\n    reason: 'Public", f"      - {slug}\n    reason: 'Public"
        ),
        encoding="utf-8",
    )
    archive = load_archive(content)
    assert archive[slug].path == story and story.stem not in archive
    (lst,) = load_lists(content)
    second = list_context(lst, archive, "https://csr.example")["entries"][1]
    assert second["links"][0]["url"] == f"/news/2018/{slug}/"
    (record,) = [r for r in Catalogue(content).records() if r.title == title]
    assert record.slug == slug and record.url == f"/news/2018/{slug}/"
