"""The demo publisher over real loopback HTTP: pages, charsets, feeds, sitemap, hooks, CLI."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml

from csrnews.demo.chrome import CHROME_TEXTS, PUBLISHERS
from csrnews.demo.render import DEAD_LINK_PATH, MEMBERS_PATH, PAGE_SIZE, display_date
from csrnews.demo.server import DemoServer, StoryError, render_sources, start_demo_server
from csrnews.demo.stories import DemoStory

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MINI_SLOW = 0.6

# A small corpus of our own, so every feature is covered whatever the real demo stories hold.
BODY_EN = (
    "The first paragraph of the {id} story reports what the association announced this week.\n\n"
    "Delegates from forty factories discussed overtime limits, wage records and dormitory "
    "safety with the auditors who visit them every year.\n\n"
    "Several managers said that repeated audits by different buyers cost them time without "
    "making their workplaces any safer.\n\n"
    "## Next steps\n\n"
    "The organisers plan a second meeting for supplier training in the spring.\n"
)
BODY_ZH = (
    "本刊讯 {id}报道：行业协会本周召开供应链社会责任座谈会，四十家工厂代表参加。\n\n"
    "与会代表围绕工时管理、工资记录和宿舍安全等问题进行了交流。\n\n"
    "多位企业负责人表示，不同客户的重复审核增加了工厂负担。\n"
)
BODY_BIG5 = (
    "本刊訊 行業協會本週召開供應鏈社會責任座談會，四十家工廠代表參加。\n\n"
    "與會代表圍繞工時管理、工資記錄和宿舍安全等問題進行了交流。\n"
)


def _mini(id_: str, publisher: str, date: str, **extra: Any) -> tuple[dict[str, Any], str]:
    zh = extra.get("lang") == "zh"
    meta = {
        "id": id_,
        "publisher": publisher,
        "date": date,
        "lang": "en",
        "title": f"Mini story {id_}",
        "author": "Test Writer",
        "summary": f"Summary of {id_}.",
        "labels": {"locations": ["Suzhou"]},
        "flags": [],
    }
    meta.update(extra)
    if zh and "title" not in extra:
        meta["title"] = f"测试报道{id_}：供应链责任座谈会召开"
    body = extra.pop("body", None) or (BODY_ZH if zh else BODY_EN).format(id=id_)
    meta.pop("body", None)
    return meta, body


MINI_STORIES = [
    _mini("m-herald-meta", "herald", "2017-08-28"),
    _mini("m-herald-url", "herald", "2018-03-15", date_style="url"),
    _mini("m-herald-reprinted", "herald", "2018-11-09T10:30:00+08:00", reprinted_by="review"),
    _mini("m-review-time", "review", "2016-05-18"),
    _mini("m-review-hostile", "review", "2019-02-11", flags=["hostile"]),
    _mini("m-review-jsonld", "review", "2019-04-02", date_style="jsonld"),
    _mini(
        "m-weekly-gbk-meta", "weekly", "2017-09-01", lang="zh", encoding="gbk", charset_in="meta"
    ),
    _mini("m-weekly-gb2312-header", "weekly", "2017-10-12", lang="zh", encoding="gb2312"),
    _mini(
        "m-weekly-big5-none",
        "weekly",
        "2018-01-22",
        lang="zh",
        encoding="big5",
        charset_in="none",
        title="供應鏈責任座談會召開",
        body=BODY_BIG5,
    ),
    _mini(
        "m-weekly-gbk-header-url",
        "weekly",
        "2018-05-03",
        lang="zh",
        encoding="gbk",
        date_style="url",
    ),
    _mini("m-weekly-en", "weekly", "2018-06-30"),
    _mini(
        "m-weekly-time", "weekly", "2019-01-08", lang="zh", date_style="time", reprinted_by="esn"
    ),
    _mini("m-weekly-members", "weekly", "2019-03-03", lang="zh", flags=["robots_disallowed"]),
    _mini("m-esn-jsonld", "esn", "2016-12-01"),
    _mini("m-esn-url", "esn", "2017-02-14", date_style="url"),
    _mini("m-esn-slow", "esn", "2019-07-07", flags=["slow"], date_style="meta"),
    _mini("m-esn-byline", "esn", "2019-10-10", date_style="byline"),
]


# -- helpers ---------------------------------------------------------------------------------


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """GET (or HEAD) a URL; return status, headers and body, also for error statuses."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def page_text(server: DemoServer, path: str, encoding: str = "utf-8") -> str:
    status, _, body = fetch(server.url_for(path))
    assert status == 200, path
    return html.unescape(body.decode(encoding))


