"""The single writer (`csrnews ingest`): items from Redis into story files, as a local crawl.

Each record is moved from the item queue into a processing list (LMOVE, atomic), handled, and
only then removed from the processing list. A writer killed at any point leaves the record it
was working on in the processing list, and the next writer handles it first. Handling a story
twice is harmless: the second time its URL is stored and its file unchanged ("unchanged"),
and files are written atomically (temporary file, fsync, rename), so no partial file is seen.
Story records go through the local crawl's own dedupe and write steps (`DedupePipeline`,
`WritePipeline`), against the writer's crawl state: same slugs, fingerprints and merges, and
an editor's file is never overwritten.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from csrnews.crawler.context import CrawlContext, fill_signatures
from csrnews.crawler.distributed import DistributedError, keys
from csrnews.crawler.distributed.connect import connect
from csrnews.crawler.distributed.items import RecordError, loads
from csrnews.crawler.distributed.leases import Leases
from csrnews.crawler.items import StoryItem
from csrnews.crawler.report import CrawlReport
from csrnews.crawler.state import CrawlState

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 5.0
POP_TIMEOUT = 1.0  # seconds a blocking pop waits before the writer looks around
MIN_POP_WAIT = 0.01  # the shortest blocking pop (a timeout of 0 would block for good)
WRITER_LOCK = f"{keys.PREFIX}:writer"
WRITER_TTL = 15.0  # seconds the writer lock outlives a writer that stops refreshing it


@dataclass
class ItemSource:
    """What the write step needs of a source: its name and how it republishes."""

    name: str
    republish: str = "full"


class WriterLocked(DistributedError):
    """Another writer holds the lock."""


class WriterSetupError(DistributedError):
    """The writer cannot open its content folder or crawl state (the message names which)."""


class WriterLock:
    """One writer per Redis database: a lock with the holder's host and pid, refreshed as it
    works. A holder on this machine whose process is gone is taken over at once; another
    machine's lock expires WRITER_TTL seconds after its writer stopped refreshing it."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.me = f"{socket.gethostname()}:{os.getpid()}"

    def _stale(self, holder: str) -> bool:
        host, _, pid = holder.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def acquire(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            if self.server.set(WRITER_LOCK, self.me, nx=True, px=int(WRITER_TTL * 1000)):
                return
            holder = (self.server.get(WRITER_LOCK) or b"").decode()
            if holder and self._stale(holder):
                logger.warning("taking over the writer lock of %s (no such process)", holder)
                self.server.delete(WRITER_LOCK)
                continue
            if time.monotonic() >= deadline:
                raise WriterLocked(
                    f"another writer holds the lock ({holder or 'unknown'}); one writer per "
                    f"Redis database (the lock expires {WRITER_TTL:g} s after its writer stops)"
                )
            time.sleep(0.5)

    def refresh(self) -> None:
        self.server.set(WRITER_LOCK, self.me, px=int(WRITER_TTL * 1000))

    def release(self) -> None:
        if (self.server.get(WRITER_LOCK) or b"").decode() == self.me:
            self.server.delete(WRITER_LOCK)


class Writer:
    """Applies records to the content folder and the crawl state (one process, one thread)."""

    def __init__(self, content_dir: Path, state: CrawlState, server: Any) -> None:
        from csrnews.crawler.pipelines.dedupe import DedupePipeline
        from csrnews.crawler.pipelines.write import WritePipeline

        self.server = server
        self.ctx = CrawlContext(content_dir=content_dir, state=state)
        self.ctx.load()
        fill_signatures(self.ctx)
        # The pipeline steps read their spider's ctx, report and source; the host stands in.
        self.host = SimpleNamespace(spider=None)
        self.dedupe = DedupePipeline(self.host)  # type: ignore[arg-type]
        self.write = WritePipeline(self.host)  # type: ignore[arg-type]
        self.records = 0

    @property
    def report(self) -> CrawlReport:
        return self.ctx.report

    def apply(self, record: dict[str, Any]) -> str:
        """Handle one decoded record; returns what happened (an outcome or the record kind)."""
        kind = record["kind"]
        state = self.ctx.state
        if kind == "story":
            source = ItemSource(str(record["source"]), str(record.get("republish") or "full"))
            self.host.spider = SimpleNamespace(
                ctx=self.ctx, report=self.report.source(source.name), source=source
            )
            item = StoryItem(
                source=source.name,
                url=record["url"],
                final_url=record["final_url"],
                entry_hash=record.get("entry_hash"),
                extracted=record["extracted"],
                enrichment=record["enrichment"],
                from_fallback=bool(record.get("from_fallback")),
            )
            result = self.write.process_item(self.dedupe.process_item(item))
            self._publish_stored(result)
            return result.outcome
        if kind == "doc":
            state.save_doc(
                record["url"], record.get("etag"), record.get("modified"), record.get("children")
            )
            return "doc"
        if kind == "gone":
            state.save_gone(
                record["key"], record["url"], int(record["status"]), record.get("entry_hash")
            )
            return "gone"
        src = self.report.source(str(record["source"]))
        for counter, value in record["counts"].items():
            if hasattr(src, counter) and isinstance(getattr(src, counter), int):
                setattr(src, counter, getattr(src, counter) + int(value))
        for error in record.get("errors") or []:
            if len(src.errors) < 20:
                src.errors.append(str(error))
        return "report"

    def _publish_stored(self, item: StoryItem) -> None:
        """Tell the workers the story's URLs are stored now (the next round's seed does too)."""
        entry_hash = item.entry_hash
        if item.from_fallback:
            entry_hash = f"fallback:{entry_hash}"
        value = json.dumps(entry_hash)
        self.server.hset(keys.STATE_STORIES, mapping=dict.fromkeys(item.keys, value))


def run_ingest(
    content_dir: str | Path,
    state_dir: str | Path,
    redis_url: str,
    *,
    sources: list[str] | None = None,
    until_idle: float = 0,
    run_timeout: float = 0,
    lock_wait: float = WRITER_TTL + 5,
    on_event: Callable[[str], None] | None = None,
) -> CrawlReport:
    """Write the story files of the items in the queue until stopped (SIGTERM, SIGINT), the
    run timeout, or — with `until_idle` — once the item queue and the frontier have been empty
    (or no worker has been alive) that long. Returns the run's report, as a local crawl's."""
    say = on_event or (lambda message: None)
    server = connect(redis_url)
    lock = WriterLock(server)
    lock.acquire(lock_wait)
    started = time.monotonic()
    stop = {"why": ""}

    def on_signal(signum: int, _frame: Any) -> None:
        stop["why"] = signal.Signals(signum).name

    # Everything after the lock is taken is undone on the way out, whatever fails: the
    # signal handlers restored, the state closed and the lock released (one cleanup failing
    # does not skip the others), so a writer that cannot start does not hold the lock.
    with ExitStack() as undo:
        undo.callback(_release, lock)
        for sig in (signal.SIGTERM, signal.SIGINT):
            undo.callback(signal.signal, sig, signal.signal(sig, on_signal))
        content = Path(content_dir)
        try:
            content.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriterSetupError(
                f"ingest: cannot create the content folder {content}: {exc}"
            ) from exc
        state, run_id = _open_state(state_dir)
        undo.callback(state.close)
        writer = Writer(content, state, server)
        for name in sources or []:
            writer.report.source(name)
        leases = Leases(server, worker_id="writer")
        left = server.llen(keys.PROCESSING)
        if left:
            say(f"ingest: {left} records a stopped writer left unfinished are handled first")
        outcomes: dict[str, int] = {}
        # The idle clock runs from the start, from the last record handled, or from the first
        # look that found nothing to wait for; the pop never waits past the idle or run limit.
        idle_since: float | None = started
        last_look = last_progress = 0.0
        while not stop["why"]:
            now = time.monotonic()
            if run_timeout and now - started >= run_timeout:
                writer.report.timed_out = True
                say(f"ingest: the run timeout ({run_timeout:g} s) is reached; stopping")
                break
            raw = _next(
                server, left > 0, _pop_wait(now, started, idle_since, until_idle, run_timeout)
            )
            if left:
                left -= 1
            if raw is not None:
                outcome = _handle(writer, server, raw)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                server.lrem(keys.PROCESSING, 1, raw)
                idle_since = time.monotonic()
            now = time.monotonic()
            if now - last_look >= POP_TIMEOUT or raw is None:
                last_look = now
                lock.refresh()
                leases.reap()
                queued, leased, workers = leases.frontier()
                waiting = server.llen(keys.ITEMS)
                if now - last_progress >= PROGRESS_INTERVAL:
                    last_progress = now
                    say(
                        f"ingest: {writer.records} records ({_counts(outcomes)}); "
                        f"{waiting} waiting; frontier {queued} queued, {leased} in flight, "
                        f"{workers} workers ({now - started:.0f} s)"
                    )
                if until_idle and raw is None:
                    idle = not waiting and (not (queued or leased) or not workers)
                    if not idle:
                        idle_since = None
                    elif idle_since is None:
                        idle_since = now
                    elif now - idle_since >= until_idle:
                        if queued or leased:
                            writer.report.timed_out = True
                            say(
                                f"ingest: no worker for {until_idle:g} s and {queued + leased} "
                                "requests left in the frontier; they wait for the next run"
                            )
                        else:
                            say(f"ingest: nothing to do for {until_idle:g} s; stopping")
                        break
        if stop["why"]:
            say(f"ingest: stopped by {stop['why']}")
        report = writer.report
        for src in report.sources.values():
            src.finish()
        report.seconds = time.monotonic() - started
        status = "failed" if report.all_failed else "timeout" if report.timed_out else "ok"
        state.finish_run(run_id, status, report.as_dict())
        return report


def _open_state(state_dir: str | Path) -> tuple[CrawlState, int]:
    """The writer's crawl state and its run's id. A folder or database that cannot be opened
    or written is a WriterSetupError naming it; a corrupt database is CrawlState's StateError,
    which names it already."""
    try:
        state = CrawlState(state_dir)
    except (OSError, sqlite3.OperationalError) as exc:
        raise WriterSetupError(
            f"ingest: cannot open the crawl state in {state_dir}: {exc}"
        ) from exc
    try:
        return state, state.start_run()
    except sqlite3.OperationalError as exc:
        state.close()
        raise WriterSetupError(f"ingest: cannot write the crawl state {state.path}: {exc}") from exc


def _release(lock: WriterLock) -> None:
    """Release the writer lock; a Redis gone by now is a warning (the lock expires by itself),
    not an error hiding the one the writer stops on."""
    import redis

    try:
        lock.release()
    except redis.RedisError as exc:
        logger.warning(
            "cannot release the writer lock (%s); it expires %g s after its last refresh",
            exc,
            WRITER_TTL,
        )


def _pop_wait(
    now: float, started: float, idle_since: float | None, until_idle: float, run_timeout: float
) -> float:
    """How long the next pop may block: POP_TIMEOUT, but not past the idle or run limit, and
    a quarter of the idle limit while the frontier is busy (its end is noticed that soon)."""
    wait = POP_TIMEOUT
    if until_idle:
        if idle_since is None:
            wait = min(wait, until_idle / 4)
        else:
            wait = min(wait, until_idle - (now - idle_since))
    if run_timeout:
        wait = min(wait, run_timeout - (now - started))
    return max(wait, MIN_POP_WAIT)


def _next(server: Any, recovering: bool, wait: float = POP_TIMEOUT) -> bytes | None:
    """The next record: first what a stopped writer left in processing, then a new one (a
    blocking pop of at most `wait` seconds)."""
    if recovering:
        found = server.lindex(keys.PROCESSING, 0)
        if found is not None:
            return bytes(found)
    return server.blmove(keys.ITEMS, keys.PROCESSING, wait, "LEFT", "RIGHT")


def _handle(writer: Writer, server: Any, raw: bytes) -> str:
    """Apply one record; a record that cannot be read is kept aside with the reason."""
    writer.records += 1
    try:
        record = loads(raw)
        return writer.apply(record)
    except RecordError as exc:
        why = str(exc)
    except OSError:
        raise  # disk full, permissions: stop; the record stays in processing for the restart
    except Exception as exc:  # a bug on one record must not stop the writer
        logger.exception("cannot write a record")
        why = f"{type(exc).__name__}: {exc}"
    logger.error("item queue: record rejected (%s); kept in %s", why, keys.REJECTED)
    server.rpush(keys.REJECTED, json.dumps({"error": why, "data": raw.decode("utf-8", "replace")}))
    server.hincrby(keys.STATS, "rejected", 1)
    return "rejected"


def _counts(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "none"
