"""Site features that need their own small builds: pagination, top-10 pages, relative URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csrnews.site.build import build_site
from tests.golden_site import SAMPLES
from tests.test_site_build import check_html

TOP10_CONTENT = Path(__file__).parent / "fixtures" / "top10" / "content"


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("paged") / "output"
    build_site(SAMPLES, out, quiet=True, extra_settings={"DEFAULT_PAGINATION": 4})
    return out


def test_lists_are_paginated_with_working_links(paged: Path) -> None:
    for first, second in [
        ("index.html", "page/2/index.html"),
        ("org/amfori/index.html", "org/amfori/page/2/index.html"),
        ("2024/index.html", "2024/page/2/index.html"),
        ("tag/labour/index.html", None),
    ]:
        text = (paged / first).read_text(encoding="utf-8")
        if second is None:
            assert 'rel="next"' not in text
            continue
        assert (paged / second).is_file(), second
        assert f'rel="next" href="/{second.removesuffix("index.html")}"' in text
        assert 'rel="prev"' in (paged / second).read_text(encoding="utf-8")
        assert not check_html(paged / second).errors
    assert (paged / "page/3/index.html").is_file()
    assert not (paged / "page/4").exists()


def test_top10_pages_and_home_highlight(tmp_path: Path) -> None:
    out = tmp_path / "output"
    stats = build_site(TOP10_CONTENT, out, quiet=True)
    assert stats.articles > 0
    page = out / "top10/2018/index.html"
    assert page.is_file() and (out / "top10/index.html").is_file()
    assert not check_html(page).errors
    assert '"@type": "ItemList"' in page.read_text(encoding="utf-8")
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'class="top10-highlight"' in home and 'href="/top10/2018/"' in home


def test_relative_urls_build(tmp_path: Path) -> None:
    out = tmp_path / "output"
    build_site(SAMPLES, out, relative_urls=True, quiet=True)
    story = (out / "news/2024/zh-3f1a2b4c5d/index.html").read_text(encoding="utf-8")
    assert 'href="../../../theme/css/main.css"' in story


def test_related_prefers_shared_organisations_and_standards() -> None:
    from types import SimpleNamespace as NS

    from csrnews.site.plugins.csr_related import compute_related

    def story(name: str, orgs: list[str], stds: list[str], tags: list[str]) -> NS:
        return NS(
            name=name,
            organisations=[NS(slug=o) for o in orgs],
            standards=[NS(slug=s) for s in stds],
            tags=[NS(slug=t) for t in tags],
        )

    a = story("a", ["amfori"], ["iso-26000"], ["labour"])
    b = story("b", [], [], ["labour"])
    c = story("c", ["amfori"], ["iso-26000"], [])
    d = story("d", [], [], ["water"])
    compute_related([a, b, c, d], limit=5)
    assert [r.name for r in a.related] == ["c", "b"]
    assert d.related == [] and [r.name for r in b.related] == ["a"]


def _root_relative_links(site: Path) -> list[str]:
    found = []
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        links = re.findall(r'(?:href|src)="/[^"]*"', text)
        found += [f"{page.relative_to(site)}: {link}" for link in links]
    return found


def test_a_site_url_with_a_path_reaches_every_link(paged: Path, tmp_path: Path) -> None:
    # A site served under a path (a project's GitHub Pages) breaks on root-relative links: the
    # list items, pagers and feed links of listing pages must use the site URL too.
    assert _root_relative_links(paged)  # without a site URL, links are root-relative
    out = tmp_path / "output"
    build_site(
        SAMPLES,
        out,
        site_url="https://example.org/csr",
        quiet=True,
        extra_settings={"DEFAULT_PAGINATION": 4},
    )
    assert _root_relative_links(out) == []
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'rel="next" href="https://example.org/csr/page/2/"' in home
    org = (out / "org/amfori/index.html").read_text(encoding="utf-8")
    assert 'class="story-title"><a href="https://example.org/csr/news/' in org
    assert 'href="https://example.org/csr/feeds/' in org


def test_relative_urls_reach_list_items(tmp_path: Path) -> None:
    out = tmp_path / "output"
    build_site(SAMPLES, out, relative_urls=True, quiet=True)
    assert _root_relative_links(out) == []
    org = (out / "org/amfori/index.html").read_text(encoding="utf-8")
    assert 'class="story-title"><a href="../../news/' in org
