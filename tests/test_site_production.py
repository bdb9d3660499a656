"""A site built with its public URL set, as in production: feeds, sitemap, robots.txt, the
calendar and the structured data pass their standards; the GitHub Pages example works on a
project subpath (/repo/) with no missing asset or link; the build's bookkeeping is not served."""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import feedparser
import pytest

from tests.conftest import ROOT, run_cli
from tests.golden_site import SAMPLES

SITE_URL = "https://example.org/repo"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample content built by `csrnews build --site-url https://example.org/repo/`."""
    base = tmp_path_factory.mktemp("production")
    built = run_cli(
        "build",
        "--content",
        str(SAMPLES),
        "--output",
        str(base / "output"),
        "--index",
        str(base / "index"),
        "--site-url",
        SITE_URL + "/",
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "static search: 12 stories" in built.stdout
    return base / "output"


def test_the_site_url_is_one_setting_everywhere(tmp_path: Path) -> None:
    """SITEURL of a settings file, overridden by CSRNEWS_SITEURL (and --site-url)."""
    conf = tmp_path / "conf.py"
    conf.write_text(
        "from pelicanconf import *  # noqa\nSITEURL = 'https://from-settings.example'\n",
        encoding="utf-8",
    )
    out = tmp_path / "a"
    made = run_cli(
        "build", "--content", str(SAMPLES), "--output", str(out), "--no-index",
        "--no-static-search", "--settings", str(conf),
        env={"PYTHONPATH": str(ROOT), "CSRNEWS_SITEURL": ""},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Sitemap: https://from-settings.example/sitemap.xml" in (out / "robots.txt").read_text()
    out = tmp_path / "b"
    made = run_cli(
        "build", "--content", str(SAMPLES), "--output", str(out), "--no-index",
        "--no-static-search", "--settings", str(conf),
        env={"PYTHONPATH": str(ROOT), "CSRNEWS_SITEURL": "https://from-env.example/x"},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Sitemap: https://from-env.example/x/sitemap.xml" in (out / "robots.txt").read_text()
    assert not (out / "pagefind").exists()  # --no-static-search


def _sample_events() -> list:
    from csrnews.story.storyfile import iter_story_files, read_story
    from csrnews.story.vocabulary import is_event_type

    stories = [read_story(p) for p in iter_story_files(SAMPLES)]
    return [
        s
        for s in stories
        if s.get("Event_date") and is_event_type(s.get("Category")) and s.get("Status") != "hidden"
    ]


def _feeds(site: Path) -> list[Path]:
    return sorted((site / "feeds").rglob("*.xml"))


def test_every_feed_is_valid(site: Path) -> None:
    """feedparser reads every feed without complaint, and every Atom feed has what RFC 4287
    requires: feed id, title, updated, author (of the feed or of each entry); entry id, title,
    updated and an alternate link; ids absolute IRIs, unique within the feed."""
    feeds = _feeds(site)
    assert site / "feeds" / "top10.atom.xml" in feeds and len(feeds) > 30
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        if not path.name.endswith(".atom.xml"):
            continue
        root = ElementTree.parse(path).getroot()
        assert root.tag == f"{ATOM}feed"
        for name in ("id", "title", "updated"):
            assert (root.findtext(f"{ATOM}{name}") or "").strip(), (path, name)
        feed_id = root.findtext(f"{ATOM}id") or ""
        assert feed_id.startswith(SITE_URL + "/feeds/"), (path, feed_id)
        feed_author = root.find(f"{ATOM}author/{ATOM}name")
        ids = set()
        for entry in root.findall(f"{ATOM}entry"):
            entry_id = entry.findtext(f"{ATOM}id") or ""
            assert re.match(r"^(https://|tag:example\.org,)", entry_id), (path, entry_id)
            assert entry_id not in ids
            ids.add(entry_id)
            assert (entry.findtext(f"{ATOM}title") or "").strip()
            assert (entry.findtext(f"{ATOM}updated") or "").strip()
            links = [e.get("href", "") for e in entry.findall(f"{ATOM}link")]
            assert links and all(link.startswith(SITE_URL + "/") for link in links)
            assert feed_author is not None or entry.find(f"{ATOM}author/{ATOM}name") is not None


def test_sitemap_follows_the_protocol(site: Path) -> None:
    root = ElementTree.parse(site / "sitemap.xml").getroot()
    assert root.tag == f"{SITEMAP_NS}urlset"
    urls = root.findall(f"{SITEMAP_NS}url")
    assert 50 < len(urls) <= 50000
    for url in urls:
        loc = url.findtext(f"{SITEMAP_NS}loc") or ""
        lastmod = url.findtext(f"{SITEMAP_NS}lastmod") or ""
        assert loc.startswith(SITE_URL + "/") and len(loc) < 2048
        # W3C Datetime: a date, or a date and time with a time zone
        assert re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z))?", lastmod), loc
        assert (site / urlsplit(loc).path.removeprefix("/repo/") / "index.html").is_file(), loc
    locs = {u.findtext(f"{SITEMAP_NS}loc") for u in urls}
    assert f"{SITE_URL}/events/" in locs
    story = f"{SITE_URL}/news/2025/iso-26000-forum-in-shanghai/"
    lastmod = {u.findtext(f"{SITEMAP_NS}loc"): u.findtext(f"{SITEMAP_NS}lastmod") for u in urls}
    assert lastmod[story].startswith("2025-06-03")
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in robots.splitlines()


def test_the_calendar_parses_with_every_event(site: Path) -> None:
    from icalendar import Calendar

    calendar = Calendar.from_ical((site / "events.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids)) == len(_sample_events()) >= 4
    for event in events:
        assert event.get("DTSTART") is not None and str(event.get("SUMMARY"))
        assert str(event["UID"]).endswith("@example.org")
        assert str(event["URL"]).startswith(SITE_URL + "/news/")
        assert str(event["CATEGORIES"].cats[0]) in ("Summit & forum", "Training", "Award")
    # the events page lists the same events, each with its type, place and link
    page = (site / "events" / "index.html").read_text(encoding="utf-8")
    for event in events:
        assert str(event["URL"]) in page
    assert page.index('id="upcoming-h"') < page.index('id="past-h"')


def _jsonld(page: Path) -> list[dict]:
    text = page.read_text(encoding="utf-8")
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    return [json.loads(block) for block in found]


def test_story_structured_data_has_every_property(site: Path) -> None:
    pages = sorted((site / "news").rglob("index.html"))
    assert len(pages) == 12
    events = 0
    for page in pages:
        blocks = _jsonld(page)
        article = next(b for b in blocks if b["@type"] == "NewsArticle")
        for key in ("headline", "image", "author", "publisher", "datePublished", "dateModified"):
            assert article.get(key), (page, key)
        assert article["image"][0]["url"].startswith(SITE_URL + "/")
        assert article["author"][0]["@type"] == "Organization" and article["author"][0]["name"]
        assert article["publisher"]["logo"]["url"] == f"{SITE_URL}/theme/images/logo.png"
        assert (site / "theme" / "images" / "logo.png").is_file()
        assert article["url"] == article["mainEntityOfPage"]
        assert article["url"].startswith(SITE_URL + "/news/")
        event = [b for b in blocks if b["@type"] == "Event"]
        if event:
            events += 1
            assert article["articleSection"] in ("Summit & forum", "Training", "Award")
            assert event[0]["location"]["@type"] == "Place" and event[0]["location"]["name"]
            assert "," not in event[0]["location"]["name"]  # one place
            assert event[0]["startDate"]
        html = page.read_text(encoding="utf-8")
        assert f'<link rel="canonical" href="{article["url"]}">' in html
        assert f'<meta property="og:url" content="{article["url"]}">' in html
    # summits, trainings and awards with a date and a place; MoUs and reports are no events
    assert events == len([s for s in _sample_events() if s.get("Locations")]) >= 3


def test_organisation_pages_name_the_body_in_full(site: Path) -> None:
    page = (site / "org" / "miit" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Ministry of Industry and Information Technology (MIIT)</h1>" in page
    assert '<p class="name-zh" lang="zh">工业和信息化部</p>' in page
    listing = (site / "type" / "summit-forum" / "index.html").read_text(encoding="utf-8")
    assert "Event: <time" in listing and "in Shenzhen" in listing


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            # data-api (/api/search) is asked first and not there on a static host: the
            # search page then uses the static search (tests/test_readers_browser.py)
            if value and (name in ("href", "src", "data-root", "data-pagefind")):
                self.found.append(value)


@pytest.fixture()
def pages_host(site: Path, tmp_path: Path) -> Iterator[str]:
    """The site as the GitHub Pages example uploads it (dotfiles left out), on a static
    server that has it under /repo/ only, as a project page."""
    upload = tmp_path / "public"
    shutil.copytree(site, upload, ignore=shutil.ignore_patterns(".*"))

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def translate_path(self, path: str) -> str:
            if not path.startswith("/repo/"):
                return str(upload / "no-such-file")
            return super().translate_path(path.removeprefix("/repo"))

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(upload))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        err.close()
        return err.code


def test_the_pages_example_on_a_project_subpath_has_no_404(site: Path, pages_host: str) -> None:
    """Every link and asset of every page (and the static search's files the search page
    loads) answers 200 from a static server with the site under /repo/."""
    targets: set[str] = set()
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.found:
            url = urljoin(f"{SITE_URL}/{rel}", link)
            if url.startswith(SITE_URL + "/"):
                targets.add(urlsplit(url)._replace(query="", fragment="").geturl())
            else:
                # a root-relative link would leave /repo/ (story text may link other sites)
                assert not (link.startswith("/") and not link.startswith("//")), (rel, link)
    manifest = json.loads((site / "pagefind" / "shards.json").read_text(encoding="utf-8"))
    for shard in manifest["shards"]:
        for name in ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json"):
            targets.add(f"{SITE_URL}/pagefind/{shard['id']}/{name}")
    # the hostile sample's <img src="x.png"> is story text the sanitiser test keeps, not an
    # asset of the site
    targets.discard(f"{SITE_URL}/news/2024/hostile-markup-test-story/x.png")
    assert len(targets) > 100
    missing = [u for u in sorted(targets) if _status(pages_host + urlsplit(u).path) != 200]
    assert not missing, missing[:20]
    assert _status(pages_host + "/repo/.csrnews-manifest.json") == 404
    assert (site / ".csrnews-manifest.json").is_file()  # the build keeps it, the upload not


def test_the_pages_and_nginx_examples_keep_the_manifest_private() -> None:
    workflow = (ROOT / "deploy" / "ci" / "github-actions-nightly.yml").read_text(encoding="utf-8")
    assert "--site-url" in workflow and "--exclude='.*'" in workflow
    nginx = (ROOT / "deploy" / "nginx" / "csrnews.conf").read_text(encoding="utf-8")
    assert "location ~ /\\." in nginx


def test_csrnews_serve_does_not_serve_the_manifest(site: Path, tmp_path: Path) -> None:
    from csrnews.serve.wsgi import make_app
    from tests.conftest import wsgi_server

    assert (site / ".csrnews-manifest.json").is_file()
    with wsgi_server(make_app(site, tmp_path / "index")) as url:
        assert _status(url + "/.csrnews-manifest.json") == 404
        assert _status(url + "/news/.hidden") == 404
        assert _status(url + "/pagefind/shards.json") == 200
        assert _status(url + "/events/") == 200


def test_story_lists_name_an_events_one_place(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(SAMPLES, content)
    story = content / "news" / "2024" / "green-supply-chain-summit-opens-in-shenzhen.md"
    text = story.read_text(encoding="utf-8")
    story.write_text(
        text.replace("Locations: Shenzhen", "Locations: Shenzhen, Dongguan, Guangdong, China"),
        encoding="utf-8",
    )
    built = run_cli(
        "build",
        "--content",
        str(content),
        "--output",
        str(tmp_path / "output"),
        "--index",
        str(tmp_path / "index"),
        "--no-static-search",
    )
    assert built.returncode == 0, built.stdout + built.stderr
    listing = (tmp_path / "output" / "type" / "summit-forum" / "index.html").read_text("utf-8")
    assert "in Shenzhen</span>" in listing and "Dongguan" not in listing
    page = (tmp_path / "output" / "news" / "2024").glob("*shenzhen*/index.html")
    assert "Dongguan" in next(page).read_text(encoding="utf-8")  # the story keeps them all
