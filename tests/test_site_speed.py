"""The build's shortcuts give what the long way gives: reader, URLs, list items, feeds, cleaning."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from feedgenerator import Atom1Feed, Rss201rev2Feed
from pelican.readers import MarkdownReader
from pelican.settings import read_settings

from csrnews.site.build import build_site, pelican_settings
from tests.golden_site import SAMPLES

STORY = """Title: {title}
Date: 2024-0{n}-02T10:00:00+08:00
Summary: A *short* summary {n} with <script>alert(1)</script> a [link](https://example.org/{n}).
Tags: labour, water

Body {n} with a table:

| a | b |
| - | - |
| {n} | 2 |

```
code {n}
```
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("speed")
    (root / "content").mkdir()
    return pelican_settings(root / "content", root / "out")


def test_reused_markdown_parser_reads_like_a_fresh_one(settings: dict, tmp_path: Path) -> None:
    from csrnews.site.plugins.csr_reader import ReusingMarkdownReader

    paths = []
    for n in (1, 2, 3):
        path = tmp_path / f"s{n}.md"
        path.write_text(STORY.format(title=f"Story {n}", n=n), encoding="utf-8")
        paths.append(str(path))
    reused = ReusingMarkdownReader(settings)
    for path in paths:  # the second and third documents still get their metadata
        content, meta = reused.read(path)
        fresh_content, fresh_meta = MarkdownReader(settings).read(path)
        assert content == fresh_content and meta == fresh_meta
        assert "<table>" in content and "<code>code" in content
        assert meta["title"].startswith("Story") and "<em>short</em>" in meta["summary"]


def test_markdown_extensions_are_the_ones_stories_use(settings: dict) -> None:
    extensions = settings["MARKDOWN"]["extension_configs"]
    assert set(extensions) == {
        "markdown.extensions.tables",
        "markdown.extensions.fenced_code",
        "markdown.extensions.meta",
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("speed-site") / "output"
    build_site(SAMPLES, out, quiet=True, incremental=False)
    return out


def test_story_pages_are_where_their_links_point(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    links = {
        line.split('href="/', 1)[1].split('"')[0]
        for line in home.splitlines()
        if 'class="story-title"' in line
    }
    assert links and all((site / link / "index.html").is_file() for link in links)


def test_frozen_urls_equal_pelicans_and_keep_overrides(settings: dict) -> None:
    from pelican.contents import Article

    from csrnews.site.plugins.csr_meta import freeze_urls

    meta = {"title": "T", "date": dt.datetime(2024, 3, 1), "slug": "t"}
    plain = Article("", metadata=dict(meta), settings=settings)
    moved = Article("", metadata={**meta, "url": "elsewhere/"}, settings=settings)
    expected = plain.url
    freeze_urls([plain, moved])
    assert plain.override_url == plain.url == expected == "news/2024/t/"
    assert plain.save_as == "news/2024/t/index.html"
    assert moved.url == "elsewhere/"


def test_taxa_are_shared_within_a_build_and_have_their_urls(settings: dict) -> None:
    from pelican.urlwrappers import URLWrapper

    from csrnews.site.plugins.csr_meta import Org, forget_taxa, taxon

    forget_taxa(None)
    first, again = taxon(Org, "Amfori", settings), taxon(Org, "Amfori", settings)
    assert first is again
    formatted = [
        URLWrapper._from_settings(first, "URL"),
        URLWrapper._from_settings(first, "SAVE_AS"),
    ]
    formatted.append(URLWrapper._from_settings(first, "URL", get_page_name=True))
    assert [first.url, first.save_as, first.page_name] == formatted
    assert first.url == "org/amfori/" and first.save_as == "org/amfori/index.html"
    assert taxon(Org, "Amfori", dict(settings)) is not first  # another build's settings
    forget_taxa(None)


def test_cached_sanitising_cleans_every_time() -> None:
    from csrnews.site.plugins.csr_markup import forget, safe_html

    forget(None)
    hostile = '<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:x()">l</a></p>'
    for _ in range(3):
        out = str(safe_html(hostile))
        assert "script" not in out and "onclick" not in out and "javascript" not in out
        assert out.startswith("<p>Hi")
    long_text = "<p>" + "word " * 2000 + "<script>x</script></p>"
    assert "script" not in str(safe_html(long_text))


def test_story_items_equal_the_macro_at_each_heading(site: Path) -> None:
    """Front page items (h3) and list page items (h2) are the macro's markup."""
    home = (site / "index.html").read_text(encoding="utf-8")
    org = (site / "org/amfori/index.html").read_text(encoding="utf-8")
    assert '<h3 class="story-title">' in home and "\x00" not in home
    assert '<h2 class="story-title">' in org and "\x00" not in org
    assert home.count('<li class="story"') == home.count("</h3>")


def test_story_items_filter_matches_macro_output() -> None:
    from jinja2 import DictLoader, Environment
    from markupsafe import Markup

    from csrnews.site.plugins.csr_markup import add_filters

    class Story:
        lang, url, title, locale_date = "en", "news/x/", "A <b> & \x00 title", "2024-01-01"
        date = dt.datetime(2024, 1, 1)
        category = type("C", (), {"url": "type/x/", "__str__": lambda self: "Type"})()
        source_obj = None
        summary = "<p>sum</p>"

        def get_siteurl(self) -> str:
            return ""

    macros = (Path(__file__).parent.parent / "theme/templates/_macros.html").read_text()
    env = Environment(
        loader=DictLoader({"_macros.html": macros}),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    holder = type("G", (), {"env": env})()
    add_filters(holder)
    module = env.get_template("_macros.html").module
    plain_story, odd_story = Story(), Story()
    plain_story.title = "Plain & simple"
    for story in (plain_story, odd_story):  # the odd title holds the placeholder: no shortcut
        for heading in ("h2", "h3"):
            got = env.filters["story_items"](env, [story, story], heading)
            want = module.story_item(story, heading)
            assert isinstance(got, Markup) and str(got) == str(want) * 2


def _feed(cls: type, items: list[dict]) -> str:
    feed = cls(
        title="T", link="https://example.org/", description="d", feed_url="https://example.org/f"
    )
    for item in items:
        feed.add_item(**item)
    out = io.StringIO()
    feed.write(out, "utf-8")
    return out.getvalue()


@pytest.mark.parametrize("cls", [Atom1Feed, Rss201rev2Feed])
def test_cached_feed_entries_are_feedgenerators(cls: type) -> None:
    from csrnews.site.plugins.csr_taxonomy import cache_feed_entries, forget_entries

    when = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    items = [
        {
            "title": f"Story {n} <&>",
            "link": f"https://example.org/news/{n}/",
            "description": f"<p>summary {n} &amp;</p>",
            "content": f"<p>body {n}</p>",
            "unique_id": f"tag:example.org,2024-01-02:/news/{n}/",
            "pubdate": when + dt.timedelta(days=n),
            "categories": ["Type", f"tag{n}"],
        }
        for n in range(4)
    ]
    forget_entries(None)
    for chosen in (items[:3], items[1:], items[::-1]):  # entries shared between feeds
        feed = cls(
            title="T",
            link="https://example.org/",
            description="d",
            feed_url="https://example.org/f",
        )
        for item in chosen:
            feed.add_item(**item)
        cache_feed_entries({}, feed=feed)
        assert type(feed) is not cls
        out = io.StringIO()
        feed.write(out, "utf-8")
        assert out.getvalue() == _feed(cls, chosen)
    forget_entries(None)


def test_feeds_of_the_sample_site_are_complete(site: Path) -> None:
    settings = read_settings(str(Path(__file__).parent.parent / "pelicanconf.py"))
    feed = (site / settings["FEED_ALL_ATOM"]).read_text(encoding="utf-8")
    assert feed.count("<entry>") == 12 and feed.count("</entry>") == 12
    assert feed.rstrip().endswith("</feed>")


def test_period_archives_and_members_match_pelicans(settings: dict) -> None:
    from types import SimpleNamespace as NS

    from pelican.generators import ArticlesGenerator

    from csrnews.site.plugins.csr_taxonomy import Members, fast_period_archives

    stories = [NS(n=n, date=dt.datetime(2020 + n % 3, 1 + n % 5, 1 + n % 7)) for n in range(40)]
    dates = sorted(stories, key=lambda s: s.date, reverse=True)
    articles = sorted(stories, key=lambda s: (s.n % 4, s.n))  # another order than the dates
    generator = ArticlesGenerator.__new__(ArticlesGenerator)
    want = ArticlesGenerator._build_period_archives(generator, dates, articles, settings)
    fast_period_archives(generator)
    got = generator._build_period_archives(dates, articles, settings)
    assert set(got) == set(want) == {"year", "month"}
    for granularity in want:
        assert len(got[granularity]) == len(want[granularity]) >= 3
        for mine, theirs in zip(got[granularity], want[granularity], strict=True):
            assert mine == theirs and [s.n for s in mine["articles"]] == [
                s.n for s in theirs["articles"]
            ]
    members = Members(stories[:5])
    assert stories[0] in members and stories[5] not in members and list(members) == stories[:5]
    assert NS(n=0, date=stories[0].date) not in members  # equal-looking, not the same story
