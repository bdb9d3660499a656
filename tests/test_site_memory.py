"""What a site build keeps in memory per story: one copy of each text, shared name objects."""

from __future__ import annotations

import datetime
import io
from typing import Any

from feedgenerator import Atom1Feed
from jinja2 import DictLoader, Environment
from pelican.contents import Article
from pelican.settings import DEFAULT_CONFIG
from pelican.urlwrappers import Author, Category, Tag

from csrnews.site.plugins import csr_markup, csr_meta, csr_taxonomy


def _story(settings: dict[str, Any], slug: str) -> Article:
    metadata = {
        "title": slug,
        "slug": slug,
        "date": datetime.datetime(2025, 1, 2),
        "category": Category("Supply chain", settings),
        "tags": [Tag("labour", settings), Tag("cobalt", settings)],
    }
    return Article("<p>Body</p>", metadata=metadata, settings=settings, source_path=f"{slug}.md")


def test_stories_share_their_tag_category_and_author_objects() -> None:
    settings = dict(DEFAULT_CONFIG, AUTHOR="Desk")
    csr_meta.forget_taxa(None)
    one, two = _story(settings, "one"), _story(settings, "two")
    for story in (one, two):
        csr_meta.normalise(story)
    assert one.tags[0] is two.tags[0] and one.tags[1] is two.tags[1]
    assert one.category is two.category and one.metadata["category"] is one.category
    assert one.author is two.author and one.authors[0] is one.author
    assert isinstance(one.author, Author) and one.author.name == "Desk"
    assert [t.slug for t in two.tags] == ["labour", "cobalt"]
    other = dict(settings)  # another build's settings: its own objects
    assert csr_meta.shared_wrapper(Tag("labour", other)) is not one.tags[0]
    csr_meta.forget_taxa(None)


def test_story_bodies_are_cleaned_but_not_kept() -> None:
    csr_markup.forget(None)
    summary = "<p>A short summary.</p>"
    body = "<p>" + "A sentence of a story body. " * 60 + "<script>x()</script></p>"
    assert "script" not in str(csr_markup.safe_html(body))
    assert str(csr_markup.safe_html(summary)) == summary
    assert list(csr_markup._CLEANED) == [summary]
    csr_markup.forget(None)


class _Listed:
    title = "Okapi & co"

    def get_siteurl(self) -> str:
        return ""


def test_a_story_keeps_one_list_item_for_every_heading() -> None:
    macro = (
        '{% macro story_item(article, heading="h2", siteurl="") %}'
        "<{{ heading }}>{{ article.title }}</{{ heading }}>{% endmacro %}"
    )
    env = Environment(loader=DictLoader({"_macros.html": macro}), autoescape=True)
    story = _Listed()
    h2 = csr_markup.story_items(env, [story], "h2")
    h3 = csr_markup.story_items(env, [story, story], "h3")
    assert h2 == "<h2>Okapi &amp; co</h2>" and h3 == "<h3>Okapi &amp; co</h3>" * 2
    assert list(csr_markup._ITEMS[story]) == [(csr_markup._HEADING, "")]


def _feed() -> Atom1Feed:
    feed = Atom1Feed("Site", "https://example.org/", "")
    when = datetime.datetime(2025, 1, 2, tzinfo=datetime.UTC)
    feed.add_item(
        "A story", "https://example.org/a/", "", content="<p>word </p>" * 200, pubdate=when
    )
    return feed


def _written(feed: Atom1Feed) -> str:
    out = io.StringIO()
    feed.write(out, "utf-8")
    return out.getvalue()


def test_feed_entries_are_kept_compressed_and_written_the_same() -> None:
    csr_taxonomy.forget_entries(None)
    texts = []
    for _ in range(2):
        feed = _feed()
        csr_taxonomy.cache_feed_entries({}, feed)
        texts.append(_written(feed))
    assert texts == [_written(_feed())] * 2
    (kept,) = csr_taxonomy._ENTRIES.values()
    assert isinstance(kept, bytes) and len(kept) < len(texts[0]) // 4
    csr_taxonomy.forget_entries(None)
