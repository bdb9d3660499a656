"""Crawler units: URL forms, shingles, feeds, spiders' parse callbacks on hand-built responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import scrapy
from csrnews.crawler.context import CrawlContext
from csrnews.crawler.dedupe import jaccard, signature, similarity
from csrnews.crawler.report import SourceReport
from csrnews.crawler.sources import parse_sources
from csrnews.crawler.spiders.feed import FeedSpider, feed_entries
from csrnews.crawler.spiders.listing import ListingSpider
from csrnews.crawler.spiders.sitemap import StorySitemapSpider
from csrnews.crawler.state import CrawlState
from csrnews.crawler.urls import clean_url, url_key
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse

# -- URL forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.org/news/a-story",
        "http://example.org/news/a-story",
        "https://example.org/news/a-story/",
        "https://www.example.org/news/a-story#comments",
        "https://EXAMPLE.org:443/news/a-story?utm_source=rss&utm_medium=feed",
        "http://example.org/news/a-story/?fbclid=abc&gclid=x",
    ],
)
def test_one_url_in_many_forms_is_one_key(variant: str) -> None:
    assert url_key(variant) == url_key("https://example.org/news/a-story")


def test_meaningful_queries_stay_and_are_ordered() -> None:
    assert url_key("https://e.org/a?id=2&page=1") == url_key("https://e.org/a?page=1&id=2")
    assert url_key("https://e.org/a?id=2") != url_key("https://e.org/a?id=3")
    assert clean_url("https://E.org:443/a?utm_campaign=x&id=1#top") == "https://e.org/a?id=1"


# -- Near duplicates -------------------------------------------------------------------------

TEXT = (
    "Around 350 suppliers, brand representatives and auditors met in Shenzhen on November 7 "
    "for the Pearl River Delta Supply Chain Responsibility Forum, now in its fourth year. The "
    "one-day event focused on why one factory still faces a dozen overlapping social audits "
    "a year. Speakers from amfori and the Responsible Business Alliance shared a panel. "
)


def test_a_reprint_with_a_different_lead_is_a_near_duplicate() -> None:
    reprint = "This article first appeared in The CSR Herald. " + TEXT * 3
    assert jaccard(TEXT * 3, reprint) >= 0.8
    assert similarity(signature(TEXT * 3), signature(reprint)) >= 0.8


def test_different_stories_are_not_duplicates() -> None:
    other = (
        "The municipal finance bureau has published rules that require every computer, "
        "printer and server bought with public money to meet recognised energy criteria."
    )
    assert similarity(signature(TEXT), signature(other)) < 0.2


def test_chinese_shingles_are_characters() -> None:
    a = (
        "第五届企业社会责任峰会在上海举行，"
        "来自政府部门、企业、研究机构和社会组织的四百余名代表参加了会议。"
    )
    assert similarity(signature(a), signature(a + "（转载）")) >= 0.8
    other = "电子信息行业社会责任指南标准自六月一日起正式实施。"
    assert similarity(signature(a), signature(other)) < 0.2


# -- Feeds -----------------------------------------------------------------------------------

RSS2 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>https://e.org/one?utm_source=rss</link>
<pubDate>Tue, 05 Mar 2019 08:00:00 GMT</pubDate>
<description>&lt;p&gt;Summary one&lt;/p&gt;</description></item>
<item><title>Two</title><link>https://e.org/two</link></item></channel></rss>"""
RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>T</title>
<link>https://e.org</link>
<description>d</description><item><title>Old</title><link>https://e.org/old</link></item></channel></rss>"""
RSS1 = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://e.org/"><title>T</title></channel>
<item rdf:about="https://e.org/rdf"><title>RDF</title><link>https://e.org/rdf</link></item></rdf:RDF>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>T</title><id>urn:x</id><updated>2019-01-01T00:00:00Z</updated>
<entry><title>Atom entry</title><id>urn:1</id><link rel="alternate" href="https://e.org/atom"/>
<updated>2019-01-02T00:00:00Z</updated>
<content type="html">&lt;p&gt;Full text&lt;/p&gt;</content></entry></feed>"""


@pytest.mark.parametrize(
    ("body", "urls"),
    [
        (RSS2, ["https://e.org/one?utm_source=rss", "https://e.org/two"]),
        (RSS091, ["https://e.org/old"]),
        (RSS1, ["https://e.org/rdf"]),
        (ATOM, ["https://e.org/atom"]),
    ],
)
def test_every_feed_format(body: bytes, urls: list[str]) -> None:
    entries, problem = feed_entries(body, "application/xml")
    assert problem == ""
    assert [e["url"] for e in entries] == urls


def test_feed_entries_keep_dates_text_and_a_hash() -> None:
    entries, _ = feed_entries(RSS2)
    assert entries[0]["date"] == "2019-03-05" and "Summary one" in entries[0]["html"]
    changed, _ = feed_entries(RSS2.replace(b"Summary one", b"Summary one, corrected"))
    assert changed[0]["hash"] != entries[0]["hash"] and changed[1]["hash"] == entries[1]["hash"]


def test_a_malformed_feed_is_a_problem() -> None:
    _, problem = feed_entries(b"<html><body>Not a feed at all</body></html>", "text/html")
    assert problem
    _, problem = feed_entries(b"<rss><channel><item><title>broken", "application/xml")
    assert problem


# -- Spiders on hand-built responses ----------------------------------------------------------

SOURCES = """
sources:
  - name: Feed
    feed: https://e.org/feed.xml
  - name: Listing
    start_urls: [https://e.org/list/1.html]
    article_links: '/story/[^/]+\\.html$'
    follow_links: '/list/\\d+\\.html$'
  - name: Sitemap
    sitemap: https://e.org/sitemap.xml
    article_links: '/news/\\d{4}/'
"""


@pytest.fixture()
def ctx(tmp_path: Path) -> Any:
    state = CrawlState(tmp_path / "var")
    context = CrawlContext(content_dir=tmp_path / "content", state=state)
    context.load()
    yield context
    state.close()


def _source(name: str) -> Any:
    return next(s for s in parse_sources(SOURCES).sources if s.name == name)


def _response(
    cls: type[Response],
    url: str,
    body: bytes,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Any:
    request = scrapy.Request(url)
    return cls(url=url, body=body, status=status, headers=headers or {}, request=request)


def test_listing_spider_follows_pages_and_stories(ctx: Any) -> None:
    spider = ListingSpider(source=_source("Listing"), ctx=ctx)
    body = b"""<html><body><a href="/story/a.html">A</a> <a href="/story/a.html#c">A again</a>
    <a href="https://e.org/story/b.html?utm_source=x">B</a> <a href="/list/2.html">next</a>
    <a href="/about.html">about</a> <a href="javascript:x()">js</a></body></html>"""
    out = list(
        spider.parse_listing(
            _response(HtmlResponse, "https://e.org/list/1.html", body, headers={"ETag": '"v1"'})
        )
    )
    urls = [r.url for r in out]
    assert urls == [
        "https://e.org/story/a.html",
        "https://e.org/story/b.html",
        "https://e.org/list/2.html",
    ]
    assert out[2].meta["index_doc"] and out[2].callback == spider.parse_listing
    assert ctx.state.validators("https://e.org/list/1.html") == ('"v1"', None)
    # A 304 next time replays what the page listed.
    again = ListingSpider(source=_source("Listing"), ctx=ctx)
    req = again.index_request("https://e.org/list/1.html", again.parse_listing)
    assert req.headers.get("If-None-Match") == b'"v1"'
    replay = list(
        again.parse_listing(_response(HtmlResponse, "https://e.org/list/1.html", b"", status=304))
    )
    assert [r.url for r in replay] == urls


def test_feed_spider_skips_stored_unchanged_entries(ctx: Any) -> None:
    spider = FeedSpider(source=_source("Feed"), ctx=ctx)
    response = _response(XmlResponse, "https://e.org/feed.xml", RSS2)
    first = list(spider.parse_feed(response))
    assert [r.url for r in first] == ["https://e.org/one", "https://e.org/two"]
    entry_hash = first[0].meta["entry_hash"]
    ctx.paths[url_key("https://e.org/one")] = "news/2019/one.md"
    ctx.state.save_story(
        url_key("https://e.org/one"), "https://e.org/one", "news/2019/one.md", "Feed", entry_hash
    )
    spider = FeedSpider(source=_source("Feed"), ctx=ctx)
    assert [r.url for r in spider.parse_feed(response)] == ["https://e.org/two"]
    assert spider.report.unchanged == 1
    changed = _response(
        XmlResponse,
        "https://e.org/feed.xml",
        RSS2.replace(b"Summary one", b"Summary one, corrected"),
    )
    spider = FeedSpider(source=_source("Feed"), ctx=ctx)
    assert [r.url for r in spider.parse_feed(changed)] == ["https://e.org/one", "https://e.org/two"]


def test_feed_spider_reports_a_malformed_feed(ctx: Any) -> None:
    spider = FeedSpider(source=_source("Feed"), ctx=ctx)
    out = list(spider.parse_feed(_response(TextResponse, "https://e.org/feed.xml", b"garbage")))
    assert out == []
    spider.report.finish()
    assert spider.report.status == "failed" and "feed" in spider.report.errors[0]


def test_sitemap_spider_reads_an_index_and_filters_stories(ctx: Any) -> None:
    spider = StorySitemapSpider(source=_source("Sitemap"), ctx=ctx)
    index = b"""<?xml version="1.0"?>
    <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://e.org/sitemap-news.xml</loc></sitemap></sitemapindex>"""
    out = list(spider._parse_sitemap(_response(XmlResponse, "https://e.org/sitemap.xml", index)))
    assert [r.url for r in out] == ["https://e.org/sitemap-news.xml"]
    urlset = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://e.org/news/2019/a</loc><lastmod>2019-03-01</lastmod></url>
    <url><loc>https://e.org/about</loc></url></urlset>"""
    out = list(
        spider._parse_sitemap(_response(XmlResponse, "https://e.org/sitemap-news.xml", urlset))
    )
    assert [r.url for r in out] == ["https://e.org/news/2019/a"]
    assert out[0].meta["entry_hash"] == "2019-03-01"
    assert out[0].callback == spider.parse_story


def test_max_pages_limits_story_fetches(ctx: Any) -> None:
    source = _source("Listing")
    source.max_pages = 1
    spider = ListingSpider(source=source, ctx=ctx)
    body = b"<a href='/story/a.html'>A</a><a href='/story/b.html'>B</a>"
    out = list(spider.parse_listing(_response(HtmlResponse, "https://e.org/list/1.html", body)))
    assert [r.url for r in out] == ["https://e.org/story/a.html"]
    assert (spider.report.skipped, spider.report.over_limit) == (1, 1)
    assert spider.report.skipped_note() == "skipped: 1 over max_pages"  # said why


def test_a_gone_story_is_not_asked_again(ctx: Any) -> None:
    ctx.state.save_gone(
        url_key("https://e.org/story/a.html"), "https://e.org/story/a.html", 404, None
    )
    spider = ListingSpider(source=_source("Listing"), ctx=ctx)
    body = b"<a href='/story/a.html'>A</a><a href='/story/b.html'>B</a>"
    out = list(spider.parse_listing(_response(HtmlResponse, "https://e.org/list/1.html", body)))
    assert [r.url for r in out] == ["https://e.org/story/b.html"]
    assert (spider.report.skipped, spider.report.gone) == (1, 1)
    assert spider.report.skipped_note() == "skipped: 1 gone (404/410 lately)"


def test_skips_with_no_reason_recorded_are_still_counted_in_the_note() -> None:
    report = SourceReport("Listing")
    report.skip_robots()
    report.skipped += 2  # e.g. requests another middleware ruled out
    assert report.skipped_note() == "skipped: 1 robots.txt, 2 other (see the log)"
