"""The parts of the distributed crawl one by one, against a real Redis: serializer, item
records, leases and requeueing, the writer's lock and its rejected records, the host token,
the state the workers see, and the CLI's refusals."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import scrapy
from csrnews.crawler.distributed import keys, serializer
from csrnews.crawler.distributed.items import RecordError, dumps, loads, story_record
from csrnews.crawler.distributed.leases import Leases
from csrnews.crawler.enrichment import Enrichment
from csrnews.crawler.extraction import Extracted
from csrnews.crawler.items import StoryItem

from tests.conftest import run_cli


class _Spider(scrapy.Spider):
    name = "feed:Unit % Source"

    def parse_story(self, response: Any) -> None:
        pass

    def story_error(self, failure: Any) -> None:
        pass


def _request(url: str = "http://pub.example/a?x=1", priority: int = 0) -> scrapy.Request:
    spider = _Spider()
    return scrapy.Request(
        url,
        callback=spider.parse_story,
        errback=spider.story_error,
        headers={"If-None-Match": '"abc"'},
        body=b"\x00\xffbinary",
        priority=priority,
        meta={"fallback": {"title": "标题", "html": "<p>x</p>"}, "entry_hash": None},
    )


def test_the_serializer_round_trips_a_request_as_json() -> None:
    from scrapy.utils.request import request_from_dict

    spider = _Spider()
    request = _request()
    data = serializer.dumps(request.to_dict(spider=spider))
    assert data.startswith(b"{") and b"pickle" not in data
    back = request_from_dict(serializer.loads(data), spider=spider)
    assert back.url == request.url and back.body == request.body
    assert back.headers.getlist("If-None-Match") == [b'"abc"']
    assert back.meta["fallback"]["title"] == "标题"
    assert back.callback == spider.parse_story and back.errback == spider.story_error


def test_the_serializer_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="Redis frontier"):
        serializer.dumps({"meta": {"when": date(2020, 1, 1)}})


def _item() -> tuple[StoryItem, Any]:
    extracted = Extracted(
        url="http://pub.example/s.html",
        title="Forum on supply chains",
        date="2021-05-04",
        lang="en",
        markdown="Lead paragraph.\n\nSecond.",
        text="Lead paragraph.\n\nSecond.",
        canonical_url=None,
        links=["http://other.example/"],
    )
    enrichment = Enrichment(
        category="summit",
        organisations=["amfori"],
        event_date=date(2021, 5, 3),
        top10_items=[{"rank": 1, "headline": "H", "reason": "R"}],
    )
    item = StoryItem(
        source="Pub",
        url="http://pub.example/s.html",
        final_url="http://pub.example/s.html",
        entry_hash="e1",
        extracted=extracted,
        enrichment=enrichment,
    )

    class Source:
        name = "Pub"
        republish = "excerpt"

    return item, Source()


def test_a_story_record_round_trips() -> None:
    item, source = _item()
    record = loads(dumps(story_record(item, source)))
    assert record["extracted"] == item.extracted
    assert record["enrichment"] == item.enrichment
    assert record["enrichment"].event_date == date(2021, 5, 3)
    assert (record["source"], record["republish"]) == ("Pub", "excerpt")
    assert "body" not in record


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x80not json", "not JSON"),
        (b'{"kind": "bomb"}', "no known 'kind'"),
        (b'{"kind": "story", "v": 1, "source": "S"}', "story record without url"),
        (b'{"kind": "gone", "key": "k", "url": "u"}', "without status"),
        (
            b'{"kind":"story","v":99,"source":"S","url":"u","final_url":"u",'
            b'"extracted":{},"enrichment":{}}',
            "version 99",
        ),
        (
            b'{"kind":"story","v":1,"source":"S","url":"u","final_url":"u",'
            b'"extracted":{"title":"t"},"enrichment":{}}',
            "extracted",
        ),
    ],
)
def test_bad_records_are_refused_with_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(RecordError, match=why):
        loads(data)


def _push(rdb: Any, queue: str, *requests: scrapy.Request) -> None:
    spider = _Spider()
    for request in requests:
        rdb.zadd(queue, {serializer.dumps(request.to_dict(spider=spider)): -request.priority})
    rdb.sadd(keys.QUEUES, queue)


def test_a_dead_workers_leases_go_back_to_the_queue_once(rdb: Any) -> None:
    queue = keys.queue_key(_Spider.name)
    _push(rdb, queue, *(_request(f"http://pub.example/{i}", priority=-i) for i in range(3)))
    alive, dying = Leases(rdb, "alive"), Leases(rdb, "dying")
    alive.beat(60)
    dying.beat(0.3)
    first = dying.pop(queue)
    second = dying.pop(queue)
    assert first and second and first[0] != second[0]
    assert b"/0" in first[1] and b"/1" in second[1]  # highest priority first, as scrapy-redis
    assert dying.frontier() == (1, 2, 2)
    dying.ack([first[0]])
    assert dying.frontier() == (1, 1, 2)
    assert alive.reap() == 0  # still beating
    time.sleep(0.5)
    assert alive.reap() == 1 and alive.reap() == 0
    assert rdb.zcard(queue) == 2 and rdb.scard(keys.INFLIGHT) == 0
    assert int(rdb.hget(keys.STATS, "requeued")) == 1
    assert not rdb.sismember(keys.WORKERS, "dying")
    assert rdb.keys(keys.LEASE_PREFIX + "[0-9]*") == []
    # the requeued request is the one that was not acknowledged, with its priority
    assert [s for _, s in rdb.zrange(queue, 0, -1, withscores=True)] == [1.0, 2.0]


def test_a_stopping_worker_puts_back_what_it_holds(rdb: Any) -> None:
    queue = keys.queue_key(_Spider.name)
    _push(rdb, queue, _request("http://pub.example/x"))
    worker = Leases(rdb, "w")
    worker.beat(60)
    assert worker.pop(queue) is not None and rdb.zcard(queue) == 0
    worker.retire()
    assert rdb.zcard(queue) == 1 and worker.frontier() == (1, 0, 0)


def test_a_request_is_marked_seen_only_if_it_is_queued(rdb: Any) -> None:
    """The scheduler queues a new request and marks it seen in one Redis script. In two
    commands, a worker killed between them (here: the queue's ZADD refused) left the request
    seen and not queued, and its parent page, fetched again from the dead worker's lease,
    dropped it as a duplicate: lost."""
    import redis
    from csrnews.crawler.distributed.queue import LeasedPriorityQueue
    from csrnews.crawler.distributed.scheduler import LeasedScheduler
    from scrapy_redis.dupefilter import RFPDupeFilter

    spider = _Spider()
    dupefilter = RFPDupeFilter(rdb, key=keys.dupefilter_key(spider.name))
    scheduler = LeasedScheduler(rdb, dupefilter=dupefilter)
    scheduler.spider = spider
    scheduler.queue = LeasedPriorityQueue(rdb, spider, keys.SCHEDULER_QUEUE_KEY, serializer)
    queue = keys.queue_key(spider.name)
    rdb.set(queue, b"not a sorted set")
    with pytest.raises(redis.ResponseError):
        scheduler.enqueue_request(_request())
    assert rdb.scard(dupefilter.key) == 0  # not seen: a parent fetched again queues it
    rdb.delete(queue)
    assert scheduler.enqueue_request(_request()) is True
    assert scheduler.enqueue_request(_request()) is False  # seen, and queued once
    assert rdb.zcard(queue) == 1 and rdb.scard(dupefilter.key) == 1
    assert scheduler.enqueue_request(_request(priority=5).replace(dont_filter=True)) is True
    assert rdb.zrange(queue, 0, 0, withscores=True)[0][1] == -5.0  # as scrapy-redis scores it


def test_one_writer_at_a_time_and_a_dead_ones_lock_is_taken_over(rdb: Any) -> None:
    import socket

    from csrnews.crawler.distributed.ingest import WRITER_LOCK, WriterLock, WriterLocked

    first, second = WriterLock(rdb), WriterLock(rdb)
    second.me = f"{socket.gethostname()}:{99999999}"  # never a live pid
    first.acquire(0)
    with pytest.raises(WriterLocked, match="another writer holds the lock"):
        second.acquire(0.6)
    first.release()
    second.acquire(0)  # a holder on this machine whose process is gone
    assert rdb.get(WRITER_LOCK).decode() == second.me
    first.acquire(0)
    assert rdb.get(WRITER_LOCK).decode() == first.me


def test_the_host_token_spaces_requests_across_clients(rdb: Any) -> None:
    from csrnews.crawler.distributed.politeness import _TOKEN

    one, two = rdb.register_script(_TOKEN), rdb.register_script(_TOKEN)
    key = keys.HOST_PREFIX + "pub.example"
    assert one(keys=[key], args=[300]) == 0
    wait = int(two(keys=[key], args=[300]))
    assert 200 < wait <= 300
    time.sleep(wait / 1000 + 0.01)
    assert two(keys=[key], args=[300]) == 0


def test_the_workers_see_what_the_writers_state_knows(rdb: Any, tmp_path: Path) -> None:
    from csrnews.crawler.context import CrawlContext
    from csrnews.crawler.distributed.shared import SharedState, WorkerContext, export_state
    from csrnews.crawler.state import CrawlState

    state = CrawlState(tmp_path / "var")
    state.save_doc("http://pub.example/feed.xml", '"e1"', "Mon, 01 Jan 2024", [{"url": "u"}])
    state.save_story("pub.example/a", "http://pub.example/a", "news/2024/a.md", "Pub", "h1")
    state.save_story("pub.example/b", "http://pub.example/b", "news/2024/b.md", "Pub", None)
    state.save_gone("pub.example/gone", "http://pub.example/gone", 404, "h9")
    ctx = CrawlContext(content_dir=tmp_path / "content", state=state)
    ctx.paths = {"pub.example/a": "news/2024/a.md", "pub.example/b": "news/2024/b.md"}
    ctx.paths["pub.example/file-only"] = "news/2024/c.md"
    assert export_state(ctx, rdb, replace=True) == {"stories": 3, "docs": 1, "gone": 1}
    shared = SharedState(rdb)
    url = "http://pub.example/feed.xml"
    assert shared.validators(url) == state.validators(url)
    assert shared.children(url) == state.children(url)
    for key in ("pub.example/a", "pub.example/b"):
        assert shared.story(key).entry_hash == state.story(key).entry_hash  # type: ignore[union-attr]
    assert shared.story("pub.example/file-only") is None and shared.is_stored(
        "pub.example/file-only"
    )
    assert shared.is_gone("pub.example/gone", "h9") == state.is_gone("pub.example/gone", "h9")
    assert not shared.is_gone("pub.example/gone", "other")
    context = WorkerContext(shared)
    assert context.lookup("nope", "pub.example/b") and context.lookup("nope") is None
    # what a worker learns goes to the other workers and, as a record, to the writer
    shared.save_doc("http://pub.example/list2.html", None, "Tue", {"stories": []})
    assert shared.validators("http://pub.example/list2.html") == (None, "Tue")
    record = loads(rdb.lpop(keys.ITEMS))
    assert record["kind"] == "doc" and record["children"] == {"stories": []}
    state.close()


def test_the_writer_sets_aside_a_record_it_cannot_read(
    redis_url: str, rdb: Any, tmp_path: Path
) -> None:
    from csrnews.crawler.distributed.ingest import run_ingest

    item, source = _item()
    rdb.rpush(keys.ITEMS, b"garbage \xff", dumps(story_record(item, source)))
    events: list[str] = []
    report = run_ingest(
        tmp_path / "content", tmp_path / "var", redis_url, until_idle=0.5, on_event=events.append
    )
    assert report.total("new") == 1
    rejected = rdb.lrange(keys.REJECTED, 0, -1)
    assert len(rejected) == 1 and b"not JSON" in rejected[0] and b"garbage" in rejected[0]
    assert rdb.llen(keys.ITEMS) == 0 and rdb.llen(keys.PROCESSING) == 0
    (story,) = (tmp_path / "content" / "news").rglob("*.md")
    text = story.read_text()
    assert "Republish: excerpt" in text and "Organisations: amfori" in text
    assert (tmp_path / "content" / "news" / "2021").is_dir()


@pytest.mark.parametrize("damage", ["corrupt database", "folder is a file"])
def test_a_writer_that_cannot_open_its_state_lets_go_of_the_lock(
    redis_url: str, rdb: Any, tmp_path: Path, damage: str
) -> None:
    """The writer fails with an error naming the state, and leaves the writer lock free and
    the signal handlers as they were: the next writer (here, in the same process) starts at
    once rather than waiting for a lock whose holder is alive."""
    import signal

    from csrnews.crawler.distributed.ingest import WRITER_LOCK, WriterSetupError, run_ingest
    from csrnews.crawler.state import StateError

    state_dir = tmp_path / "var"
    if damage == "corrupt database":
        state_dir.mkdir()
        (state_dir / "crawl.sqlite3").write_bytes(b"not a database, an editor's stray file\n" * 200)
        error: type[Exception] = StateError
        expected = r"var/crawl\.sqlite3: not a readable crawl state"
    else:
        state_dir.write_text("a file where the state folder belongs\n")
        error, expected = WriterSetupError, r"ingest: cannot open the crawl state in .*/var: "
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    with pytest.raises(error, match=expected):
        run_ingest(tmp_path / "content", state_dir, redis_url, until_idle=0.2, lock_wait=0)
    assert rdb.get(WRITER_LOCK) is None
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
    report = run_ingest(
        tmp_path / "content", tmp_path / "var2", redis_url, until_idle=0.2, lock_wait=0
    )
    assert not report.timed_out
    assert rdb.get(WRITER_LOCK) is None


@pytest.mark.solo
def test_the_writer_stops_when_idle_as_long_as_it_was_told(
    redis_url: str, rdb: Any, tmp_path: Path
) -> None:
    """--until-idle S ends the writer about S s after its start (nothing comes) or after the
    last record it handled, not after one more empty pop of the queue (1 s)."""
    import threading

    from csrnews.crawler.distributed.ingest import run_ingest

    idle = 0.5
    events: list[str] = []
    began = time.monotonic()
    run_ingest(tmp_path / "c1", tmp_path / "v1", redis_url, until_idle=idle, on_event=events.append)
    took = time.monotonic() - began
    assert idle <= took < idle + 0.4, took
    assert events[-1] == f"ingest: nothing to do for {idle:g} s; stopping"

    item, source = _item()
    pushed: list[float] = []

    def push() -> None:
        pushed.append(time.monotonic())
        rdb.rpush(keys.ITEMS, dumps(story_record(item, source)))

    timer = threading.Timer(0.3, push)
    timer.start()
    try:
        report = run_ingest(tmp_path / "c2", tmp_path / "v2", redis_url, until_idle=idle)
    finally:
        timer.cancel()
    after = time.monotonic() - pushed[0]
    assert report.total("new") == 1
    assert idle <= after < idle + 0.4, after


@pytest.mark.solo
def test_the_writer_stops_at_its_run_timeout(redis_url: str, tmp_path: Path) -> None:
    """--timeout T ends the writer about T s after its start, not after the pop under way."""
    from csrnews.crawler.distributed.ingest import run_ingest

    began = time.monotonic()
    report = run_ingest(tmp_path / "content", tmp_path / "var", redis_url, run_timeout=0.3)
    took = time.monotonic() - began
    assert report.timed_out and 0.3 <= took < 0.7, took


def test_spider_names_match_the_keys_the_seed_clears() -> None:
    from csrnews.crawler.distributed.shared import SharedState, WorkerContext
    from csrnews.crawler.distributed.spiders import SPIDERS, spider_name
    from csrnews.crawler.sources import parse_sources

    config = parse_sources(
        """
sources:
  - {name: F, feed: "http://a.example/f.xml"}
  - {name: L, start_urls: ["http://a.example/l"], article_links: "/s/"}
  - {name: S, sitemap: "http://a.example/s.xml"}
"""
    )
    ctx = WorkerContext(SharedState(None))
    for source in config.sources:
        assert SPIDERS[source.kind](source, ctx).name == spider_name(source)


def test_the_sources_files_redis_key_is_checked() -> None:
    from csrnews.crawler.sources import SourcesError, parse_sources

    base = 'sources:\n  - {name: F, feed: "http://a.example/f.xml"}\n'
    assert parse_sources(base + "redis: redis://10.0.0.5:6379/2").redis == "redis://10.0.0.5:6379/2"
    with pytest.raises(SourcesError, match="key 'redis'"):
        parse_sources(base + "redis: http://10.0.0.5/")


def test_the_cli_refuses_clearly(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text('sources:\n  - {name: F, feed: "http://127.0.0.1:9/f.xml"}\n')
    seed = run_cli("crawl", "--sources", str(sources), "--seed", timeout=60)
    assert seed.returncode == 2 and "give --redis URL" in seed.stderr
    ingest = run_cli("ingest", "--sources", str(sources), timeout=60)
    assert ingest.returncode == 2 and "no Redis" in ingest.stderr
    away = run_cli(
        "crawl", "--sources", str(sources), "--redis", "redis://127.0.0.1:9/0", timeout=60
    )
    assert away.returncode == 1 and "cannot reach Redis at redis://127.0.0.1:9/0" in away.stderr
    assert "Traceback" not in away.stderr
    wrong = run_cli("ingest", "--sources", str(sources), "--redis", "http://x/", timeout=60)
    assert wrong.returncode == 1 and "not a Redis URL" in wrong.stderr
