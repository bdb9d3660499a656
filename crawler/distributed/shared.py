"""The crawl state as the workers see it: a Redis copy of what the writer's sqlite state knows.

The spiders ask the crawl state for an index document's validators (conditional GET) and, on a
304, what it listed; whether a story URL is stored and with which feed entry hash; and whether
it answered 404/410 lately. A worker has no sqlite state: `SharedState` answers from Redis
hashes that the seed step fills from the writer's state (`export_state`), and sends what a
worker learns (new validators, gone pages) both to those hashes, for the other workers, and to
the writer through the item queue, for the sqlite state of the next round.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from csrnews.crawler import settings
from csrnews.crawler.context import CrawlContext
from csrnews.crawler.distributed import keys
from csrnews.crawler.distributed.items import dumps
from csrnews.crawler.report import CrawlReport
from csrnews.crawler.state import StoryRecord

logger = logging.getLogger(__name__)

BATCH = 1000  # hash fields written per round trip by export_state


class SharedState:
    """The part of `CrawlState` the spiders use, backed by Redis."""

    def __init__(self, server: Any) -> None:
        self.server = server

    # Index documents.
    def _doc(self, url: str) -> list[Any] | None:
        raw = self.server.hget(keys.STATE_DOCS, url)
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, list) and len(value) == 3 else None

    def validators(self, url: str) -> tuple[str | None, str | None]:
        doc = self._doc(url)
        return (doc[0], doc[1]) if doc else (None, None)

    def children(self, url: str) -> Any:
        doc = self._doc(url)
        return doc[2] if doc else None

    def save_doc(
        self, url: str, etag: str | None, last_modified: str | None, children: Any
    ) -> None:
        pipe = self.server.pipeline()
        pipe.hset(keys.STATE_DOCS, url, json.dumps([etag, last_modified, children]))
        record = {"kind": "doc", "url": url, "etag": etag, "modified": last_modified}
        pipe.rpush(keys.ITEMS, dumps({**record, "children": children}))
        pipe.execute()

    # Stories.
    def story(self, key: str) -> StoryRecord | None:
        raw = self.server.hget(keys.STATE_STORIES, key)
        if not raw:  # b"" : a story file without a row in the state
            return None
        return StoryRecord(key, "", "", "", json.loads(raw))

    def is_stored(self, key: str) -> bool:
        return bool(self.server.hexists(keys.STATE_STORIES, key))

    # Gone pages.
    def is_gone(self, key: str, entry_hash: str | None) -> bool:
        raw = self.server.hget(keys.STATE_GONE, key)
        if not raw:
            return False
        stored_hash, seen = json.loads(raw)
        fresh = time.time() - float(seen) < settings.GONE_RETRY_DAYS * 86400
        return fresh and stored_hash == entry_hash

    def save_gone(self, key: str, url: str, status: int, entry_hash: str | None) -> None:
        pipe = self.server.pipeline()
        pipe.hset(keys.STATE_GONE, key, json.dumps([entry_hash, time.time()]))
        record = {"kind": "gone", "key": key, "url": url, "status": status}
        pipe.rpush(keys.ITEMS, dumps({**record, "entry_hash": entry_hash}))
        pipe.execute()


@dataclass
class WorkerContext:
    """What a worker's spiders share instead of a CrawlContext: the Redis state, a report."""

    state: SharedState
    report: CrawlReport = field(default_factory=CrawlReport)
    queued: int = 0  # story records pushed to the item queue

    def lookup(self, *keys_: str) -> str | None:
        """A non-empty marker when a story URL is stored (the path is the writer's business)."""
        for key in keys_:
            if self.state.is_stored(key):
                return key
        return None


def export_state(ctx: CrawlContext, server: Any, *, replace: bool) -> dict[str, int]:
    """Copy what the writer's state knows into the Redis hashes the workers read.

    Every story URL the local crawl would find (`ctx.paths`, from the files and the state),
    with its feed entry hash; every index document's validators and listing; gone pages.
    With `replace`, the hashes are emptied first (a new round); otherwise rows are added.
    """
    state = ctx.state
    records = {r.key: r for r in state.all_stories()}
    stories = {
        key: (json.dumps(records[key].entry_hash) if key in records else "") for key in ctx.paths
    }
    docs = {
        url: json.dumps([etag, modified, children])
        for url, etag, modified, children in state.all_docs()
    }
    gone = {key: json.dumps([entry_hash, seen]) for key, entry_hash, seen in state.all_gone()}
    pipe = server.pipeline(transaction=True)
    if replace:
        pipe.delete(keys.STATE_STORIES, keys.STATE_DOCS, keys.STATE_GONE)
    for name, mapping in (
        (keys.STATE_STORIES, stories),
        (keys.STATE_DOCS, docs),
        (keys.STATE_GONE, gone),
    ):
        items = list(mapping.items())
        for start in range(0, len(items), BATCH):
            pipe.hset(name, mapping=dict(items[start : start + BATCH]))
    pipe.execute()
    return {"stories": len(stories), "docs": len(docs), "gone": len(gone)}
