"""A content-addressed store of texts (gzip files named by their SHA-256), written once each."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

from csrnews.story.atomicfile import replacing

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def text_sha(text: str) -> str:
    """The SHA-256 of a text (UTF-8): the name of its version everywhere on the desk."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_sha(value: str) -> bool:
    return bool(_SHA_RE.match(value or ""))


class ObjectStore:
    """Texts by their SHA-256 under one folder (``ab/cdef….gz``); never rewritten."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _path(self, sha: str) -> Path:
        return self.folder / sha[:2] / f"{sha[2:]}.gz"

    def put(self, text: str) -> str:
        sha = text_sha(text)
        path = self._path(sha)
        if path.exists():
            return sha
        with replacing(path, fsync=True) as handle:
            handle.write(gzip.compress(text.encode("utf-8"), mtime=0))
        return sha

    def get(self, sha: str) -> str | None:
        """The text with this SHA-256, or None when it is not stored (or damaged)."""
        if not is_sha(sha):
            return None
        try:
            text = gzip.decompress(self._path(sha).read_bytes()).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
            return None
        return text if text_sha(text) == sha else None
