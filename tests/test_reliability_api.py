"""Hostile API parameters against a real `csrnews serve`: no 5xx, no hang, always JSON.

Long fuzzy and wildcard terms, query syntax that trips parsers, broken encodings, too many
parameters, odd methods and paths: every request gets an answer within its time, a 2xx, 3xx
or 4xx, and /api/search answers in JSON.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.parse
from pathlib import Path

import pytest
from csrnews.search import update_index

from bench.corpus import generate_corpus
from tests.test_search_index import STORIES, _write
from tests.test_serve_workers import Server, Site

pytestmark = pytest.mark.slow


def _hostile_queries() -> list[str]:
    """Raw (already URL-encoded where it matters) query strings for /api/search."""
    q: list[str] = []
    for n in (1, 2, 5, 24, 25, 50, 100, 300, 490):
        q += [f"q={'x' * n}~2", f"q={'x' * n}~9", f"q={'x' * n}*", f"q=*{'x' * n}*"]
    q += [
        "q=" + "%20".join(["x~2"] * 120),
        "q=" + "%20".join(["ab~2"] * 99),
        "q=" + "%20".join(f"w{i}~1" for i in range(8)),
        "q=" + "%20".join(f"w{i}~1" for i in range(9)),
        "q=" + "%20".join(["*e*"] * 100),
        "q=" + "%20OR%20".join(["s*"] * 60),
        "q=*a*e*i*o*u*",
        "q=" + "?" * 30,
        "q=" + "*" * 50,
        "q=a*b*c*d",
        "q=%5Ba%20TO%20zzzz%5D",
        "q=title:%5Ba%20TO%20%5D",
        "q=year:%5B0%20TO%2099999%5D",
        "q=date:%5Byesterday%20TO%20tomorrow%5D",
        "q=" + "(" * 200,
        "q=" + ")" * 200,
        "q=" + "%22" * 201,
        "q=" + "(" * 100 + "x" + ")" * 100,
        "q=" + "NOT%20" * 100 + "x",
        "q=" + "%20AND%20".join(["forum"] * 150),
        "q=org:org:org:",
        "q=%3A%3A%3A",
        "q=^2^3~~~",
        "q=x~2/99",
        "q=x~-1",
        "q=x~99999999999999999999",
        "q=forum^99999999999999999999",
        "q=%E2%80%AEevil%E2%80%AC",
        "q=%E2%80%8B%E2%80%8B",
        "q=%00%01%02",
        "q=%ED%A0%80",  # a UTF-16 surrogate, invalid in UTF-8
        "q=%FF%FE",
        "q=%zz",
        "q=%",
        "q=" + "%E4%BC%81%E4%B8%9A" * 100,
        "q=" + "a" * 501,
        "q=" + "a%20" * 250,
        "q=forum&q=forum",
        "q=&type=" + "&type=".join(["summit"] * 45),
        "&".join(f"p{i}=1" for i in range(60)),
        "q=x&page=0",
        "q=x&page=-1",
        "q=x&page=1001",
        "q=x&page=99999999999999999999999",
        "q=x&per_page=0",
        "q=x&per_page=51",
        "q=x&per_page=1e3",
        "q=x&sort=random",
        "q=x&sort=",
        "q=x&from=yesterday",
        "q=x&from=99999-01-01",
        "q=x&to=0000-00-00",
        "q=x&from=2019-02-30",
        "q=x&year=18",
        "q=x&year=%F0%9F%98%80",
        "q=x&lang=" + "x" * 5000,
        "q=x&org=" + "%00" * 100,
        "q=x&standard=" + "%20".join(["SJ/T"] * 200),
        "q=x&tag=a&tag=b&tag=" + "&tag=".join(str(i) for i in range(40)),
        "",
        "=",
        "&&&&",
        "q",
        "q=x;page=2",
    ]
    # Seeded random queries from the syntax that trips parsers, each also sorted by date.
    rng = random.Random(17)
    tokens = [
        *'abcxyz"*?~^:()[]{}<>/\\-+!&|',
        " AND ",
        " OR ",
        " NOT ",
        "org:",
        "type:",
        "year:",
        " TO ",
        "x~2",
        "*e*",
        "企业",
        "\u202e",
        "\x00",
        "%",
        "'",
        "forum",
        "supply",
        "chain",
    ]
    for _ in range(150):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(1, 30)))
        q.append("q=" + urllib.parse.quote(text))
    q += [f"{item}&sort=date&page=2" for item in q[:120]]
    return q


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Site:
    base = tmp_path_factory.mktemp("hostile-api")
    content, output, index = base / "content", base / "output", base / "index"
    generate_corpus(content, 300)
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    output.mkdir()
    (output / "index.html").write_text("<!doctype html><title>home</title>", encoding="utf-8")
    return Site(output, index)


def _ask(port: int, method: str, target: str) -> tuple[int, bytes, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        conn.close()


def test_hostile_api_requests_get_no_5xx(served: Site, tmp_path: Path) -> None:
    server = Server(served, tmp_path, "--workers", "2")
    try:
        server.wait_up()
        asked: list[tuple[str, str]] = [("GET", f"/api/search?{q}") for q in _hostile_queries()]
        asked += [("HEAD", f"/api/search?{q}") for q in _hostile_queries()[:40]]
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "FOO"):
            asked += [(method, "/api/search?q=forum"), (method, "/")]
        for path in (
            "/api/search/",
            "/api/search//",
            "/api//search",
            "/api/search%00",
            "/api/search/../../etc/passwd",
            "/api/",
            "/api",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/..%2f..%2fetc%2fpasswd",
            "/" + "a/" * 500,
            "/" + "%ff" * 50,
            "/index.html%00.png",
            "/?" + "x" * 6000,
        ):
            asked.append(("GET", path))
        statuses: dict[int, int] = {}
        refused_by_server: list[str] = []
        slowest = 0.0
        for method, target in asked:
            status, body, seconds = _ask(server.port, method, target)
            statuses[status] = statuses.get(status, 0) + 1
            slowest = max(slowest, seconds)
            assert status < 500, (method, target[:120], status, body[:200])
            assert seconds < 2.0, (method, target[:120], seconds)
            if target.startswith("/api/search?") and method == "GET":
                if status in (400, 414) and not body.startswith(b"{"):
                    # a request line the HTTP server itself refuses (gunicorn's parser)
                    refused_by_server.append(target)
                    continue
                answer = json.loads(body)
                assert ("error" in answer) == (status == 400), (target[:120], answer)
        # The figures this suite keeps: hundreds of hostile requests, not one 5xx.
        assert len(asked) >= 430 and not [s for s in statuses if s >= 500], statuses
        assert statuses.get(200, 0) > 50 and statuses.get(400, 0) > 30, statuses
        assert len(refused_by_server) <= 5, refused_by_server
        assert server.proc.poll() is None  # and the server is still up
        assert server.search("forum")["total"] > 0
    finally:
        server.stop()
