"""Reliability of search: the cost budget per query, on a real `csrnews serve` and in-process.

The acceptance figure of issue 17: the long fuzzy queries (`q=` + 100 × `x` + `~2`, 300 × `x`
+ `~2`) answer in at most 1 s each while an ordinary query answers in at most 100 ms beside
them. The machine running the tests is shared (two cores, other test runs), so the wall-clock
figures get three rounds; the CPU each hostile query costs the server is measured from /proc
as well, which other load does not change.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from csrnews.search import QueryError, QueryLimits, SearchRequest, SearchService, update_index
from csrnews.search.limits import Budget, BudgetExceeded, ExpensiveGate

from bench.corpus import generate_corpus
from csrnews.serve.wsgi import make_app
from tests.conftest import wsgi_server
from tests.test_search_index import STORIES, _write
from tests.test_serve_workers import Server, Site, _wait_for

LONG_FUZZY = ["x" * 100 + "~2", "x" * 300 + "~2"]
HOSTILE = [
    *LONG_FUZZY,
    "x~2" * 166,  # 300 × "x~2" without spaces is past the 500 characters a query may have
    "x~2" * 300,
    " ".join(["x~2"] * 120),
    "abcdefghij" * 10 + "~2",
    "*a*e*",
    " ".join(f"{c}*" for c in "abcdefgh"),
    "supply~2 chain~2 forum~2 wages~2",
    "[a TO zzzz]",
]
ORDINARY = ["supply chain", "forum", "wages", "amfori audit", "green procurement", "standard"]


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """An index of 400 synthetic stories and the test stories, and a one-page site."""
    base = tmp_path_factory.mktemp("reliable-search")
    content, output, index = base / "content", base / "output", base / "index"
    generate_corpus(content, 400)
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    output.mkdir()
    (output / "index.html").write_text("<!doctype html><title>home</title>", encoding="utf-8")
    return Site(output, index)


def _get(port: int, q: str) -> tuple[int, float, dict]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/api/search?q=" + urllib.parse.quote(q))
        response = conn.getresponse()
        body = json.loads(response.read())
        return response.status, time.monotonic() - started, body
    finally:
        conn.close()


def _cpu_seconds(pids: set[int]) -> float:
    """User + system CPU time of processes, from /proc/PID/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        raw = Path(f"/proc/{pid}/stat").read_text()
        fields = raw[raw.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _round(port: int) -> dict[str, float]:
    """Four clients loop over the long fuzzy queries while 30 ordinary ones are timed."""
    stop = threading.Event()
    hostile_times: list[float] = []
    statuses: list[int] = []

    def hammer(offset: int) -> None:
        i = offset
        while not stop.is_set():
            status, seconds, _ = _get(port, LONG_FUZZY[i % len(LONG_FUZZY)])
            statuses.append(status)
            hostile_times.append(seconds)
            i += 1

    clients = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for client in clients:
        client.start()
    ordinary_times = []
    try:
        time.sleep(0.2)
        for i in range(30):
            status, seconds, body = _get(port, ORDINARY[i % len(ORDINARY)])
            assert status == 200 and body["total"] > 0
            ordinary_times.append(seconds)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    assert set(statuses) == {200}, statuses
    ordinary_times.sort()
    return {
        "hostile_max": max(hostile_times),
        "hostile_count": len(hostile_times),
        "ordinary_median": statistics.median(ordinary_times),
        "ordinary_p90": ordinary_times[int(len(ordinary_times) * 0.9) - 1],
    }


@pytest.mark.solo
@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads CPU time from /proc")
def test_long_fuzzy_queries_do_not_stall_a_real_server(corpus_site: Site, tmp_path: Path) -> None:
    server = Server(corpus_site, tmp_path, "--workers", "2")
    try:
        server.wait_up()
        # gunicorn answers as soon as its first worker is up; the second follows
        _wait_for(lambda: len(server.workers()) == 2, seconds=30, message="2 workers")
        workers = server.workers()
        for q in HOSTILE + ORDINARY:  # every code path warmed up once
            assert _get(server.port, q)[0] in (200, 400), q
        print("figures:", json.dumps({"workers": len(workers)}))

        # CPU: what the long fuzzy queries cost the server, whatever else runs on the machine.
        before = _cpu_seconds(workers)
        for _ in range(10):
            for q in LONG_FUZZY:
                status, _, body = _get(server.port, q)
                assert status == 200 and body["total"] == 0
        per_query = (_cpu_seconds(workers) - before) / 20
        print("figures:", json.dumps({"cpu_per_long_fuzzy_query": per_query}))
        assert per_query < 0.05, f"{per_query:.3f} s of CPU per long fuzzy query"

        # Every other hostile query: answered (or refused) within the budget's reach.
        for q in HOSTILE:
            status, seconds, _ = _get(server.port, q)
            assert status in (200, 400) and seconds <= 1.0, (q, status, seconds)

        # Wall clock: four clients sending long fuzzy queries back to back, as in the issue,
        # and ordinary queries beside them.
        rounds = []
        for _ in range(3):
            figures = _round(server.port)
            rounds.append(figures)
            if (
                figures["hostile_max"] <= 1.0
                and figures["ordinary_median"] <= 0.1
                and figures["ordinary_p90"] <= 0.1
            ):
                break
        else:
            pytest.fail(f"no round met the figures: {rounds}")
        print("figures:", json.dumps(rounds))
        assert rounds[-1]["hostile_count"] >= 8
    finally:
        server.stop()


def test_fuzzy_distance_follows_the_word_length() -> None:
    limits = QueryLimits()
    assert [limits.fuzzy_distance("x" * n, 2) for n in (1, 2, 3, 5, 6, 24, 25, 300)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        0,
        0,
    ]
    assert limits.fuzzy_distance("procurement", 1) == 1  # never more than asked


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    base = tmp_path_factory.mktemp("limits")
    for row in STORIES:
        _write(base / "content", row)
    update_index(base / "content", base / "index")
    return SearchService(base / "index", cache_size=0)


@pytest.mark.parametrize(
    ("q", "why"),
    [
        ("*a*e*i*o*u*", "at most 4 * or ?"),
        ("?" * 30, "at most 4 * or ?"),
        ("*" + "a" * 40, "at most 32 characters"),
        (" ".join(f"{w}*" for w in "abcdefghi"), "more than 8 wildcard, fuzzy or range terms"),
        (" ".join(f"word{i}~1" for i in range(9)), "more than 8 wildcard, fuzzy or range terms"),
    ],
)
def test_costly_patterns_are_refused_with_a_reason(
    service: SearchService, q: str, why: str
) -> None:
    with pytest.raises(QueryError, match=why.replace("*", r"\*").replace("?", r"\?")):
        service.search(SearchRequest(q=q))


def test_fuzzy_and_wildcard_searches_still_find_stories(service: SearchService) -> None:
    assert service.search(SearchRequest(q="shenzen~1"))["total"] >= 1
    assert service.search(SearchRequest(q="memorandmu~2"))["total"] >= 1
    assert service.search(SearchRequest(q="wag*"))["total"] >= 1
    assert service.search(SearchRequest(q="shen?hen"))["total"] >= 1
    answer = service.search(SearchRequest(q="procurement"))
    assert "partial" not in answer


@pytest.mark.slow
def test_a_search_over_its_budget_answers_what_it_found(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    generate_corpus(content, 600)
    update_index(content, index)
    roomy = SearchService(index, cache_size=0, fastpath=False, limits=QueryLimits(budget=0))
    full = roomy.search(SearchRequest(q="s* OR c* OR p*"))
    assert full["total"] > 300 and "partial" not in full
    # No time at all: nothing is expanded, the answer is empty and says it is partial.
    broke = QueryLimits(budget=1e-9)
    answer = SearchService(index, cache_size=0, limits=broke).search(SearchRequest(q="s*"))
    assert answer["partial"] is True and answer["total"] == 0
    # Collecting stops at the deadline: fewer documents than the full answer, none wrong.
    tight = SearchService(index, cache_size=0, fastpath=False, limits=QueryLimits(budget=1e-9))
    snapshot = tight._current()
    searcher = snapshot.acquire()
    try:
        final, _ = roomy._query(searcher, SearchRequest(q="s* OR c* OR p*"))
        budget = Budget(QueryLimits(budget=1e-9))
        top, docnums = tight._whoosh_matches(searcher, final, "relevance", 50, budget)
        everything = roomy._whoosh_matches(searcher, final, "relevance", 50)[1]
    finally:
        snapshot.release(searcher)
    assert budget.cut and 0 < len(docnums) < full["total"]
    assert set(docnums) <= set(everything) and len(top) <= 50


def test_too_many_expensive_searches_at_once_get_503_with_retry_after(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    (tmp_path / "site").mkdir()
    app = make_app(tmp_path / "site", index)
    limits = QueryLimits(budget=0.2, expensive_concurrency=1, retry_after=3)
    app.service.limits = limits
    app.service._gate = ExpensiveGate(limits)
    assert app.service._gate.enter(Budget(limits))
    try:  # the one slot is taken: a fuzzy search waits 0.2 s, then gets a 503
        with wsgi_server(app) as url:
            port = int(url.rsplit(":", 1)[1])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/search?q=procurment~1")
            response = conn.getresponse()
            body = json.loads(response.read())
            assert response.status == 503 and response.headers["Retry-After"] == "3"
            assert "try again" in body["error"]
            with pytest.raises(BudgetExceeded):
                app.service.search(SearchRequest(q="procurment~1"))
            conn.close()
            status, _, body = _get(port, "procurement")  # an ordinary search needs no slot
            assert status == 200 and body["total"] >= 1
    finally:
        app.service._gate.leave()
