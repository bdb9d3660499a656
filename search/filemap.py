"""The index's side file: each story file's stat and content hash, to skip unchanged ones."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from csrnews.story.storycheck import RACY_NS
from csrnews.story.storyfile import FULLTEXT_SUFFIX

FILES_FILE = "csrnews-files.json"
FILES_FORMAT = 2  # 2: the stat holds the ctime and the inode too

# (size, mtime_ns, ctime_ns, inode) of a story file, then of its full-text sidecar, or four -1
# when it has none. The ctime (which no program can set back, unlike the mtime) catches a
# rewrite that keeps the old size and mtime; the inode, a file replaced by a rename.
StatKey = tuple[int, int, int, int, int, int, int, int]
NO_SIDECAR = (-1, -1, -1, -1)


@dataclass(frozen=True)
class FileEntry:
    """What the index knows of one story file: its stat when read, its hash, whether indexed."""

    stat: StatKey | None  # None when only the hash is known (read back from the index)
    digest: str
    indexed: bool  # False for a hidden or untitled story: known, but not in the index


@dataclass(frozen=True)
class StoryFile:
    """One story file found under content/news."""

    doc_id: str  # path relative to the content folder, as in the index's id field
    file: str  # its path (a Path is made only when asked for: 20,000 cost half a second)
    sidecar_file: str | None  # the <slug>.fulltext.txt beside it, if any
    stat: StatKey

    @property
    def path(self) -> Path:
        """The story file's path."""
        return Path(self.file)

    @property
    def sidecar(self) -> Path | None:
        """The full-text sidecar's path, if it has one."""
        return None if self.sidecar_file is None else Path(self.sidecar_file)


def scan_story_files(content_dir: Path) -> list[StoryFile]:
    """Every story file under ``<content>/news`` with its stat, sorted by id.

    The same files as ``csrnews.story.storyfile.iter_story_files`` (``*.md`` at any depth, no
    name on the way starting with a dot: Pelican skips hidden folders too), found with
    ``os.scandir`` instead of pathlib's glob, which costs more than the rest of a small update
    at 20,000 stories.
    """
    news = os.path.join(os.fspath(content_dir), "news")
    found: list[StoryFile] = []
    if not os.path.isdir(news):
        return found
    base = len(os.fspath(content_dir)) + 1
    pending = [news]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        names = {entry.name for entry in entries}
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                continue
            if not name.endswith(".md"):
                continue
            try:
                st = entry.stat()
            except OSError:  # vanished since the listing
                continue
            sidecar_name = name[:-3] + FULLTEXT_SUFFIX
            sidecar: str | None = None
            side = NO_SIDECAR
            if sidecar_name in names:
                sidecar_path = os.path.join(folder, sidecar_name)
                try:
                    side_st = os.stat(sidecar_path)
                    side = _stamp(side_st)
                    sidecar = sidecar_path
                except OSError:
                    pass
            doc_id = entry.path[base:].replace(os.sep, "/")
            found.append(StoryFile(doc_id, entry.path, sidecar, (*_stamp(st), *side)))
    found.sort(key=lambda story: story.doc_id)
    return found


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def load_file_map(index_dir: Path, generation: int) -> dict[str, FileEntry] | None:
    """The side file's map, or None when it is missing, unreadable or of another generation.

    The map is valid only for the index generation it was written with: any other writer (or a
    crash between a commit and the side file) changes the generation, and the caller then
    falls back to the hashes stored in the index.
    """
    try:
        data = json.loads((index_dir / FILES_FILE).read_text(encoding="utf-8"))
        if data.get("format") != FILES_FORMAT or data.get("generation") != generation:
            return None
        files = {}
        for doc_id, (*stat, digest, indexed) in data["files"].items():
            key = stat_key(stat)
            if key is None:
                return None
            files[doc_id] = FileEntry(key, str(digest), bool(indexed))
        return files
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def save_file_map(
    index_dir: Path, generation: int, files: dict[str, FileEntry], *, scanned_ns: int | None = None
) -> None:
    """Write the side file atomically (a temporary file, then a rename).

    ``scanned_ns`` is when the files were listed: a file whose ctime is within RACY_NS of it
    may have changed again after its stat within the same tick of the file system's clock, so
    its stat is not kept (the next update reads it again), as git does with "racily clean"
    entries. None: the stats are as an earlier save kept them (read back from the side file).
    """
    data = {
        "format": FILES_FORMAT,
        "generation": generation,
        "files": {
            doc_id: [*trusted_stat(entry.stat, scanned_ns), entry.digest, int(entry.indexed)]
            for doc_id, entry in files.items()
            if entry.stat is not None
        },
    }
    target = index_dir / FILES_FILE
    temporary = index_dir / f".{FILES_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(temporary, target)


def stat_key(values: list[Any]) -> StatKey | None:
    """A stat read back from a JSON file (as trusted_stat wrote it), or None when malformed.

    Raises ValueError or TypeError for values that are not integers."""
    if len(values) != 8:
        return None
    return cast(StatKey, tuple(int(value) for value in values))


def trusted_stat(stat: StatKey, scanned_ns: int | None) -> list[int]:
    """The stat to keep of a file listed at ``scanned_ns``, its ctimes set to -1 (never
    matching) when they are within RACY_NS of it: the file may have changed again after its
    stat within the same tick of the file system's clock. None: the stat is kept as it is."""
    racy = scanned_ns - RACY_NS if scanned_ns is not None else 1 << 62
    kept = list(stat)
    for at in (2, 6):
        if kept[at] >= racy:
            kept[at] = -1
    return kept


def discard_file_map(index_dir: Path) -> None:
    """Remove the side file (the next update then compares hashes with the index)."""
    try:
        (index_dir / FILES_FILE).unlink()
    except FileNotFoundError:
        pass
