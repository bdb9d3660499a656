"""Reliability of the crawl: feeds that follow entries to other hosts, and hostile feeds.

Real crawls (`csrnews crawl`) of loopback servers on two host names (127.0.0.1 and
127.0.0.2: two hosts to Scrapy, its robots.txt and its politeness), then a real build; the
story files and every page of the site are searched for anything that could run in a
reader's browser.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lxml_html

from csrnews.story.storycheck import find_quarantine
from csrnews.story.storyfile import iter_story_files, read_story
from tests.conftest import run_cli
from tests.hostile import (
    ACTIVE,
    LAUGHS_FEED,
    STORIES,
    XXE_FEED,
    LoopbackSite,
    rss,
    rss_item,
    story_page,
)

pytestmark = pytest.mark.slow

UA = "csrnews-reliability/1.0 (+https://example.org/tests)"
_MOVED = (
    "Port authority names the suppliers behind its new cranes",
    "2024-10-08",
    [
        "The port authority published the names of the suppliers that built its new cranes, "
        "with the audits each factory passed before the contract was signed.",
        "Two of the factories had corrected overtime findings during the past year, the "
        "authority said, and both now report working hours to it every month.",
        "Harbour workers' representatives welcomed the list and asked for the same for the "
        "maintenance contracts that follow.",
    ],
)
ROBOTS_B = "User-agent: *\nDisallow: /private/\n"


@pytest.fixture()
def hosts() -> Iterator[tuple[LoopbackSite, LoopbackSite]]:
    """(feed host on 127.0.0.2, story host on 127.0.0.1), each with its own robots.txt."""
    feeds, stories = LoopbackSite("127.0.0.2"), LoopbackSite("127.0.0.1")
    feeds.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    stories.add("/robots.txt", ROBOTS_B, "text/plain")
    try:
        yield feeds, stories
    finally:
        feeds.stop()
        stories.stop()


def _crawl(tmp_path: Path, sources: str, name: str) -> tuple[object, dict]:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "sources.yaml").write_text(sources, encoding="utf-8")
    result = run_cli(
        "crawl",
        "--sources",
        str(folder / "sources.yaml"),
        "--content",
        str(folder / "content"),
        "--state",
        str(folder / "var"),
        "--delay",
        "0",
        "--report",
        str(folder / "report.json"),
        timeout=240,
    )
    report = json.loads((folder / "report.json").read_text()) if result.returncode == 0 else {}
    return result, report


def test_a_feed_follows_its_entries_to_another_host(
    hosts: tuple[LoopbackSite, LoopbackSite], tmp_path: Path
) -> None:
    feeds, stories = hosts
    links = []
    for n, (title, date, paragraphs) in enumerate(STORIES[:3], 1):
        links.append(stories.add(f"/news/{n}.html", story_page(title, date, paragraphs)))
    title, date, paragraphs = STORIES[3]
    links.append(stories.add("/private/4.html", story_page(title, date, paragraphs)))
    items = [rss_item(link, STORIES[i][0], "<p>lead</p>") for i, link in enumerate(links)]
    # An entry on the feed's host that redirects to a story on the other host (a tracker).
    moved = stories.add("/news/moved.html", story_page(*_MOVED))
    items.append(rss_item(feeds.redirect("/go/moved", moved), _MOVED[0], "<p>lead</p>"))
    feeds.add("/feed.xml", rss(items), "application/rss+xml")

    result, report = _crawl(
        tmp_path,
        f"user_agent: '{UA}'\nsources:\n  - name: Two hosts\n    feed: {feeds.url}/feed.xml\n",
        "any-host",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    src = report["sources"]["Two hosts"]
    assert (src["status"], src["new"], src["offsite"], src["robots"]) == ("ok", 4, 0, 1)
    titles = sorted(read_story(p).title for p in iter_story_files(tmp_path / "any-host/content"))
    assert titles == sorted([*(t for t, _, _ in STORIES[:3]), _MOVED[0]])
    assert "skipped: 1 robots.txt" in result.stdout  # the private page: robots.txt of host B
    # Politeness per host: each host's robots.txt was read, and both saw our User-Agent.
    assert feeds.asked("/robots.txt") == 1 and stories.asked("/robots.txt") == 1
    assert stories.asked("/private/4.html") == 0 and feeds.asked("/go/moved") == 1
    assert {ua for _, ua in stories.requests} == {UA} and {ua for _, ua in feeds.requests} == {UA}


def test_allowed_domains_restricts_a_feed_and_says_what_it_skipped(
    hosts: tuple[LoopbackSite, LoopbackSite], tmp_path: Path
) -> None:
    feeds, stories = hosts
    links = [
        stories.add(f"/news/{n}.html", story_page(t, d, p)) for n, (t, d, p) in enumerate(STORIES)
    ]
    items = [rss_item(link, STORIES[i][0], "<p>lead</p>") for i, link in enumerate(links)]
    feeds.add("/feed.xml", rss(items), "application/rss+xml")
    result, report = _crawl(
        tmp_path,
        f"user_agent: '{UA}'\nsources:\n  - name: Own host only\n    feed: {feeds.url}/feed.xml\n"
        "    allowed_domains: [127.0.0.2]\n",
        "own-host",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    src = report["sources"]["Own host only"]
    assert (src["new"], src["offsite"], src["skipped"]) == (0, 4, 4)
    assert src["offsite_hosts"] == ["127.0.0.1"]
    assert "skipped: 4 off-site (127.0.0.1)" in result.stdout  # shown, not lost in silence
    assert not [p for p, _ in stories.requests if p.startswith("/news/")]


# --- hostile feeds -------------------------------------------------------------------------

_WORDS = (
    "supplier audit wages overtime dyeing mill cobalt smelter forum pledge buyer brand "
    "worker hotline river discharge template chemical safety training dormitory contract "
    "recruitment fee grievance committee harbour province factory electronics textile "
    "battery report standard guidance pilot survey inspection remedy canteen shift union"
).split()


def _prose(seed: int, sentences: int = 5) -> str:
    """Distinct paragraphs for each case, so that dedupe keeps them apart."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 20))]
        out.append(" ".join(words).capitalize() + f" in case {seed}.")
    return " ".join(out)


