"""Crawl edge cases on a tiny hand-written site: off-site redirects, feed fallback, selectors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from csrnews.story.storyfile import iter_story_files, read_story
from tests.test_crawl_support import crawl, write_sources

pytestmark = pytest.mark.slow

OTHER = (
    "Workers at the plant elected a new committee in a secret ballot watched by an "
    "independent monitor, and the committee will now meet the managers every month. "
)
PARA = (
    "The committee met suppliers from the delta to agree a plan for safer chemical storage, "
    "with inspections every quarter and training for every warehouse team in the region. "
)


class Site(ThreadingHTTPServer):
    """Answers from a dict of path -> (status, headers, body); logs (host, path)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.log: list[tuple[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        self.server.log.append((self.headers.get("Host", ""), self.path))
        status, headers, body = self.server.pages.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for key, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def site() -> Iterator[Site]:
    server = Site()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _rss(base: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{p}</link><pubDate>Mon, 04 Mar 2019 08:00:00 GMT"
        f"</pubDate><description>&lt;p&gt;{d}&lt;/p&gt;</description></item>"
        for t, p, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>{entries}'
        f"</channel></rss>"
    ).encode()


def _page(title: str, text: str) -> bytes:
    return (
        f"<html lang='en'><body><nav>Menu</nav><article><h1>{title}</h1><p>{text}</p>"
        f"<p>{text}</p></article></body></html>"
    ).encode()


def test_offsite_redirects_are_dropped_and_failed_pages_use_the_feed(
    site: Site, tmp_path: Path
) -> None:
    port = site.server_address[1]
    site.pages = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
        "/feed.xml": (
            200,
            {"Content-Type": "application/rss+xml"},
            _rss(
                site.base,
                [
                    ("Good story", "/good.html", "Feed summary of the good story."),
                    ("Moved story", "/moved.html", "Feed summary of the moved story."),
                    ("Broken story", "/broken.html", OTHER * 2),
                ],
            ),
        ),
        "/good.html": (200, {}, _page("Good story", PARA)),
        "/moved.html": (301, {"Location": f"http://localhost:{port}/elsewhere.html"}, b""),
        "/broken.html": (500, {}, b"server error"),
    }
    # A feed follows its entries to any host unless allowed_domains restricts it (then a
    # redirect to another host is not followed, and counted).
    write_sources(
        tmp_path,
        f'sources:\n  - name: Site\n    feed: "{site.base}/feed.xml"\n'
        "    allowed_domains: [127.0.0.1]\n",
    )
    run = crawl(tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert ("localhost:" + str(port), "/elsewhere.html") not in site.log
    assert run.report["sources"]["Site"]["offsite"] == 1
    assert run.report["sources"]["Site"]["offsite_hosts"] == ["localhost"]
    assert all(host.startswith("127.0.0.1") for host, _ in site.log)
    stories = {s.title: s for s in (read_story(p) for p in iter_story_files(tmp_path / "content"))}
    assert "Good story" in stories and "Moved story" not in stories
    broken = stories["Broken story"]
    assert "secret ballot" in broken.body
    assert broken.get("Date").startswith("2019-03-04")
    site_report = run.report["sources"]["Site"]
    assert site_report["new"] == 2 and site_report["status"] == "ok"
    # The page that failed is asked again next time; the good one is not.
    site.log.clear()
    site.pages["/broken.html"] = (200, {}, _page("Broken story", OTHER + "Now it works."))
    again = crawl(tmp_path)
    paths = [p for _, p in site.log]
    assert "/broken.html" in paths and "/good.html" not in paths
    assert again.report["sources"]["Site"]["updated"] == 1
    fixed = [
        read_story(p)
        for p in iter_story_files(tmp_path / "content")
        if read_story(p).title == "Broken story"
    ]
    assert len(fixed) == 1 and "Now it works." in fixed[0].body


def test_per_source_selectors_and_listing_pagination(site: Site, tmp_path: Path) -> None:
    odd = (
        b"<html><body><div class='x'><span class='h'>Selected headline</span>"
        b"<span class='when'>2016-02-03</span><div class='txt'><p>"
        + PARA.encode() * 2
        + b"</p></div></div><div class='noise'><h1>Wrong headline</h1><p>"
        + b"Noise. " * 80
        + b"</p></div></body></html>"
    )
    site.pages = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /p/\n"),
        "/list/1.html": (
            200,
            {},
            b"<a href='/s/one.html'>1</a><a href='/list/2.html'>next</a>"
            b"<a href='/p/secret.html'>members</a>",
        ),
        "/list/2.html": (200, {}, b"<a href='/s/two.html'>2</a><a href='/list/1.html'>prev</a>"),
        "/s/one.html": (200, {}, odd),
        "/s/two.html": (
            200,
            {},
            odd.replace(b"Selected headline", b"Second headline").replace(
                PARA.encode(), OTHER.encode()
            ),
        ),
        "/p/secret.html": (200, {}, _page("Secret", PARA)),
    }
    write_sources(
        tmp_path,
        f"""
sources:
  - name: Odd site
    start_urls: ["{site.base}/list/1.html"]
    article_links: '/(s|p)/[a-z]+\\.html$'
    follow_links: '/list/\\d+\\.html$'
    selectors: {{title: "span.h", date: "span.when", body: "div.txt"}}
""",
    )
    run = crawl(tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "/p/secret.html" not in [p for _, p in site.log], site.log
    stories = sorted(
        (read_story(p) for p in iter_story_files(tmp_path / "content")), key=lambda s: s.title
    )
    assert [s.title for s in stories] == ["Second headline", "Selected headline"]
    for story in stories:
        assert story.get("Date") == "2016-02-03"
        assert "Noise" not in story.body and "Wrong" not in story.body
        assert ("safer chemical storage" in story.body) == (story.title == "Selected headline")
