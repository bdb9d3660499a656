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


_LINK = re.compile(r'rel="(prev|next)" href="/([^"]*)"')
_DATE = re.compile(r'<li class="story"[^>]*>\s*<article[^>]*>.*?<time datetime="([^"]+)"', re.S)


def _walk(site: Path, first: str) -> list[tuple[str, list[str]]]:
    """A list's pages from its own URL along the "Older" links: (page, its stories' dates)."""
    pages, page = [], first
    while page is not None:
        text = (site / page).read_text(encoding="utf-8")
        pages.append((page, _DATE.findall(text)))
        links = dict(_LINK.findall(text))
        page = links["next"] + "index.html" if "next" in links else None
        assert len(pages) < 50
    return pages


def test_lists_are_paginated_from_the_oldest_story(paged: Path) -> None:
    # 12 stories, 4 a page: page 1 holds the oldest 4, page 2 the next 4, the list's own URL
    # the newest (4 to 7); every page shows its stories newest first.
    for first, numbered in [
        ("index.html", ["page/2/index.html", "page/1/index.html"]),
        ("org/amfori/index.html", None),
        ("2024/index.html", None),
        ("tag/labour/index.html", []),
    ]:
        pages = _walk(paged, first)
        names = [name for name, _dates in pages]
        if numbered is not None:
            assert names == [first, *numbered]
        prefix = first.removesuffix("index.html")
        assert names[1:] == [f"{prefix}page/{n}/index.html" for n in range(len(names) - 1, 0, -1)]
        dates = [d for _name, page_dates in pages for d in page_dates]
        assert dates == sorted(dates, reverse=True) and dates, first  # newest first throughout
        sizes = [len(page_dates) for _name, page_dates in pages]
        assert len(sizes) == 1 or (all(size == 4 for size in sizes[1:]) and 4 <= sizes[0] <= 7)
        for name, _dates in pages[1:]:
            text = (paged / name).read_text(encoding="utf-8")
            assert 'rel="prev"' in text  # back to the newer page
            assert not check_html(paged / name).errors
    assert not (paged / "page/3").exists()
    newer = dict(_LINK.findall((paged / "page/2/index.html").read_text(encoding="utf-8")))
    assert newer["prev"] == ""  # the newest page is the site's root, not /index.html


def test_the_theme_prints_no_page_totals() -> None:
    # A page's key leaves out the number of pages (csrnews.site.incremental): a template that
    # printed it would go stale when a page is added.
    theme = Path(__file__).resolve().parent.parent / "theme" / "templates"
    for template in theme.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "paginator" not in text and "num_pages" not in text, template.name


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
    compute_related([a, b, c, d], limit=5)  # newest first
    assert [r.name for r in a.related] == ["c", "b"]
    # earlier stories only: b shares a tag with a, which is newer
    assert d.related == [] and b.related == [] and c.related == []
    e = story("e", [], ["iso-26000"], ["water"])  # older than d
    compute_related([a, b, c, d, e], limit=5)
    assert [r.name for r in a.related] == ["c", "e", "b"] and [r.name for r in d.related] == ["e"]


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
