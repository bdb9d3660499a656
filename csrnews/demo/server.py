"""The demo publisher: four fictional CSR news sites on one threaded loopback HTTP server."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csrnews.demo import feeds, render
from csrnews.demo.chrome import CHROME_TEXTS
from csrnews.demo.stories import PUBLISHER_KEYS, SITE_REBUILT, DemoStory, StoryError, load_stories
from csrnews.demo.stories import story_from_meta as _story_from_meta

__all__ = [
    "CHROME_TEXTS",
    "SLOW_SECONDS",
    "DemoServer",
    "RequestRecord",
    "StoryError",
    "render_sources",
    "serve_forever",
    "start_demo_server",
]

logger = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent
SOURCES_TEMPLATE = DEMO_DIR / "sources.yaml"
STATIC_DIR = DEMO_DIR / "static"
SLOW_SECONDS = 1.5  # how long a story flagged `slow` makes its reader wait
LOGGED_HEADERS = ("User-Agent", "If-None-Match", "If-Modified-Since")
HTML = "text/html"


@dataclass
class RequestRecord:
    """One request the demo server answered."""

    time: float
    method: str
    path: str  # with the query string
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str
    last_modified: dt.datetime | None = None
    slow: bool = False
    location: str | None = None


def render_sources(base_url: str) -> str:
    """The text of csrnews/demo/sources.yaml with `{base}` replaced by the demo server's URL."""
    return SOURCES_TEMPLATE.read_text(encoding="utf-8").replace("{base}", base_url.rstrip("/"))


def _utf8(text: str, content_type: str, modified: dt.datetime | None) -> _Response:
    return _Response(200, text.encode("utf-8"), f"{content_type}; charset=utf-8", modified)


class _TrackingHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that closes, on server_close(), connections still open.

    Keep-alive connections of a crawler that is gone can leave handler threads (daemon
    threads) holding sockets after the server stopped; closing them here ends those threads
    and leaves no socket for the garbage collector to find unclosed.
    """

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            still_open, self._open = list(self._open), set()
        for request in still_open:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            request.close()


class DemoServer:
    """A running demo publisher. Use start_demo_server() to get one."""

    def __init__(
        self,
        host: str,
        port: int,
        stories_dir: Path | str | None,
        slow_seconds: float,
        latency: float = 0.0,
    ) -> None:
        self.slow_seconds = slow_seconds
        self.latency = latency  # seconds every answer waits (benchmarks of slow sites)
        self._lock = threading.Lock()
        self._stories: list[DemoStory] = load_stories(stories_dir)
        self._routes: dict[str, Callable[[], _Response]] | None = None
        self._failures: dict[str, int] = {}
        self._log: list[RequestRecord] = []
        self._httpd = _TrackingHTTPServer((host, port), _Handler)
        self._httpd.demo = self  # type: ignore[attr-defined]
        bound_host, bound_port = str(self._httpd.server_address[0]), self._httpd.server_address[1]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        for story in self._stories:
            story.base_url = self.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="demo-publisher",
            daemon=True,
        )
        self._thread.start()
        logger.info("demo publisher with %d stories on %s", len(self._stories), self.url)

    # -- public API -------------------------------------------------------------------------

    def url_for(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self.url + (path if path.startswith("/") else "/" + path)

    @property
    def stories(self) -> list[DemoStory]:
        """The stories served (loaded from the folder, plus any added at run time)."""
        with self._lock:
            return list(self._stories)

    @property
    def request_log(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget the requests logged so far."""
        with self._lock:
            self._log.clear()

    def fail_prefix(self, prefix: str, status: int = 500) -> None:
        """Make every path starting with prefix answer `status` until clear_failures()."""
        with self._lock:
            self._failures[prefix] = status

    def clear_failures(self) -> None:
        """Stop failing any path."""
        with self._lock:
            self._failures.clear()

    def add_story(self, meta: dict[str, Any], body: str) -> DemoStory:
        """Publish a story at run time: it appears on its page and in its publisher's lists."""
        story = _story_from_meta(dict(meta), body)
        story.base_url = self.url
        story.added_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self._lock:
            if any(s.id == story.id for s in self._stories):
                raise StoryError(f"a story with id {story.id!r} exists already")
            self._stories.append(story)
            self._routes = None
        return story

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- serving ----------------------------------------------------------------------------

    def _failure_for(self, path: str) -> int | None:
        with self._lock:
            for prefix, status in self._failures.items():
                if path.startswith(prefix):
                    return status
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def _route_table(self) -> dict[str, Callable[[], _Response]]:
        with self._lock:
            if self._routes is None:
                self._routes = self._build_routes(list(self._stories))
            return self._routes

    def _build_routes(self, stories: list[DemoStory]) -> dict[str, Callable[[], _Response]]:
        base = self.url
        routes: dict[str, Callable[[], _Response]] = {}
        newest = render.last_changed(render.all_entries(stories)) or SITE_REBUILT

        def listing(number: int) -> _Response:
            return _utf8(
                render.listing_page(number, stories),
                HTML,
                render.last_changed(render.entries_for(stories, "weekly")),
            )

        def front(key: str) -> _Response:
            return _utf8(
                render.front_page(key, stories),
                HTML,
                render.last_changed(render.entries_for(stories, key)),
            )

        def css_file(path: Path) -> _Response:
            return _utf8(path.read_text(encoding="utf-8"), "text/css", SITE_REBUILT)

        for entry in render.all_entries(stories):
            routes[entry.path] = partial(self._story_response, entry, stories)
        for number in range(1, render.listing_pages(stories) + 1):
            routes[f"/weekly/list/{number}.html"] = partial(listing, number)
        for key in PUBLISHER_KEYS:
            routes[f"/{key}/"] = partial(front, key)
        routes[render.MEMBERS_PATH] = lambda: _utf8(
            render.members_page(stories), HTML, SITE_REBUILT
        )
        routes["/herald/feed.xml"] = lambda: _utf8(
            feeds.rss_feed(stories, base),
            "application/rss+xml",
            render.last_changed(render.entries_for(stories, "herald")),
        )
        routes["/review/atom.xml"] = lambda: _utf8(
            feeds.atom_feed(stories, base),
            "application/atom+xml",
            render.last_changed(render.entries_for(stories, "review")),
        )
        esn_changed = render.last_changed(render.entries_for(stories, "esn"))
        routes["/esn/sitemap.xml"] = lambda: _utf8(
            feeds.sitemap_index(stories, base), "application/xml", esn_changed
        )
        routes["/esn/sitemap-stories.xml"] = lambda: _utf8(
            feeds.sitemap_stories(stories, base), "application/xml", esn_changed
        )
        routes["/robots.txt"] = lambda: _utf8(feeds.robots_txt(base), "text/plain", SITE_REBUILT)
        routes["/"] = lambda: _utf8(render.home_page(stories), HTML, newest)
        for css in sorted(STATIC_DIR.glob("*.css")):
            routes[f"/static/{css.name}"] = partial(css_file, css)
        return routes

    def _story_response(self, entry: render.Entry, stories: list[DemoStory]) -> _Response:
        story = entry.story
        html = render.story_page(entry, stories, self.url)
        body = html.encode(story.encoding, errors="xmlcharrefreplace")
        content_type = HTML
        if story.charset_in == "header":
            content_type += f"; charset={story.encoding}"
        modified = SITE_REBUILT if entry.date_style == "url" else story.published
        if story.added_at:
            modified = max(modified, story.added_at)
        return _Response(200, body, content_type, modified, slow="slow" in story.flags)

    def respond(self, method: str, target: str) -> _Response:
        """Work out the answer to a request (without conditional GET, done by the handler)."""
        path = urlsplit(target).path or "/"
        failure = self._failure_for(path)
        if failure is not None:
            return _Response(
                failure, render.error_page(failure).encode("utf-8"), "text/html; charset=utf-8"
            )
        routes = self._route_table()
        handler = routes.get(path)
        if handler is None:
            if not path.endswith("/") and path + "/" in routes:
                return _Response(301, b"", "text/html; charset=utf-8", location=path + "/")
            return _Response(
                404, render.not_found_page(path).encode("utf-8"), "text/html; charset=utf-8"
            )
        return handler()


