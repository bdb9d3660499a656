"""One nightly run at a time: an flock()ed lock file that names its holder, stale-lock aware."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)


class LockedError(RuntimeError):
    """Another live process holds the lock."""

    def __init__(self, path: Path, holder: dict[str, object]) -> None:
        self.path = path
        self.holder = holder
        since = holder.get("started_at", "?")
        super().__init__(
            f"another nightly run holds {path} (pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}, since {since}); exiting"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: str | os.PathLike[str]) -> dict[str, object]:
    """What the lock file says about its last holder ({} when empty or unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class RunLock:
    """An exclusive, non-blocking lock on a file.

    The kernel releases an flock() when its holder dies, even by SIGKILL, so a lock file left
    behind by a killed run is never mistaken for a live one: it is detected as stale (its
    recorded pid is gone), logged, and taken over. The file descriptor is not inherited by
    child processes, so an orphaned child cannot keep the lock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self.stale_holder: dict[str, object] | None = None

    def acquire(self) -> None:
        """Take the lock or raise LockedError at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(self.path, read_holder(self.path)) from None
        previous = read_holder(self.path)
        pid = previous.get("pid")
        if isinstance(pid, int) and pid != os.getpid():
            alive = _pid_alive(pid) and previous.get("host") == socket.gethostname()
            self.stale_holder = previous
            logger.warning(
                "stale lock %s from pid %s (started %s, %s) taken over",
                self.path,
                pid,
                previous.get("started_at", "?"),
                "pid reused by another process" if alive else "no longer running",
            )
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Clear the holder record and drop the lock (the file stays, empty)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