_EXEC_ATTR = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)
_BANNED_TAGS = ("iframe", "object", "embed", "base", "frame", "frameset", "applet", "svg", "math")


def _executable_in_page(path: Path) -> list[str]:
    """What in one built page could run script or load active content (with a note where)."""
    problems = []
    text = path.read_text(encoding="utf-8", errors="replace")
    doc = lxml_html.fromstring(text or "<html></html>")
    for el in doc.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "script":
            src, kind = el.get("src") or "", el.get("type") or ""
            if not (src.startswith("/theme/js/") or kind == "application/ld+json"):
                problems.append(f"{path}: <script src={src!r} type={kind!r}>")
        if tag in _BANNED_TAGS:
            problems.append(f"{path}: <{tag}>")
        if tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            problems.append(f"{path}: meta refresh")
        if tag == "form" and (el.get("action") or "") not in ("/search/", ""):  # the theme's
            problems.append(f"{path}: <form action={el.get('action')!r}>")
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"{path}: <{tag} {name}=...>")
            if name.lower() in ("href", "src", "action", "formaction", "data", "xlink:href"):
                cleaned = re.sub(r"[\x00-\x20]", "", value)
                if _EXEC_ATTR.match(cleaned) and not (tag == "link" and value == "data:,"):
                    problems.append(f"{path}: <{tag} {name}={value[:40]!r}>")
            if name.lower() == "style" and "url(" in value.lower():
                problems.append(f"{path}: <{tag} style={value[:40]!r}>")
    return problems


