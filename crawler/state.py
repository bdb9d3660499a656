"""The crawl state in sqlite3 (atomic, survives SIGKILL): validators, URL -> story path, journal."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csrnews.crawler import settings
from csrnews.crawler.dedupe import SCHEME, pack, unpack

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, children TEXT, fetched REAL
);
CREATE TABLE IF NOT EXISTS stories (
    key TEXT PRIMARY KEY, url TEXT, path TEXT, source TEXT, entry_hash TEXT, updated REAL
);
CREATE TABLE IF NOT EXISTS signatures (
    path TEXT PRIMARY KEY, signature TEXT
);
CREATE TABLE IF NOT EXISTS links (
    path TEXT PRIMARY KEY, links TEXT
);
CREATE TABLE IF NOT EXISTS gone (
    key TEXT PRIMARY KEY, url TEXT, status INTEGER, entry_hash TEXT, seen REAL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, owner TEXT, aliases TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY, value TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL, finished REAL, status TEXT, report TEXT
);
"""


@dataclass
class StoryRecord:
    """What the state knows about one story URL."""

    key: str
    url: str
    path: str
    source: str
    entry_hash: str | None


class StateError(sqlite3.DatabaseError):
    """The state database cannot be opened (corrupt, or not a database); nothing was changed."""


class CrawlState:
    """One sqlite3 database in the state folder; every change is its own transaction.

    Or part of a larger one: `transaction()` groups the changes of one story (or of a batch of
    signatures) into one commit. In WAL mode with synchronous=NORMAL a commit survives the
    process being killed (SIGKILL) without an fsync; only a power cut can roll back the last
    commits. The next run then takes URLs and signatures from the story files again; what
    only the state held (validators, entry hashes, links, gone pages) is lost, which costs
    fetching those pages again.
    """

    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / settings.STATE_DB
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            self._check_signature_scheme()
        except sqlite3.OperationalError:  # locked, unwritable: the message says so already
            self.db.close()
            raise
        except sqlite3.DatabaseError as exc:  # not a database, or a malformed one
            self.db.close()
            raise StateError(
                f"{self.path}: not a readable crawl state ({exc}). Move it aside to start "
                "afresh: the story files are kept, and the next run reads their URLs again."
            ) from exc

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit everything inside as one transaction (nested calls join the outer one)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _check_signature_scheme(self) -> None:
        """Drop stored signatures of another MinHash scheme: the run recomputes them from files."""
        row = self.db.execute("SELECT value FROM meta WHERE key='signature_scheme'").fetchone()
        if row and row[0] == SCHEME:
            return
        with self.transaction():
            dropped = self.db.execute("DELETE FROM signatures").rowcount
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('signature_scheme', ?)", (SCHEME,))
        if dropped:
            logger.info("dropped %d signatures of an older scheme; recomputing them", dropped)

    # Index documents: feeds, sitemaps, listings.
    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT etag, last_modified FROM docs WHERE url=?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def children(self, url: str) -> Any:
        row = self.db.execute("SELECT children FROM docs WHERE url=?", (url,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def save_doc(
        self, url: str, etag: str | None, last_modified: str | None, children: Any
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)",
            (url, etag, last_modified, json.dumps(children, ensure_ascii=False), time.time()),
        )

    def all_docs(self) -> list[tuple[str, str | None, str | None, Any]]:
        """Every index document: (url, etag, last_modified, children)."""
        rows = self.db.execute("SELECT url, etag, last_modified, children FROM docs")
        return [(u, e, m, json.loads(c) if c else None) for u, e, m, c in rows]

    # Stories.
    def story(self, key: str) -> StoryRecord | None:
        row = self.db.execute(
            "SELECT key, url, path, source, entry_hash FROM stories WHERE key=?", (key,)
        ).fetchone()
        return StoryRecord(*row) if row else None

    def all_stories(self) -> list[StoryRecord]:
        rows = self.db.execute("SELECT key, url, path, source, entry_hash FROM stories")
        return [StoryRecord(*row) for row in rows]

    def save_story(
        self, key: str, url: str, path: str, source: str, entry_hash: str | None
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO stories VALUES (?, ?, ?, ?, ?, ?)",
            (key, url, path, source, entry_hash, time.time()),
        )

    def signatures(self) -> dict[str, array[int]]:
        """Story path -> MinHash signature (of the current `csrnews.crawler.dedupe.SCHEME`)."""
        rows = self.db.execute("SELECT path, signature FROM signatures")
        return {path: unpack(sig) for path, sig in rows if isinstance(sig, bytes)}

    def save_signature(self, path: str, signature: Sequence[int]) -> None:
        self.db.execute("INSERT OR REPLACE INTO signatures VALUES (?, ?)", (path, pack(signature)))

    # What the story files say about their URLs, so that a run re-reads only changed files.
    def file_index(self) -> dict[str, tuple[int, int, str | None, list[str]]]:
        """Story path -> (mtime_ns, size, Source_url key, Also_reported_by keys) when last read."""
        rows = self.db.execute("SELECT path, mtime_ns, size, owner, aliases FROM files")
        return {
            path: (mtime, size, owner, json.loads(aliases))
            for path, mtime, size, owner, aliases in rows
        }

    def update_file_index(
        self,
        fresh: list[tuple[str, int, int, str | None, list[str]]],
        gone: set[str],
    ) -> None:
        """Record the files read again (path, mtime_ns, size, owner, aliases); forget `gone`."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                [(p, m, z, o, json.dumps(a)) for p, m, z, o, a in fresh],
            )
            self.db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone])

    def links(self, path: str) -> set[str]:
        """The URL keys a stored story's page linked to (to tell an original from its reprint)."""
        row = self.db.execute("SELECT links FROM links WHERE path=?", (path,)).fetchone()
        return set(json.loads(row[0])) if row else set()

    def save_links(self, path: str, keys: list[str]) -> None:
        self.db.execute("INSERT OR REPLACE INTO links VALUES (?, ?)", (path, json.dumps(keys)))

    # Story URLs that answered 404 or 410: not asked again for a while.
    def is_gone(self, key: str, entry_hash: str | None) -> bool:
        row = self.db.execute("SELECT entry_hash, seen FROM gone WHERE key=?", (key,)).fetchone()
        if not row:
            return False
        fresh = time.time() - row[1] < settings.GONE_RETRY_DAYS * 86400
        return fresh and row[0] == entry_hash

    def save_gone(self, key: str, url: str, status: int, entry_hash: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO gone VALUES (?, ?, ?, ?, ?)",
            (key, url, status, entry_hash, time.time()),
        )

    def all_gone(self) -> list[tuple[str, str | None, float]]:
        """Every gone story URL: (key, entry_hash, seen)."""
        return list(self.db.execute("SELECT key, entry_hash, seen FROM gone"))

    def forget_gone(self, key: str) -> None:
        self.db.execute("DELETE FROM gone WHERE key=?", (key,))

    # The journal.
    def start_run(self) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started, status) VALUES (?, 'running')", (time.time(),)
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, report: Any) -> None:
        self.db.execute(
            "UPDATE runs SET finished=?, status=?, report=? WHERE id=?",
            (time.time(), status, json.dumps(report, ensure_ascii=False), run_id),
        )
