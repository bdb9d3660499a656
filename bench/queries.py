"""The fixed query mix, and its latency in-process and through the HTTP API with 4 clients."""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.measure import percentiles

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix: its kind, the text, filters and sort, as /api/search takes them."""

    kind: str
    q: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    date_from: str = ""
    date_to: str = ""

    def query_string(self) -> str:
        """The /api/search parameters (a filter may repeat)."""
        params: list[tuple[str, str]] = [("q", self.q)]
        for name, values in self.filters.items():
            params += [(name, value) for value in values]
        if self.sort != "relevance":
            params.append(("sort", self.sort))
        if self.date_from:
            params.append(("from", self.date_from))
        if self.date_to:
            params.append(("to", self.date_to))
        return urlencode(params)


QUERY_MIX: tuple[BenchQuery, ...] = (
    BenchQuery("single", "supply"),
    BenchQuery("single", "audit"),
    BenchQuery("single", "labour"),
    BenchQuery("single", "amfori"),
    BenchQuery("single", "emissions"),
    BenchQuery("two_words", "green procurement"),
    BenchQuery("two_words", "conflict minerals"),
    BenchQuery("two_words", "fire safety"),
    BenchQuery("two_words", "supplier training"),
    BenchQuery("phrase", '"supply chain"'),
    BenchQuery("phrase", '"corrective action plans"'),
    BenchQuery("phrase", '"annual sustainability report"'),
    BenchQuery("filtered", "audit", {"type": ["report"]}),
    BenchQuery("filtered", "", {"org": ["MIIT"], "year": ["2020"]}),
    BenchQuery("filtered", "safety", {"lang": ["en"]}, sort="date"),
    BenchQuery("filtered", "emissions", date_from="2022-01-01", date_to="2023-12-31"),
    BenchQuery("chinese", "供应链"),
    BenchQuery("chinese", "绿色采购"),
    BenchQuery("chinese", "社会责任报告"),
    BenchQuery("chinese", "深圳 培训"),
    BenchQuery("misspelled", "sustainibility"),
    BenchQuery("misspelled", "procurment"),
    BenchQuery("misspelled", "emmissions audit"),
    BenchQuery("misspelled", "trainning suppliers"),
)


def new_order_seed() -> int:
    """A seed for the order of the mix, new in every run (recorded with the figures)."""
    return random.SystemRandom().randrange(2**32)


def shuffled_mix(seed: int, rounds: int) -> list[BenchQuery]:
    """The mix ``rounds`` times, each round in its own random order drawn from ``seed``.

    A fixed order lets each query find the previous one's blocks in the CPU and OS caches; a
    new order in every run (and every round) measures each query after any other.
    """
    rng = random.Random(seed)
    out: list[BenchQuery] = []
    for _ in range(rounds):
        order = list(QUERY_MIX)
        rng.shuffle(order)
        out += order
    return out


def in_process_latency(
    index_dir: str | Path,
    rounds: int,
    max_seconds: float = 120.0,
    *,
    cache: bool = False,
    order_seed: int | None = None,
) -> dict[str, Any]:
    """Run the mix ``rounds`` times through SearchService (after one warm-up round).

    Each round runs the mix in a random order (``order_seed``, by default a new one); every
    query's wall time and CPU time (of this thread) are recorded.

    With ``cache`` off (the default) the service's result cache is disabled, so every query is
    answered from the index, as a query seen for the first time would be; with it on, the
    rounds after the warm-up are answered mostly from the cache. Stops after the round that
    passes ``max_seconds`` (at least one round is always run).
    """
    from csrnews.search.query import RESULT_CACHE_SIZE, SearchRequest, SearchService

    service = SearchService(index_dir, cache_size=RESULT_CACHE_SIZE if cache else 0)

    cpu: list[float] = []

    def run(item: BenchQuery) -> tuple[float, dict[str, Any]]:
        request = SearchRequest(
            q=item.q,
            filters=dict(item.filters),
            sort=item.sort,
            date_from=item.date_from,
            date_to=item.date_to,
        )
        started, started_cpu = time.perf_counter(), time.thread_time()
        answer = service.search(request)
        cpu.append(time.thread_time() - started_cpu)
        return time.perf_counter() - started, answer

    cold, _ = run(QUERY_MIX[0])  # opens the index
    totals: dict[str, int] = {}
    for item in QUERY_MIX:  # warm-up
        _, answer = run(item)
        totals[item.query_string()] = answer["total"]
        if not answer["facets"]:
            raise RuntimeError(f"no facets for {item}")
    seed = new_order_seed() if order_seed is None else order_seed
    order = shuffled_mix(seed, rounds)
    samples: list[float] = []
    by_kind: dict[str, list[float]] = {}
    cpu_by_kind: dict[str, list[float]] = {}
    cpu.clear()
    deadline = time.perf_counter() + max_seconds
    done = 0
    while done < rounds and (done == 0 or time.perf_counter() < deadline):
        for item in order[done * len(QUERY_MIX) : (done + 1) * len(QUERY_MIX)]:
            seconds, _ = run(item)
            samples.append(seconds)
            by_kind.setdefault(item.kind, []).append(seconds)
            cpu_by_kind.setdefault(item.kind, []).append(cpu[-1])
        done += 1
    return {
        "cache": cache,
        "queries": len(samples),
        "rounds": done,
        "mix_size": len(QUERY_MIX),
        "order_seed": seed,
        "first_query_ms": round(cold * 1000.0, 1),
        **percentiles(samples),
        "cpu": percentiles(cpu),
        "by_kind": {kind: percentiles(values) for kind, values in by_kind.items()},
        "cpu_by_kind": {kind: percentiles(values) for kind, values in cpu_by_kind.items()},
        "hits": totals,
    }


def http_load(
    base_url: str,
    *,
    clients: int = 4,
    max_requests: int = 400,
    max_seconds: float = 30.0,
    timeout: float = 30.0,
    order_seed: int | None = None,
) -> dict[str, Any]:
    """``clients`` threads request /api/search over the mix until a count or a time is reached.

    The requests go through the mix round after round, each round in a new random order.
    """
    seed = new_order_seed() if order_seed is None else order_seed
    order = shuffled_mix(seed, -(-max_requests // len(QUERY_MIX)))
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + max_seconds

    def take() -> int | None:
        with lock:
            if state["next"] >= max_requests or time.perf_counter() > deadline:
                return None
            state["next"] += 1
            return state["next"] - 1

    def client() -> None:
        while (number := take()) is not None:
            item = order[number]
            url = f"{base_url}/api/search?{item.query_string()}"
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    payload = json.loads(response.read())
                ok = "hits" in payload and "facets" in payload
            except (urllib.error.URLError, OSError, ValueError) as exc:
                ok = False
                with lock:
                    errors.append(f"{item.q!r}: {exc}")
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                elif len(errors) == 0:
                    errors.append(f"{item.q!r}: bad answer")

    threads = [threading.Thread(target=client, name=f"bench-client-{i}") for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "order_seed": seed,
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        **percentiles(latencies),
    }


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    """Poll a URL until it answers 200 (the server subprocess has started)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:g} s: {last}")


def listening_port(server: Any, log: Path, timeout: float = 60.0) -> int:
    """The port `csrnews serve --port 0` (started with its stderr to LOG) listens on, from
    gunicorn's "Listening at" line: a port the system chose as the server bound it, which no
    other process could take in between, as one picked free beforehand could be."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if found:
            return int(found[1])
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"csrnews serve did not start: {text[-2000:]}")
        time.sleep(0.1)
