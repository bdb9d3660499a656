"""sources.yaml validation: every mistake names the file, the source and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from csrnews.crawler.sources import SourcesError, load_sources, parse_sources

GOOD = """
user_agent: "csrnews-test/1.0"
contact: "https://example.org/contact"
sources:
  - name: Feed
    feed: https://example.org/feed.xml
    lang: en
    republish: excerpt
    max_pages: 20
  - name: Sitemap
    sitemap: https://example.org/sitemap.xml
    article_links: '/news/\\d{4}/'
  - name: Listing
    start_urls: [https://example.org/list/1.html]
    article_links: '/story/'
    follow_links: '/list/\\d+\\.html'
    selectors: {title: "h1.headline", date: "//span[@class='date']", body: "div.content"}
    allowed_domains: [example.org, cdn.example.org]
"""


def test_a_good_file_loads() -> None:
    config = parse_sources(GOOD, "good.yaml")
    kinds = [(s.name, s.kind) for s in config.sources]
    assert kinds == [("Feed", "feed"), ("Sitemap", "sitemap"), ("Listing", "listing")]
    assert config.user_agent == "csrnews-test/1.0 (+https://example.org/contact)"
    feed, sitemap, listing = config.sources
    assert feed.republish == "excerpt" and feed.max_pages == 20 and feed.lang == "en"
    assert feed.allowed_domains == [] and feed.allows("https://cdn.elsewhere.example/a")  # any host
    assert sitemap.article_links is not None and sitemap.article_links.search("/news/2019/x")
    assert listing.follow_links is not None
    assert listing.selectors["date"].startswith("//")
    assert listing.allowed_domains == ["example.org", "cdn.example.org"]


def test_contact_alone_makes_the_user_agent() -> None:
    config = parse_sources(
        "contact: mailto:desk@example.org\nsources:\n  - {name: A, feed: 'https://example.org/f'}\n"
    )
    assert config.user_agent == "csrnews/0.1 (+mailto:desk@example.org)"


def test_the_default_user_agent_identifies_the_project() -> None:
    from csrnews.story.settings import USER_AGENT

    config = parse_sources("sources:\n  - {name: A, feed: 'https://example.org/f'}\n")
    assert config.user_agent == USER_AGENT and "+http" in USER_AGENT


BAD = [
    ("sources:\n  - {name: A, feed: 'https://e.org/f', colour: red}\n", "A", "colour"),
    ("sources:\n  - {name: A}\n", "A", "feed/sitemap/start_urls"),
    (
        "sources:\n  - {name: A, feed: 'https://e.org/f', sitemap: 'https://e.org/s'}\n",
        "A",
        "feed/sitemap/start_urls",
    ),
    ("sources:\n  - {name: A, feed: 'ftp://e.org/f'}\n", "A", "feed"),
    ("sources:\n  - {name: A, feed: 42}\n", "A", "feed"),
    (
        "sources:\n  - {name: A, start_urls: 'https://e.org/l', article_links: x}\n",
        "A",
        "start_urls",
    ),
    ("sources:\n  - {name: A, start_urls: ['https://e.org/l']}\n", "A", "article_links"),
    (
        "sources:\n  - {name: A, start_urls: ['https://e.org/l'], article_links: '(x'}\n",
        "A",
        "article_links",
    ),
    (
        "sources:\n  - {name: A, sitemap: 'https://e.org/s', article_links: [1]}\n",
        "A",
        "article_links",
    ),
    ("sources:\n  - {name: A, feed: 'https://e.org/f', max_pages: many}\n", "A", "max_pages"),
    ("sources:\n  - {name: A, feed: 'https://e.org/f', republish: some}\n", "A", "republish"),
    (
        "sources:\n  - {name: A, feed: 'https://e.org/f', selectors: {body: 'div[[['}}\n",
        "A",
        "selectors.body",
    ),
    (
        "sources:\n  - {name: A, feed: 'https://e.org/f', selectors: {author: 'p'}}\n",
        "A",
        "selectors.author",
    ),
    (
        "sources:\n  - {name: A, feed: 'https://e.org/f', allowed_domains: e.org}\n",
        "A",
        "allowed_domains",
    ),
    (
        "sources:\n  - {name: A, feed: 'https://e.org/f'}\n  - {name: A, feed: 'https://e.org/g'}\n",
        "A",
        "name",
    ),
    ("sources:\n  - {feed: 'https://e.org/f'}\n", "source #1", "name"),
    ("sources: []\n", None, "sources"),
    ("feeds:\n  - {name: A, feed: 'https://e.org/f'}\n", None, "feeds"),
    ("user_agent: 7\nsources:\n  - {name: A, feed: 'https://e.org/f'}\n", None, "user_agent"),
]


@pytest.mark.parametrize(("text", "source", "key"), BAD)
def test_mistakes_name_file_source_and_key(text: str, source: str | None, key: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(text, "conf/sources.yaml")
    message = str(info.value)
    assert message.startswith("conf/sources.yaml: ")
    if source:
        assert source in message
    assert f"'{key}'" in message


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="not valid YAML"):
        parse_sources("sources: [\n", "x.yaml")
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "none.yaml")


def test_the_repository_sources_file_is_valid() -> None:
    from csrnews.story.settings import PROJECT_ROOT

    config = load_sources(PROJECT_ROOT / "sources.yaml")
    assert config.sources
