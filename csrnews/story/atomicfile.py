"""Files written whole or not at all: a temporary file beside the target, renamed over it."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")  # open_temporary's names


def open_temporary(path: str | os.PathLike[str], *, private: bool = False) -> tuple[int, str]:
    """A new temporary file beside ``path`` (``.NAME.RANDOM.tmp``), open for writing.

    It is made with mode 0666 less the umask, as ``open()`` makes files: ``tempfile.mkstemp``
    would make it 0600, and the rename over ``path`` would keep that (a story or cache file
    another user of the site's group could not read). ``private`` makes it 0600 (secrets).
    """
    folder, name = os.path.split(os.fspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, 0o600 if private else 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name beside {path}")


@contextlib.contextmanager
def replacing(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    fsync: bool = False,
    private: bool = False,
    **open_args: Any,
) -> Iterator[IO[Any]]:
    """Write ``path`` whole or not at all: what is written to the handle replaces it on exit.

    The parent folder is made when missing. With ``fsync`` the data reach the disk before the
    rename; ``private`` makes the file its owner's only (0600). An exception leaves ``path`` as
    it was and removes the temporary file.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = open_temporary(path, private=private)
    try:
        with os.fdopen(fd, mode, **open_args) as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def stale_temporaries(folder: str | os.PathLike[str], older_than: float) -> list[Path]:
    """``open_temporary``'s files in ``folder`` (not below) unchanged for ``older_than`` seconds.

    A writer killed between writing and renaming leaves its temporary file behind (a reader
    cache's is tens of MB); one that old belongs to no writer still running.
    """
    found: list[Path] = []
    limit = time.time() - older_than
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if not _TEMPORARY.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                found.append(Path(entry.path))
    return sorted(found)
