"""Login attempts slowed down after a few failures, per user name and per client address.

Kept in SQLite in the desk folder, so every worker process of `csrnews serve` and every
restart sees the same counts (an in-memory limiter would give each worker its own).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

FREE_FAILURES = 3  # failures in the window before any wait
WINDOW = 15 * 60.0  # seconds a failure is remembered
MAX_WAIT = 5 * 60.0  # the longest wait


class LoginThrottle:
    """After FREE_FAILURES failed logins, each further attempt must wait 2, 4, 8 … seconds."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        free: int = FREE_FAILURES,
        window: float = WINDOW,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.path = Path(path)
        self.free, self.window, self.max_wait = free, window, max_wait
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at)")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def wait(self, keys: Iterable[str], now: float | None = None) -> float:
        """Seconds before another attempt for these keys is allowed (0: allowed now)."""
        now = time.time() if now is None else now
        longest = 0.0
        db = self._db()
        try:
            for key in keys:
                count, last = db.execute(
                    "SELECT COUNT(*), MAX(at) FROM failures WHERE key = ? AND at > ?",
                    (key, now - self.window),
                ).fetchone()
                if count >= self.free and last is not None:
                    delay = min(2.0 ** (count - self.free + 1), self.max_wait)
                    longest = max(longest, last + delay - now)
        finally:
            db.close()
        return max(0.0, longest)

    def failed(self, keys: Iterable[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        db = self._db()
        try:
            db.execute("DELETE FROM failures WHERE at <= ?", (now - self.window,))
            db.executemany("INSERT INTO failures (key, at) VALUES (?, ?)", [(k, now) for k in keys])
        finally:
            db.close()

    def succeeded(self, keys: Iterable[str]) -> None:
        db = self._db()
        try:
            db.executemany("DELETE FROM failures WHERE key = ?", [(k,) for k in keys])
        finally:
            db.close()
