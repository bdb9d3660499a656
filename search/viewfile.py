"""Index sub-files read straight from the memory map, instead of one private copy per searcher.

Whoosh opens each file of a compound segment (postings, term index, columns) as a
``BufferFile`` over a memoryview of the segment's memory map, and that class wraps the view in
``io.BytesIO``, which copies it: every searcher (one per concurrent request) held its own copy
of the segment, about 57 MB at 20k stories. ``install()`` makes Whoosh's compound storage open
them as ``ViewBufferFile``: the same ``StructFile`` methods, with ``read``/``seek`` served from
the shared map through a buffered reader, so the pages are the page cache's, shared by every
searcher and every worker process.
"""

from __future__ import annotations

import io
from typing import Any

from csrnews.search import whoosh_compat
from whoosh.filedb.structfile import BufferFile

READ_BUFFER = 8192  # bytes a seek-and-read copies out of the map at a time


class _ViewRaw(io.RawIOBase):
    """A read-only, seekable raw stream over a memoryview (nothing copied until read)."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view if view.format == "B" and view.ndim == 1 else view.cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        start = self._pos
        count = max(0, min(len(buffer), len(self._view) - start))
        buffer[:count] = self._view[start : start + count]
        self._pos = start + count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = len(self._view) + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._pos = position
        return position

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        # Let go of the view, so that the storage can close its memory map.
        self._view = memoryview(b"")
        super().close()


class ViewBufferFile(BufferFile):
    """Whoosh's ``BufferFile`` without the private copy: reads come from the shared view."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        view = memoryview(buf)
        raw = io.BufferedReader(_ViewRaw(view), buffer_size=READ_BUFFER)
        whoosh_compat.init_buffer_file(self, view, name, raw, onclose)


def install() -> None:
    """Make Whoosh's compound storage open its sub-files as ``ViewBufferFile`` (idempotent).

    Process-wide: called by SearchService when it starts (the code that needs shared views),
    never on import.
    """
    if whoosh_compat.compound_file_class() is not ViewBufferFile:
        whoosh_compat.use_compound_file_class(ViewBufferFile)
