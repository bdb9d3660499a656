"""The desk's working parts in one object: users, logins, stories, history, preview, rebuild."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from csrnews.desk.config import DeskConfig
from csrnews.desk.history import History, open_history
from csrnews.desk.objects import ObjectStore
from csrnews.desk.preview import Previewer
from csrnews.desk.rebuild import Rebuilder
from csrnews.desk.stories import Catalogue
from csrnews.desk.throttle import LoginThrottle
from csrnews.desk.users import UserStore
from csrnews.search.query import SearchService
from csrnews.story.storyfile import story_write_lock, write_text_atomic

logger = logging.getLogger(__name__)


def load_secret(path: Path) -> bytes:
    """The key that signs session cookies: made once, kept in the desk folder (owner only)."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if len(key) < 64:
        key = secrets.token_hex(32)
        write_text_atomic(path, key + "\n", private=True)
    return bytes.fromhex(key[:64])


class Desk:
    """Everything the views use; one per app (per worker process)."""

    def __init__(self, config: DeskConfig) -> None:
        config.check()
        self.config = config
        self.content = config.content
        self.users = UserStore(config.users_file)
        self.throttle = LoginThrottle(config.throttle_db)
        self.catalogue = Catalogue(config.content)
        self.history: History = open_history(config.content)
        self.bases = ObjectStore(config.objects_dir)  # texts editors started from
        self.previewer = Previewer(config.tmp_dir)
        self.rebuilder = Rebuilder(config)
        self.secret = load_secret(config.secret_file)
        self._search = None
        # Read the stories once now, not on the first editor's first page.
        threading.Thread(target=self.catalogue.records, name="desk-catalogue", daemon=True).start()
        logger.info("desk on %s; history: %s", config.content, self.history.describe())

    @property
    def search(self) -> object:
        """The Whoosh search service on the live index (opened on first use)."""
        if self._search is None:
            self._search = SearchService(self.config.index)  # type: ignore[assignment]
        return self._search

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One desk write at a time across threads and worker processes (check, write, record)."""
        path = self.config.write_lock
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with story_write_lock(self.config.content):  # and no crawl writes meanwhile
                yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            self.catalogue.invalidate()