def pages_of(story: DemoStory) -> list[tuple[str, str, str]]:
    """(publisher, path, date style) of every page a story has: its own and its reprint."""
    from csrnews.demo.stories import reprint_date_style

    found = [(story.publisher, story.path, story.date_style)]
    if story.reprinted_by and story.reprint_path:
        found.append((story.reprinted_by, story.reprint_path, reprint_date_style(story)))
    return found


def carried_by(server: DemoServer, publisher: str) -> set[str]:
    """Absolute URLs of everything a publisher carries (its stories and reprints)."""
    urls = {s.url for s in server.stories if s.publisher == publisher}
    urls |= {s.reprint_url for s in server.stories if s.reprinted_by == publisher}
    return {u for u in urls if u}


def date_forms(day: dt.date) -> list[str]:
    """Ways a page could show a day: ISO, slashes, English, Chinese, compact."""
    return [
        day.isoformat(),
        f"{day:%Y/%m/%d}",
        f"{day:%Y%m%d}",
        f"{day.year}-{day.month}-{day.day}",
        f"{day.day} {day:%B} {day.year}",
        f"{day:%B} {day.day}, {day.year}",
        f"{day.year}年{day.month}月{day.day}日",
    ]


def visible_body_text(story: DemoStory) -> str:
    """The story body as plain text (Markdown markup removed), for comparisons."""
    import markdown

    rendered = markdown.markdown(story.body, extensions=["tables"])
    return html.unescape(re.sub(r"<[^>]+>", " ", rendered))


