"""The acceptance of the distributed crawl: real workers, a real writer, a real redis-server and
the demo publisher on loopback. Two workers and a writer give a local crawl's story files with
every page fetched once; a worker or the writer killed with SIGKILL loses and repeats nothing;
politeness holds across workers; `csrnews nightly --redis` publishes."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.crawler.distributed import keys
from csrnews.crawler.urls import url_key

from csrnews.story.storyfile import compute_fingerprint, is_edited, iter_story_files, read_story
from tests.conftest import run_cli
from tests.distributed.conftest import Processes, RedisServer, ScriptSets, wait_for
from tests.test_crawl_support import crawl, write_sources

pytestmark = pytest.mark.slow

# Seconds of empty frontier (and item queue) after which `--until-idle` stops a worker or the
# writer. Short, and safe where it is used: after the seed (nightly's writer) or beside a dead
# worker's leases (the survivor), the frontier holds requests until the crawl is done, since
# a request leaves it only once its new requests and its items are in Redis. Elsewhere the
# workers (started before the seed, so that each takes a share) and the writers run without
# it, and the test stops them with SIGTERM on the condition itself: the frontier empty, then
# the item queue drained.
IDLE = "1"

# Seconds by which a worker's send and the demo host's log stamp may move one request, twice
# the most seen together on a loaded machine (test_politeness_holds_across_workers).
JITTER = 0.4


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from csrnews.demo.server import start_demo_server

    srv = start_demo_server(port=0)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def local(server: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A local crawl of the demo publisher (content folder) and the requests it made."""
    from csrnews.demo.server import render_sources

    work = tmp_path_factory.mktemp("local")
    write_sources(work, render_sources(server.url))
    server.clear_log()
    run = crawl(work)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.content, server.request_log


def _worker(
    procs: Processes, name: str, redis_url: str, sources: Path, *extra: str, idle: bool = False
) -> Any:
    """A worker; it stops when sent SIGTERM, or with `idle` by itself (`--until-idle`)."""
    return procs.start(
        name,
        "crawl",
        "--redis",
        redis_url,
        "--sources",
        str(sources),
        "--delay",
        "0",
        *(("--until-idle", IDLE) if idle else ()),
        "--report",
        str(procs.folder / f"{name}.json"),
        *extra,
    )