def _http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def _not_modified(headers: Any, etag: str, modified: dt.datetime | None) -> bool:
    """Conditional GET: If-None-Match wins over If-Modified-Since (RFC 9110)."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since and modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return modified.replace(microsecond=0) <= since
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoPublisher/1.0"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._send(_Response(405, b"Method Not Allowed\n", "text/plain; charset=utf-8"), True)

    def _answer(self, send_body: bool) -> None:
        demo: DemoServer = self.server.demo  # type: ignore[attr-defined]
        try:
            response = demo.respond(self.command, self.path)
        except Exception:
            logger.exception("demo publisher failed on %s", self.path)
            response = _Response(500, b"Internal Server Error\n", "text/plain; charset=utf-8")
        if response.slow:
            time.sleep(demo.slow_seconds)
        if demo.latency:
            time.sleep(demo.latency)
        self._send(response, send_body)

    def _send(self, response: _Response, send_body: bool) -> None:
        demo: DemoServer = self.server.demo  # type: ignore[attr-defined]
        status, extra = response.status, {}
        if status == 200:
            etag = '"' + hashlib.sha256(response.body).hexdigest()[:24] + '"'
            extra["ETag"] = etag
            if response.last_modified is not None:
                extra["Last-Modified"] = _http_date(response.last_modified)
            if _not_modified(self.headers, etag, response.last_modified):
                status = 304
        if response.location:
            extra["Location"] = response.location
        logged = {name: self.headers[name] for name in LOGGED_HEADERS if name in self.headers}
        demo._record(RequestRecord(time.time(), self.command, self.path, status, logged))
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def start_demo_server(
    host: str = "127.0.0.1",
    port: int = 0,
    stories_dir: Path | str | None = None,
    slow_seconds: float | None = None,
    latency: float = 0.0,
) -> DemoServer:
    """Start the demo publisher in a background thread; stop it with .stop().

    `latency` makes every answer wait that many seconds (a far or slow site, for benchmarks).
    """
    return DemoServer(
        host, port, stories_dir, SLOW_SECONDS if slow_seconds is None else slow_seconds, latency
    )


def serve_forever(
    host: str = "127.0.0.1", port: int = 0, stories_dir: Path | str | None = None
) -> None:
    """Serve until Ctrl-C, printing the URL on the first line of stdout (like Scrapy's)."""
    server = start_demo_server(host=host, port=port, stories_dir=stories_dir)
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    """`python -m csrnews.demo.server [--host H] [--port P] [--stories DIR]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stories", default=None, help="Folder of story files.")
    args = parser.parse_args(argv)
    serve_forever(host=args.host, port=args.port, stories_dir=args.stories)


if __name__ == "__main__":
    main()