@pytest.fixture(scope="module")
def mini_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo publisher serving our own small corpus, with a short slow delay."""
    root = tmp_path_factory.mktemp("stories")
    for meta, body in MINI_STORIES:
        folder = root / meta["publisher"]
        folder.mkdir(exist_ok=True)
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        (folder / f"{meta['id']}.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    (root / "herald" / "broken.md").write_text("no front matter here\n", encoding="utf-8")
    server = start_demo_server(port=0, stories_dir=root, slow_seconds=MINI_SLOW)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["real", "mini"])
def any_server(
    request: pytest.FixtureRequest, demo_server: DemoServer, mini_server: DemoServer
) -> DemoServer:
    """Run a test against the bundled stories and against our own corpus."""
    return demo_server if request.param == "real" else mini_server


def mini(server: DemoServer, id_: str) -> DemoStory:
    return next(s for s in server.stories if s.id == id_)


# -- loading ---------------------------------------------------------------------------------


def test_mini_corpus_loads_and_skips_broken_files(mini_server: DemoServer) -> None:
    assert sorted(s.id for s in mini_server.stories) == sorted(m["id"] for m, _ in MINI_STORIES)
    story = mini(mini_server, "m-herald-reprinted")
    assert story.date == dt.date(2018, 11, 9) and story.has_time
    assert story.url == mini_server.url_for("/herald/news/2018/11/m-herald-reprinted.html")
    assert story.reprint_url == mini_server.url_for("/review/articles/m-herald-reprinted/")


def test_real_stories_all_load(demo_server: DemoServer) -> None:
    files = sorted((ROOT / "csrnews" / "demo" / "stories").glob("*/*.md"))
    assert {s.id for s in demo_server.stories} == {
        yaml.safe_load(p.read_text(encoding="utf-8").split("---")[1])["id"] for p in files
    }


# -- pages, 404, home ------------------------------------------------------------------------


def test_home_links_every_publisher(demo_server: DemoServer) -> None:
    text = page_text(demo_server, "/")
    for key, pub in PUBLISHERS.items():
        assert f'href="/{key}/"' in text and pub.name in text
        assert fetch(demo_server.url_for(f"/{key}/"))[0] == 200
        status, headers, _ = fetch(demo_server.url_for(f"/static/{key}.css"))
        assert status == 200 and headers["Content-Type"] == "text/css; charset=utf-8"


def test_review_story_without_trailing_slash_redirects(demo_server: DemoServer) -> None:
    story = next(s for s in demo_server.stories if s.publisher == "review")
    status, _, body = fetch(story.url.rstrip("/"))  # urllib follows the 301
    assert status == 200 and story.title.encode() in body
    assert [r.status for r in demo_server.request_log[-2:]] == [301, 200]


def test_unknown_path_is_a_404_page(demo_server: DemoServer) -> None:
    status, headers, body = fetch(demo_server.url_for("/herald/news/1999/01/nothing.html"))
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Not Found" in body


def test_every_story_page_is_served(any_server: DemoServer) -> None:
    for story in any_server.stories:
        for publisher, path, _ in pages_of(story):
            status, _headers, body = fetch(any_server.url_for(path))
            assert status == 200, path
            text = html.unescape(body.decode(story.encoding))
            assert story.title in text
            lang = 'lang="zh-CN"' if story.lang == "zh" else 'lang="en"'
            assert f"<html {lang}>" in text
            assert PUBLISHERS[publisher].footer[0] in text  # the publisher's own chrome


def test_story_body_markdown_is_rendered(mini_server: DemoServer) -> None:
    text = page_text(mini_server, mini(mini_server, "m-herald-meta").path)
    assert "<h2>Next steps</h2>" in text
    assert "<p>Delegates from forty factories" in text


# -- charsets --------------------------------------------------------------------------------


def test_charset_declared_where_the_story_says(any_server: DemoServer) -> None:
    for story in any_server.stories:
        _status, headers, body = fetch(any_server.url_for(story.path))
        head = body[: body.find(b"<title>")].decode("ascii", errors="replace").lower()
        content_type = headers["Content-Type"]
        if story.charset_in == "header":
            assert content_type == f"text/html; charset={story.encoding}", story.id
            assert "charset" not in head, story.id
        elif story.charset_in == "meta":
            assert content_type == "text/html", story.id
            assert f"charset={story.encoding}" in head or f'charset="{story.encoding}"' in head
        else:
            assert content_type == "text/html", story.id
            assert "charset" not in head, story.id


def test_legacy_chinese_encodings_decode_only_with_their_charset(any_server: DemoServer) -> None:
    legacy = [s for s in any_server.stories if s.encoding != "utf-8" and not s.title.isascii()]
    for story in legacy:
        _, _, body = fetch(any_server.url_for(story.path))
        assert story.title in html.unescape(body.decode(story.encoding)), story.id
        assert story.title not in body.decode("utf-8", errors="replace"), story.id
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")


def test_gbk_with_meta_charset_only(mini_server: DemoServer) -> None:
    story = mini(mini_server, "m-weekly-gbk-meta")
    _status, headers, body = fetch(mini_server.url_for(story.path))
    assert headers["Content-Type"] == "text/html"
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">' in body
    text = body.decode("gbk")
    assert "与会代表围绕工时管理" in text and story.title in text
    assert "与会代表围绕工时管理".encode("gbk") in body


def test_big5_without_any_charset(mini_server: DemoServer) -> None:
    story = mini(mini_server, "m-weekly-big5-none")
    _status, headers, body = fetch(mini_server.url_for(story.path))
    assert headers["Content-Type"] == "text/html" and b"charset" not in body
    assert "與會代表圍繞工時管理".encode("big5") in body
    assert story.title in body.decode("big5")


def test_gb2312_in_header(mini_server: DemoServer) -> None:
    story = mini(mini_server, "m-weekly-gb2312-header")
    _, headers, body = fetch(mini_server.url_for(story.path))
    assert headers["Content-Type"] == "text/html; charset=gb2312"
    assert story.title in body.decode("gb2312")


# -- conditional GET, HEAD -------------------------------------------------------------------

CONDITIONAL_PATHS = [
    "/herald/feed.xml",
    "/review/atom.xml",
    "/esn/sitemap.xml",
    "/esn/sitemap-stories.xml",
    "/weekly/list/1.html",
    "/robots.txt",
    "/",
]


def test_etag_and_last_modified_give_304(demo_server: DemoServer) -> None:
    story = demo_server.stories[0]
    for path in [story.path, *CONDITIONAL_PATHS]:
        url = demo_server.url_for(path)
        status, headers, _body = fetch(url)
        assert status == 200, path
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert etag.startswith('"') and not etag.startswith("W/"), path
        assert fetch(url)[1]["ETag"] == etag  # stable, from the bytes
        assert fetch(url, {"If-None-Match": etag})[0] == 304, path
        assert fetch(url, {"If-None-Match": '"other"'})[0] == 200, path
        assert fetch(url, {"If-Modified-Since": modified})[0] == 304, path
        later = parsedate_to_datetime(modified) + dt.timedelta(days=3)
        assert fetch(url, {"If-Modified-Since": format_datetime(later, usegmt=True)})[0] == 304
        earlier = parsedate_to_datetime(modified) - dt.timedelta(seconds=1)
        assert fetch(url, {"If-Modified-Since": format_datetime(earlier, usegmt=True)})[0] == 200
        # If-None-Match wins over If-Modified-Since.
        assert fetch(url, {"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200


def test_last_modified_comes_from_the_story_date(mini_server: DemoServer) -> None:
    for story in mini_server.stories:
        _, headers, _ = fetch(mini_server.url_for(story.path))
        modified = parsedate_to_datetime(headers["Last-Modified"])
        if story.date_style == "url":
            assert modified.date() != story.date  # the date is only in the URL
        else:
            assert modified == story.published.replace(microsecond=0), story.id


def test_head_has_headers_and_no_body(demo_server: DemoServer) -> None:
    story = demo_server.stories[0]
    url = demo_server.url_for(story.path)
    _, get_headers, get_body = fetch(url)
    status, headers, body = fetch(url, method="HEAD")
    assert status == 200 and body == b""
    assert headers["ETag"] == get_headers["ETag"]
    assert int(headers["Content-Length"]) == len(get_body)


# -- robots, slow, log -----------------------------------------------------------------------


def test_robots_txt_disallows_members_only(demo_server: DemoServer) -> None:
    text = page_text(demo_server, "/robots.txt")
    assert "User-agent: *" in text and "Disallow: /weekly/members/" in text
    assert f"Sitemap: {demo_server.url}/esn/sitemap.xml" in text
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    assert not parser.can_fetch("csrnews", demo_server.url_for(MEMBERS_PATH))
    for story in demo_server.stories:
        allowed = "robots_disallowed" not in story.flags
        assert parser.can_fetch("csrnews", story.url) is allowed, story.id
    assert parser.can_fetch("csrnews", demo_server.url_for("/weekly/list/1.html"))


def test_robots_disallowed_story_lives_under_members(mini_server: DemoServer) -> None:
    story = mini(mini_server, "m-weekly-members")
    assert story.path == "/weekly/members/m-weekly-members.html"
    assert fetch(story.url)[0] == 200


def test_slow_page_waits(mini_server: DemoServer) -> None:
    slow = mini(mini_server, "m-esn-slow")
    start = time.monotonic()
    assert fetch(slow.url)[0] == 200
    assert time.monotonic() - start >= MINI_SLOW
    start = time.monotonic()
    assert fetch(mini(mini_server, "m-esn-url").url)[0] == 200
    assert time.monotonic() - start < MINI_SLOW


def test_slow_flag_of_real_stories_uses_default_delay(demo_server: DemoServer) -> None:
    from csrnews.demo.server import SLOW_SECONDS

    assert demo_server.slow_seconds == SLOW_SECONDS == 1.5
    slow = [s for s in demo_server.stories if "slow" in s.flags][:1]
    for story in slow:
        start = time.monotonic()
        fetch(story.url)
        assert time.monotonic() - start >= SLOW_SECONDS


def test_request_log_records_requests(fresh_demo_server: DemoServer) -> None:
    server = fresh_demo_server
    fetch(server.url_for("/robots.txt"))
    server.clear_log()
    assert server.request_log == []
    story = server.stories[0]
    headers = {
        "User-Agent": "csrnews-test/1.0",
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT",
    }
    fetch(server.url_for(story.path + "?utm_source=test"), headers)
    fetch(server.url_for("/nowhere"), {"User-Agent": "csrnews-test/1.0"})
    fetch(server.url_for("/robots.txt"), method="HEAD")
    log = server.request_log
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", story.path + "?utm_source=test", 200),
        ("GET", "/nowhere", 404),
        ("HEAD", "/robots.txt", 200),
    ]
    assert log[0].headers == headers
    assert log[1].headers == {"User-Agent": "csrnews-test/1.0"}
    assert all(isinstance(r.time, float) for r in log)


# -- feeds, sitemap, listings ----------------------------------------------------------------


def _feed(server: DemoServer, path: str, content_type: str) -> Any:
    status, headers, body = fetch(server.url_for(path))
    assert status == 200 and headers["Content-Type"] == f"{content_type}; charset=utf-8"
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def _check_feed_entries(server: DemoServer, parsed: Any, publisher: str) -> None:
    by_url = {s.url: s for s in server.stories}
    by_url |= {s.reprint_url: s for s in server.stories if s.reprint_url}
    links = [e.link for e in parsed.entries]
    assert set(links) == carried_by(server, publisher)
    assert len(links) == len(set(links))
    dates = []
    for entry in parsed.entries:
        story = by_url[entry.link]
        assert entry.title == story.title and entry.summary == story.summary
        published = dt.datetime(*entry.published_parsed[:6], tzinfo=dt.UTC)
        assert published == story.published.astimezone(dt.UTC)
        dates.append(published)
    assert dates == sorted(dates, reverse=True)  # newest first


def test_rss_feed_lists_every_herald_story(any_server: DemoServer) -> None:
    parsed = _feed(any_server, "/herald/feed.xml", "application/rss+xml")
    assert parsed.version == "rss20" and parsed.feed.title == "The CSR Herald"
    _check_feed_entries(any_server, parsed, "herald")
    assert all(e.id == e.link for e in parsed.entries)  # guid


def test_atom_feed_lists_every_review_story(any_server: DemoServer) -> None:
    parsed = _feed(any_server, "/review/atom.xml", "application/atom+xml")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Supply Chain Responsibility Review"
    _check_feed_entries(any_server, parsed, "review")


def test_sitemap_lists_every_esn_story(any_server: DemoServer) -> None:
    import xml.etree.ElementTree as ET

    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    _, headers, body = fetch(any_server.url_for("/esn/sitemap.xml"))
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    index = ET.fromstring(body)
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    children = [
        (s.findtext("sm:loc", namespaces=ns), s.findtext("sm:lastmod", namespaces=ns))
        for s in index.findall("sm:sitemap", ns)
    ]
    assert children and children[0][0] == any_server.url_for("/esn/sitemap-stories.xml")
    dt.date.fromisoformat(children[0][1])
    urlset = ET.fromstring(fetch(children[0][0])[2])
    found = {
        u.findtext("sm:loc", namespaces=ns): u.findtext("sm:lastmod", namespaces=ns)
        for u in urlset.findall("sm:url", ns)
    }
    assert set(found) == carried_by(any_server, "esn")
    for story in any_server.stories:
        if story.publisher == "esn":
            assert found[story.url][:10] == story.date.isoformat()


def test_listing_pagination_reaches_every_weekly_story(any_server: DemoServer) -> None:
    sources = yaml.safe_load(render_sources(any_server.url))["sources"]
    weekly = next(s for s in sources if s["name"] == "China CSR Weekly")
    article_re, follow_re = re.compile(weekly["article_links"]), re.compile(weekly["follow_links"])
    to_visit, visited, articles = [weekly["start_urls"][0]], set(), set()
    while to_visit:
        url = to_visit.pop()
        if url in visited:
            continue
        visited.add(url)
        text = page_text(any_server, url.removeprefix(any_server.url))
        listed = re.findall(r'<ul class="list">(.*?)</ul>', text, re.DOTALL)[0]
        assert 1 <= listed.count("<li>") <= PAGE_SIZE
        assert "下一页" in text or url.endswith(f"/{len(visited)}.html")
        for href in re.findall(r'href="([^"]+)"', text):
            absolute = any_server.url_for(href) if href.startswith("/") else href
            if follow_re.search(href):
                to_visit.append(absolute)
            elif article_re.search(href):
                articles.add(absolute)
    pages = -(-len(carried_by(any_server, "weekly")) // PAGE_SIZE)
    assert len(visited) == pages
    expected = carried_by(any_server, "weekly")
    expected |= {any_server.url_for(MEMBERS_PATH), any_server.url_for(DEAD_LINK_PATH)}
    assert articles == expected
    assert fetch(any_server.url_for(DEAD_LINK_PATH))[0] == 404
    assert fetch(any_server.url_for(MEMBERS_PATH))[0] == 200  # only robots.txt keeps crawlers out


def test_sources_yaml_matches_the_url_schemes(mini_server: DemoServer) -> None:
    text = render_sources(mini_server.url)
    assert "{base}" not in text
    sources = {s["name"]: s for s in yaml.safe_load(text)["sources"]}
    assert sources["The CSR Herald"]["feed"] == mini_server.url_for("/herald/feed.xml")
    assert sources["Supply Chain Responsibility Review"]["feed"] == mini_server.url_for(
        "/review/atom.xml"
    )
    assert sources["Electronics Sustainability News"]["sitemap"] == mini_server.url_for(
        "/esn/sitemap.xml"
    )
    esn_re = re.compile(sources["Electronics Sustainability News"]["article_links"])
    assert all(esn_re.search(s.url) for s in mini_server.stories if s.publisher == "esn")


# -- dates -----------------------------------------------------------------------------------

_PLACES = {
    "meta": r'<meta property="article:published_time" content="([^"]+)">',
    "time": r'<time datetime="([^"]+)"[^>]*>[^<]*</time>',
    "byline": r'<span class="date">[^<]*</span>',
    "jsonld": r'<script type="application/ld\+json">(.*?)</script>',
}


def _check_date_place(server: DemoServer, story: DemoStory, path: str, style: str) -> None:
    _, _headers, body = fetch(server.url_for(path))
    text = html.unescape(body.decode(story.encoding))
    text = re.sub(r'href="[^"]*"', 'href=""', text)  # other stories' URLs may hold dates
    lang_forms = date_forms(story.date)
    if style == "url":
        assert path not in text
        assert f"{story.date:%Y/%m/%d}" in path or f"{story.date:%Y-%m-%d}" in path
        rest = text
    else:
        assert f"{story.date:%Y/%m/%d}" not in path and story.date.isoformat() not in path
        matches = list(re.finditer(_PLACES[style], text, re.DOTALL))
        assert len(matches) == 1, (story.id, style)
        place = matches[0]
        if style in ("meta", "time"):
            assert place.group(1) == story.date_iso
        elif style == "jsonld":
            data = json.loads(place.group(1))
            assert data["@type"] == "NewsArticle" and data["datePublished"] == story.date_iso
        else:
            assert display_date(story, story.lang) in place.group(0)
        rest = text[: place.start()] + text[place.end() :]
    for other, pattern in _PLACES.items():
        if other != style:
            assert not re.search(pattern, text, re.DOTALL), (story.id, other)
    body_text = visible_body_text(story)
    for form in lang_forms:
        # Whatever the body itself says stays; nothing else may carry the date.
        assert rest.count(form) == body_text.count(form), (story.id, style, form)


def test_each_date_style_puts_the_date_only_in_its_place(any_server: DemoServer) -> None:
    for story in any_server.stories:
        for _, path, style in pages_of(story):
            _check_date_place(any_server, story, path, style)


def test_mini_corpus_covers_every_date_style(mini_server: DemoServer) -> None:
    styles = {style for s in mini_server.stories for _, _, style in pages_of(s)}
    assert styles == {"meta", "time", "byline", "jsonld", "url"}
    en = mini(mini_server, "m-esn-byline")
    assert "Published 10 October 2019" in page_text(mini_server, en.path)
    zh = mini(mini_server, "m-weekly-gbk-meta")
    assert "发布时间：2017年9月1日" in page_text(mini_server, zh.path, "gbk")
    assert mini(mini_server, "m-herald-url").path == "/herald/news/2018/03/15/m-herald-url.html"


# -- hostile, reprints -----------------------------------------------------------------------


def _article(text: str) -> str:
    return text[text.find('id="main"') : text.find("</main>") if "</main>" in text else None]


def test_hostile_page_carries_active_content_around_real_prose(any_server: DemoServer) -> None:
    hostile = [s for s in any_server.stories if "hostile" in s.flags]
    assert hostile
    for story in hostile:
        text = _article(page_text(any_server, story.path, story.encoding))
        assert "<script>" in text and "document.cookie" in text
        assert re.search(r'<iframe src="[^"]+"', text)
        assert re.search(r'<img src="x" onerror="[^"]+"', text)
        assert re.search(r'<a href="javascript:[^"]+">[^<]+</a>', text)
        assert re.search(r'<p onclick="[^"]+">', text)
        plain = " ".join(re.sub(r"<[^>]+>", " ", text).split())
        for paragraph in story.body.split("\n\n"):
            words = paragraph.strip().lstrip("#").strip()
            if words and not words.startswith(("-", "|")) and "[" not in words:
                assert " ".join(words.split()) in plain, words[:40]


_BODY_START = (
    r'class="(?:story-body|entry-content|article-content|article-body)">\s*'
    r"<p>(.*?)</p>"
)


def test_reprint_appears_on_both_publishers(any_server: DemoServer) -> None:
    reprinted = [s for s in any_server.stories if s.reprinted_by]
    assert reprinted
    for story in reprinted:
        original = page_text(any_server, story.path, story.encoding)
        reprint = page_text(any_server, story.reprint_path or "", story.encoding)
        first, second = PUBLISHERS[story.publisher], PUBLISHERS[story.reprinted_by or ""]
        assert second.footer[0] in reprint and second.footer[0] not in original
        assert second.reprint_template.format(name=first.name) in reprint
        assert f'<a href="{story.path}">' in reprint
        plain = [
            " ".join(re.sub(r"<[^>]+>", " ", _article(t)).split()) for t in (original, reprint)
        ]
        paragraphs = [p.strip() for p in story.body.split("\n\n") if p.strip()]
        firsts = [re.search(_BODY_START, t).group(1) for t in (original, reprint)]
        assert firsts[0] != firsts[1] and firsts[0] in firsts[1]  # a different first line
        for paragraph in paragraphs[1:]:
            if not paragraph.startswith(("#", "-", "|")) and "[" not in paragraph:
                assert " ".join(paragraph.split()) in plain[1]
        assert story.reprint_url in carried_by(any_server, story.reprinted_by or "")


# -- test hooks ------------------------------------------------------------------------------


def test_fail_prefix_and_clear_failures(fresh_demo_server: DemoServer) -> None:
    server = fresh_demo_server
    feed = server.url_for("/review/atom.xml")
    server.fail_prefix("/review/", 500)
    server.fail_prefix("/esn/sitemap", 503)
    assert fetch(feed)[0] == 500
    assert fetch(next(s for s in server.stories if s.publisher == "review").url)[0] == 500
    assert fetch(server.url_for("/esn/sitemap.xml"))[0] == 503
    assert fetch(server.url_for("/herald/feed.xml"))[0] == 200
    assert [r.status for r in server.request_log[-4:]] == [500, 500, 503, 200]
    server.clear_failures()
    assert fetch(feed)[0] == 200 and fetch(server.url_for("/esn/sitemap.xml"))[0] == 200


def test_add_story_appears_in_lists_with_new_etags(fresh_demo_server: DemoServer) -> None:
    server = fresh_demo_server
    before = {
        p: fetch(server.url_for(p))[1]["ETag"]
        for p in ("/herald/feed.xml", "/esn/sitemap-stories.xml", "/weekly/list/1.html")
    }
    count = len(server.stories)
    added = [
        server.add_story(
            {
                "id": "added-herald",
                "publisher": "herald",
                "title": "Added herald",
                "date": "2020-03-02",
                "lang": "en",
                "summary": "New.",
            },
            "A story added at run time.\n",
        ),
        server.add_story(
            {
                "id": "added-esn",
                "publisher": "esn",
                "title": "Added esn",
                "date": dt.date(2020, 3, 3),
                "lang": "en",
            },
            "Another one.\n",
        ),
        server.add_story(
            {
                "id": "added-weekly",
                "publisher": "weekly",
                "title": "新增报道",
                "date": "2020-03-04",
                "lang": "zh",
                "encoding": "gbk",
            },
            "新增。\n",
        ),
    ]
    assert len(server.stories) == count + 3
    for path, etag in before.items():
        assert fetch(server.url_for(path))[1]["ETag"] != etag, path
    assert added[0].url in {
        e.link for e in _feed(server, "/herald/feed.xml", "application/rss+xml").entries
    }
    assert added[1].url.encode() in fetch(server.url_for("/esn/sitemap-stories.xml"))[2]
    assert added[2].path.encode() in fetch(server.url_for("/weekly/list/1.html"))[2]
    status, _headers, body = fetch(added[2].url)
    assert status == 200 and "新增报道" in body.decode("gbk")
    with pytest.raises(StoryError):
        server.add_story(
            {"id": "added-esn", "publisher": "esn", "title": "x", "date": "2020-01-01"}, "dup"
        )
    with pytest.raises(StoryError):
        server.add_story(
            {"id": "bad", "publisher": "nowhere", "title": "x", "date": "2020-01-01"}, "bad"
        )


# -- chrome ----------------------------------------------------------------------------------


def test_chrome_texts_appear_on_pages_and_never_in_bodies(demo_server: DemoServer) -> None:
    pages = ["/weekly/list/1.html", "/weekly/list/2.html"]
    for key in PUBLISHERS:
        own = [s for s in demo_server.stories if s.publisher == key and s.encoding == "utf-8"]
        pages.append(own[0].path)
    pages += [s.reprint_path for s in demo_server.stories if s.reprint_path]
    served = "\n".join(page_text(demo_server, p) for p in pages if p)
    # Reprint lines only appear for pairs that really exist; every other text must be there.
    reprint_lines = {
        pub.reprint_template.format(name=other.name)
        for pub in PUBLISHERS.values()
        for other in PUBLISHERS.values()
    }
    for text in CHROME_TEXTS:
        if text not in reprint_lines:
            assert text in served, text
    for story in demo_server.stories:
        body = visible_body_text(story) + story.title
        for text in CHROME_TEXTS:
            assert text not in body, (story.id, text)


# -- command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["-m", "csrnews", "demo-server", "--port", "0"], ["-m", "csrnews.demo.server", "--port", "0"]],
)
def test_command_prints_url_and_serves(command: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        status, _, body = fetch(url + "/robots.txt")
        assert status == 200 and b"Disallow: /weekly/members/" in body
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