def _seed(redis_url: str, work: Path, *extra: str) -> None:
    result = run_cli(
        "crawl",
        "--redis",
        redis_url,
        "--seed",
        "--sources",
        str(work / "sources.yaml"),
        "--content",
        str(work / "content"),
        "--state",
        str(work / "var"),
        *extra,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Seeded "), result.stdout


def _ingest_args(redis_url: str, work: Path) -> list[str]:
    """A writer that runs until stopped (SIGTERM: see _stop_writer)."""
    return [
        "ingest",
        "--redis",
        redis_url,
        "--sources",
        str(work / "sources.yaml"),
        "--content",
        str(work / "content"),
        "--state",
        str(work / "var"),
        "--report",
        str(work / "ingest.json"),
    ]


def _workers_registered(rdb: Any, count: int) -> bool:
    return rdb.scard(keys.WORKERS) >= count


def _frontier_empty(rdb: Any) -> bool:
    """No request queued or leased, across the cluster (after the seed: the crawl is done)."""
    queued = sum(rdb.zcard(q) for q in rdb.smembers(keys.QUEUES))
    return queued == 0 and rdb.scard(keys.INFLIGHT) == 0


def _stop_workers(procs: Processes, rdb: Any, workers: list[Any]) -> None:
    """Once the frontier is empty (call it after the seed: the crawl is done), stop workers
    started without `--until-idle` with SIGTERM; each says goodbye and sends its last report."""
    wait_for(
        lambda: _frontier_empty(rdb) or any(p.poll() is not None for p in workers),
        120,
        "the frontier to empty",
    )
    for proc in workers:
        assert proc.poll() is None, procs.output(procs.names[proc.pid])  # none stopped early
        proc.send_signal(signal.SIGTERM)
    for proc in workers:
        assert procs.wait(proc, timeout=60) == 0, procs.output(procs.names[proc.pid])


def _stop_writer(procs: Processes, rdb: Any, writer: Any, work: Path) -> dict[str, Any]:
    """Once every worker has stopped, stop the writer when it has written all they sent
    (nothing waiting, nothing in processing); its report."""
    name = procs.names[writer.pid]
    wait_for(
        lambda: (
            (rdb.llen(keys.ITEMS) == 0 and rdb.llen(keys.PROCESSING) == 0)
            or writer.poll() is not None
        ),
        120,
        "the writer to write what the workers sent",
    )
    assert writer.poll() is None, procs.output(name)  # it did not stop early
    writer.send_signal(signal.SIGTERM)
    assert procs.wait(writer, timeout=60) == 0, procs.output(name)
    assert "Done: " in procs.output(name), procs.output(name)
    return json.loads((work / "ingest.json").read_text())


def _seed_here(redis_url: str, work: Path, *only: str) -> None:
    """The seed as `csrnews crawl --seed` makes it, in this process: no process to start while
    the workers wait (the command itself is run where its start overlaps a worker's)."""
    from csrnews.crawler.distributed.worker import seed

    result = seed(
        work / "sources.yaml", work / "content", work / "var", redis_url, only=list(only) or None
    )
    assert result.pushed > 0, result


def _ingest_beside(
    procs: Processes, rdb: Any, redis_url: str, work: Path, workers: list[Any]
) -> dict[str, Any]:
    """After the seed: a writer beside workers started without `--until-idle`; stop the
    workers, then the writer, each once it is done; the writer's report."""
    writer = procs.start(f"writer{len(procs.started)}", *_ingest_args(redis_url, work))
    _stop_workers(procs, rdb, workers)
    return _stop_writer(procs, rdb, writer, work)


def _file_for(stories: list[Any], url: str) -> Any:
    key = url_key(url)
    found = [
        s
        for s in stories
        if url_key(s.get("Source_url")) == key
        or key in {url_key(u) for u in s.get_list("Also_reported_by")}
    ]
    assert len(found) == 1, f"{url}: {len(found)} story files"
    return found[0]


def _pinned(text: str) -> str:
    """A story file's text with its Crawled time fixed and its fingerprint computed again."""
    body = re.sub(r"^Crawled: .*$", "Crawled: 2000-01-01T00:00:00+00:00", text, flags=re.M)
    body = re.sub(r"^Fingerprint: .*\n", "", body, flags=re.M)
    return body + "\nfingerprint " + compute_fingerprint(body)


def _served(server: Any) -> list[Any]:
    return [s for s in server.stories if "robots_disallowed" not in s.flags]


def test_two_workers_and_a_writer_give_a_local_crawls_files_fetching_each_page_once(
    server: Any,
    local: tuple[Path, list[Any]],
    redis_url: str,
    rdb: Any,
    procs: Processes,
    tmp_path: Path,
) -> None:
    from csrnews.demo.server import render_sources

    local_content, local_log = local
    work = tmp_path / "cluster"
    write_sources(work, render_sources(server.url))
    server.clear_log()
    # both workers up before the seed, so that each takes a share
    workers = [_worker(procs, f"w{i}", redis_url, work / "sources.yaml") for i in (1, 2)]
    wait_for(lambda: _workers_registered(rdb, 2), 60, "two workers to register")
    _seed_here(redis_url, work)
    report = _ingest_beside(procs, rdb, redis_url, work, workers)

    # Every story written exactly once.
    content = work / "content"
    stories = [read_story(p) for p in iter_story_files(content)]
    served = _served(server)
    assert len(stories) == len(served)
    for demo in served:
        _file_for(stories, demo.url)
    assert sum(s["new"] for s in report["sources"].values()) == len(stories)

    # Every page fetched once across both workers, and the same pages as the local crawl.
    fetched = Counter(r.path for r in server.request_log)
    twice = {path: n for path, n in fetched.items() if n > 1}
    assert not twice, twice
    assert set(fetched) == {r.path for r in local_log}
    assert not [p for p in fetched if "/members/" in p]  # robots.txt obeyed
    # and said so: the workers' reasons for what they skipped reach the writer's report
    robots = [s["robots"] for s in report["sources"].values()]
    assert sum(robots) >= 1 and all(s["skipped"] >= s["robots"] for s in report["sources"].values())
    per_worker = [json.loads((procs.folder / f"w{i}.json").read_text()) for i in (1, 2)]
    counts = [sum(s["fetched"] for s in w["sources"].values()) for w in per_worker]
    assert all(counts) and sum(counts) == sum(s["fetched"] for s in report["sources"].values())

    # The same story files as the local crawl: paths, slugs, text and fingerprints (with the
    # Crawled time, which the fingerprint covers, set alike).
    def files(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}

    ours, theirs = files(content), files(local_content)
    assert sorted(ours) == sorted(theirs)
    for rel, data in ours.items():
        if rel.endswith(".md"):
            assert not is_edited(data.decode())
            assert _pinned(data.decode()) == _pinned(theirs[rel].decode()), rel
        else:
            assert data == theirs[rel], rel

    # Redis is left clean: nothing queued, leased or waiting.
    assert rdb.scard(keys.INFLIGHT) == 0 and rdb.llen(keys.ITEMS) == 0
    assert rdb.llen(keys.PROCESSING) == 0 and rdb.scard(keys.WORKERS) == 0

    # A second round is incremental, as a second local crawl: the seed gives the workers what
    # the writer's state knows, so they ask only for the indexes, conditionally, and get 304s.
    server.clear_log()
    again = _worker(procs, "w3", redis_url, work / "sources.yaml")
    _seed(redis_url, work)  # as the worker starts
    report = _ingest_beside(procs, rdb, redis_url, work, [again])
    assert files(content) == ours
    log = server.request_log
    assert log and all(r.status == 304 for r in log if r.path != "/robots.txt"), log
    assert sum(s["new"] + s["updated"] for s in report["sources"].values()) == 0


def test_a_killed_workers_requests_are_finished_by_the_other(
    redis_url: str, rdb: Any, procs: Processes, tmp_path: Path
) -> None:
    from csrnews.demo.server import render_sources, start_demo_server

    slow = start_demo_server(port=0, latency=0.25)
    try:
        work = tmp_path / "kill-worker"
        write_sources(work, render_sources(slow.url))
        victim = _worker(procs, "victim", redis_url, work / "sources.yaml", "--worker-ttl", "2")
        _seed(redis_url, work)  # as the victim starts
        wait_for(lambda: _workers_registered(rdb, 1), 60, "the first worker to register")
        (victim_id,) = (w.decode() for w in rdb.smembers(keys.WORKERS))
        held = keys.worker_leases_key(victim_id)
        wait_for(
            lambda: rdb.scard(held) >= 3 and len(slow.request_log) >= 8, 60, "leases in flight"
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        lost = rdb.scard(held)
        assert lost >= 1  # it died holding requests
        slow.latency = 0  # the latency kept requests in flight at the kill; no need for more
        # it starts beside the dead worker's leases: the frontier is not empty before it is done
        survivor = _worker(procs, "survivor", redis_url, work / "sources.yaml", idle=True)
        writer = procs.start("writer", *_ingest_args(redis_url, work))
        assert procs.wait(survivor) == 0, procs.output("survivor")  # it stops when done
        report = _stop_writer(procs, rdb, writer, work)
        assert int(rdb.hget(keys.STATS, "requeued") or 0) >= lost
        stories = [read_story(p) for p in iter_story_files(work / "content")]
        served = _served(slow)
        # on a mismatch, say why: the survivor's output and each source's fetch errors
        errors = {name: src.get("errors") for name, src in report["sources"].items()}
        assert len(stories) == len(served), f"{procs.output('survivor')}\nerrors: {errors}"
        for demo in served:
            _file_for(stories, demo.url)
        assert sum(s["new"] for s in report["sources"].values()) == len(stories)
        assert rdb.scard(keys.INFLIGHT) == 0 and rdb.llen(keys.ITEMS) == 0
    finally:
        slow.stop()


def test_a_killed_writer_loses_and_repeats_nothing(
    redis_url: str, rdb: Any, procs: Processes, tmp_path: Path
) -> None:
    from bench.publisher import write_publisher_stories
    from csrnews.demo.server import render_sources, start_demo_server

    pages = write_publisher_stories(tmp_path / "stories", 100)
    big = start_demo_server(port=0, stories_dir=tmp_path / "stories", slow_seconds=0)
    try:
        work = tmp_path / "kill-writer"
        write_sources(work, render_sources(big.url))
        worker = _worker(procs, "worker", redis_url, work / "sources.yaml")
        _seed(redis_url, work)
        _stop_workers(procs, rdb, [worker])
    finally:
        big.stop()
    waiting = rdb.llen(keys.ITEMS)
    assert waiting >= pages  # the stories, and the feeds' and listings' records

    news = work / "content" / "news"
    writer = procs.start("writer", *_ingest_args(redis_url, work))
    wait_for(lambda: len(list(news.rglob("*.md"))) >= pages // 4, 120, "the writer to be busy")
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    before = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in news.rglob("*.md")
    }
    assert pages // 4 <= len(before) < pages, "the writer was not stopped mid-ingest"
    for data in (b for _, _, b in before.values()):
        assert not is_edited(data.decode())  # every file whole: none half-written
    assert rdb.llen(keys.PROCESSING) <= 1

    # the restart: at once, the dead writer's lock is stale
    restarted = procs.start("restarted", *_ingest_args(redis_url, work))
    report = _stop_writer(procs, rdb, restarted, work)
    after = list(news.rglob("*.md"))
    assert len(after) == pages
    stories = [read_story(p) for p in after]
    ids = Counter(re.search(r"bench-\d{6}", s.get("Source_url")).group() for s in stories)  # type: ignore[union-attr]
    assert len(ids) == pages and set(ids.values()) == {1}
    for path, (inode, mtime, data) in before.items():  # nothing written twice
        assert (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes()) == (
            inode,
            mtime,
            data,
        )
    assert sum(s["new"] for s in report["sources"].values()) == pages - len(before)
    assert not list((work / "content").rglob("*.tmp"))
    assert rdb.llen(keys.ITEMS) == 0 and rdb.llen(keys.PROCESSING) == 0


@pytest.mark.solo
def test_politeness_holds_across_workers(
    redis_server: RedisServer, redis_url: str, rdb: Any, procs: Processes, tmp_path: Path
) -> None:
    """Two workers fetch one host's pages one per delay between them, and its robots.txt once.

    The spacing is checked where the workers make it: each request takes the host's token in
    Redis, on Redis's clock, and the test sees every token taken (MONITOR): one per request
    the host answered, one key for both workers, a delay apart. At the host it is checked
    over the whole run, not gap by gap: a request leaves its worker a moment after it took
    the token (up to 0.12 s seen on a loaded machine: the worker not scheduled, the first
    request opening its connection), as Scrapy's own delay spaces the requests it hands to
    the downloader rather than the bytes that leave (and draws each delay from 0.5-1.5 times
    the one set: a local crawl's requests are as close as half the delay by design); and the
    host's log stamps a request once its page is made (up to another 0.1 s). That moves two
    requests closer together, not the first and the last: they are (n-1) delays apart, less
    at most the jitter of the two (JITTER). Each worker keeping its own delay instead gave
    0.64-0.75 of that span.
    """
    from csrnews.demo.server import render_sources, start_demo_server

    delay = 0.3
    polite = start_demo_server(port=0, slow_seconds=0)  # it logs a request as it answers
    try:
        with ScriptSets(redis_server, keys.HOST_PREFIX) as tokens:
            work = tmp_path / "polite"
            write_sources(work, render_sources(polite.url))
            one = ("--source", "The CSR Herald")
            workers = [
                procs.start(
                    f"p{i}",
                    "crawl",
                    "--redis",
                    redis_url,
                    "--sources",
                    str(work / "sources.yaml"),
                    "--delay",
                    str(delay),
                    *one,
                )
                for i in (1, 2)
            ]
            wait_for(lambda: _workers_registered(rdb, 2), 60, "two workers to register")
            _seed_here(redis_url, work, one[1])
            _ingest_beside(procs, rdb, redis_url, work, workers)
        log = polite.request_log
    finally:
        polite.stop()
    answered = "\n".join(f"{r.time:.3f} {r.path}" for r in log)
    assert len(log) >= 8
    assert [r.path for r in log].count("/robots.txt") == 1
    # every request took the host's one token, a delay after the one before (ms, Redis's clock)
    assert {key for key, _ in tokens.seen} == {keys.HOST_PREFIX + "127.0.0.1"}, tokens.seen
    assert len(tokens.seen) == len(log), f"{tokens.seen}\n{answered}"
    grants = [int(value) for _, value in tokens.seen]  # when the next request may start
    assert min(b - a for a, b in itertools.pairwise(grants)) >= delay * 1000, grants
    times = sorted(r.time for r in log)
    assert times[-1] - times[0] >= (len(times) - 1) * delay - JITTER, answered
    assert rdb.get(keys.ROBOTS_PREFIX + polite.url) is not None


def test_nightly_with_redis_seeds_waits_ingests_and_publishes(
    server: Any, redis_url: str, rdb: Any, procs: Processes, tmp_path: Path
) -> None:
    from csrnews.demo.server import render_sources

    work = tmp_path / "nightly"
    write_sources(work, render_sources(server.url))
    workers = [
        procs.start(
            f"n{i}",
            "crawl",
            "--redis",
            redis_url,
            "--sources",
            str(work / "sources.yaml"),
            "--delay",
            "0",
            "--until-idle",
            "30",
        )
        for i in (1,)  # one is enough here: two workers' shares are checked above
    ]
    wait_for(lambda: _workers_registered(rdb, 1), 60, "the worker to register")
    root = work / "root"
    result = run_cli(
        "nightly",
        "--root",
        str(root),
        "--sources",
        str(work / "sources.yaml"),
        "--content",
        str(work / "content"),
        "--redis",
        redis_url,
        "--until-idle",
        IDLE,
        "--delay",
        "0",
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "current" / "site" / "index.html").is_file()
    stories = list(iter_story_files(work / "content"))
    assert len(stories) == len(_served(server))
    data = json.loads((root / "reports" / "latest.json").read_text())
    assert sum(s["new"] for s in data["sources"].values()) == len(stories)
    assert {"seed", "crawl"} <= set(data["times"])
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert os.path.isdir(root / "current" / "index")


def test_a_worker_stopped_while_it_starts_stops_gracefully(
    redis_url: str, rdb: Any, procs: Processes, tmp_path: Path
) -> None:
    """SIGTERM as soon as a worker has registered (its crawlers not yet made, Twisted's reactor
    not yet running, so Scrapy's handlers not yet installed): it stops as when crawling, exit
    0, and leaves no registration behind (a harness stops workers once the frontier is empty,
    which a fast worker may empty while a slow one still starts)."""
    sources = tmp_path / "sources.yaml"
    sources.write_text('sources:\n  - {name: F, feed: "http://127.0.0.1:9/f.xml"}\n')
    worker = _worker(procs, "early", redis_url, sources)
    wait_for(
        lambda: _workers_registered(rdb, 1) or worker.poll() is not None,
        60,
        "the worker to register",
        every=0.005,
    )
    worker.send_signal(signal.SIGTERM)
    assert procs.wait(worker, timeout=60) == 0, procs.output("early")
    assert json.loads((procs.folder / "early.json").read_text())["stopped"] == "stopped"
    assert rdb.scard(keys.WORKERS) == 0
