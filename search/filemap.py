"""The index's side file: each story file's size, mtime and content hash, to skip unchanged ones."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from csrnews.story.storyfile import FULLTEXT_SUFFIX

FILES_FILE = "csrnews-files.json"
FILES_FORMAT = 1

# (size, mtime_ns) of a story file, then of its full-text sidecar or (-1, -1) when it has none.
StatKey = tuple[int, int, int, int]


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
    path: Path
    sidecar: Path | None  # the <slug>.fulltext.txt beside it, if any
    stat: StatKey


def scan_story_files(content_dir: Path) -> list[StoryFile]:
    """Every story file under ``<content>/news`` with its stat, sorted by id.

    The same files as ``csrnews.story.storyfile.iter_story_files`` (``*.md`` at any depth, names not
    starting with a dot), found with ``os.scandir`` instead of pathlib's glob, which costs more
    than the rest of a small update at 20,000 stories.
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
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                continue
            if not name.endswith(".md") or name.startswith("."):
                continue
            try:
                st = entry.stat()
            except OSError:  # vanished since the listing
                continue
            sidecar_name = name[:-3] + FULLTEXT_SUFFIX
            sidecar: Path | None = None
            side = (-1, -1)
            if sidecar_name in names:
                sidecar_path = os.path.join(folder, sidecar_name)
                try:
                    side_st = os.stat(sidecar_path)
                    side = (side_st.st_size, side_st.st_mtime_ns)
                    sidecar = Path(sidecar_path)
                except OSError:
                    pass
            doc_id = entry.path[base:].replace(os.sep, "/")
            found.append(
                StoryFile(doc_id, Path(entry.path), sidecar, (st.st_size, st.st_mtime_ns, *side))
            )
    found.sort(key=lambda story: story.doc_id)
    return found


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
        for doc_id, (size, mtime, side_size, side_mtime, digest, indexed) in data["files"].items():
            files[doc_id] = FileEntry(
                (int(size), int(mtime), int(side_size), int(side_mtime)), str(digest), bool(indexed)
            )
        return files
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def save_file_map(index_dir: Path, generation: int, files: dict[str, FileEntry]) -> None:
    """Write the side file atomically (a temporary file, then a rename)."""
    data = {
        "format": FILES_FORMAT,
        "generation": generation,
        "files": {
            doc_id: [*entry.stat, entry.digest, int(entry.indexed)]
            for doc_id, entry in files.items()
            if entry.stat is not None
        },
    }
    target = index_dir / FILES_FILE
    temporary = index_dir / f".{FILES_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(temporary, target)


def discard_file_map(index_dir: Path) -> None:
    """Remove the side file (the next update then compares hashes with the index)."""
    try:
        (index_dir / FILES_FILE).unlink()
    except FileNotFoundError:
        pass