def test_hostile_feeds_give_no_crash_no_hang_and_nothing_executable(
    hosts: tuple[LoopbackSite, LoopbackSite], tmp_path: Path
) -> None:
    feeds, stories = hosts
    sources = [f"user_agent: '{UA}'", "sources:"]
    cases: list[str] = []

    def source(name: str, feed_body: str | bytes, ctype: str = "application/rss+xml") -> None:
        feeds.add(f"/{name}.xml", feed_body, ctype)
        sources.append(f"  - name: {name}\n    feed: {feeds.url}/{name}.xml")
        cases.append(name)

    # Entries whose pages are gone (404): the story is the feed's own hostile HTML.
    for n, markup in enumerate(ACTIVE):
        html = f"<p>{_prose(n)}</p>{markup}<p>{_prose(n + 100)}</p><p>{_prose(n + 200)}</p>"
        link = f"{stories.url}/gone/{n}.html"
        title = f"Hostile entry {n} <script>alert({n})</script> about supplier audits"
        source(f"active-{n}", rss([rss_item(link, title, html)]))
    # Entries whose pages are hostile themselves.
    for n, (title, date, paragraphs) in enumerate(STORIES):
        link = stories.add(f"/hostile/{n}.html", story_page(title, date, paragraphs))
        source(f"page-{n}", rss([rss_item(link, title + ' "onmouseover=alert(1)', "<p>x</p>")]))
    # The XML parser's own hazards, broken feeds and garbage values.
    passwd = stories.add("/xxe.html", story_page(*STORIES[0]))
    source("xxe", XXE_FEED.replace("{link}", passwd))
    source("laughs", LAUGHS_FEED.replace("{link}", stories.url + "/laughs.html"))
    source("unclosed", "<rss version='2.0'><channel><item><title>Broken <b>feed")
    source("not-xml", b"\x00\x01\x02 binary junk \xff\xfe" * 200, "application/octet-stream")
    source("empty", b"", "application/rss+xml")
    source("html-not-feed", "<!doctype html><title>Just a page</title><p>No feed here.</p>")
    odd_dates = [
        rss_item(
            f"{stories.url}/gone/date-{i}.html",
            f"Odd date {i} on wages",
            f"<p>{_prose(500 + i)}</p><p>{_prose(600 + i)}</p>",
            date=date,
        )
        for i, date in enumerate(["Mon, 01 Jan 99999 00:00:00 GMT", "yesterday", "0000-00-00", ""])
    ]
    source("odd-dates", rss(odd_dates))
    big = "<p>" + ("A very long supplier paragraph about wages and shifts. " * 20000) + "</p>"
    source("huge-entry", rss([rss_item(f"{stories.url}/gone/huge.html", "Huge entry", big)]))
    deep = "<div>" * 5000 + "<p>Deep supplier nesting.</p>" + "</div>" * 5000
    source("deep-entry", rss([rss_item(f"{stories.url}/gone/deep.html", "Deep entry", deep)]))
    utf16 = rss([rss_item(f"{stories.url}/gone/u16.html", "UTF-16 feed", f"<p>{_prose(900)}</p>")])
    source(
        "utf16",
        utf16.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
    )

    result, report = _crawl(tmp_path, "\n".join(sources) + "\n", "hostile")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert set(report["sources"]) == set(cases)
    content = tmp_path / "hostile" / "content"
    files = list(iter_story_files(content))
    assert len(files) >= len(ACTIVE) + len(STORIES), [p.name for p in files]
    # Every story file the crawler wrote is a valid one (nothing for the build to leave out).
    assert find_quarantine(content) == []
    for path in files:
        text = path.read_text(encoding="utf-8")
        story = read_story(path)
        # The Title is text (escaped wherever it is shown); the body and the Summary are markup.
        lowered = (story.body + "\n" + story.get("Summary")).lower()
        assert "root:x:0:0" not in text and "<script" not in lowered, path
        assert not re.search(r"\]\(\s*(javascript|vbscript|data):", lowered), path
        assert not re.search(r"<[a-z][^>]*\son\w+\s*=", lowered), path

    # Second line of defence: story files with raw active markup (an editor's paste, an old
    # crawl) are cleaned when the site is built.
    for n, markup in enumerate(ACTIVE):
        (content / "news" / "2024" / f"pasted-{n}.md").write_text(
            f"Title: Pasted story {n}\nDate: 2024-02-0{n % 9 + 1}\nSlug: pasted-{n}\n"
            f"Summary: {markup.splitlines()[0]} [s](javascript:alert({n}))\n\n"
            f"{_prose(700 + n)}\n\n{markup}\n\n[click](javascript:alert({n}))\n",
            encoding="utf-8",
        )
    built = run_cli(
        "build",
        "--content",
        str(content),
        "--output",
        str(tmp_path / "site"),
        "--index",
        str(tmp_path / "index"),
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    pages = list((tmp_path / "site").rglob("*.html"))
    assert len(pages) > len(files)
    problems = [p for page in pages for p in _executable_in_page(page)]
    assert not problems, problems[:20]
    for feed in (tmp_path / "site" / "feeds").rglob("*.xml"):
        assert "<script" not in feed.read_text(encoding="utf-8")
