"""Keep the Whoosh index in step with the story files: add, update and delete what changed."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
import time
import warnings as warnings_module
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from csrnews.search.codec import packed_codec
from csrnews.search.document import story_document
from csrnews.search.fastwrite import tune_writer
from csrnews.search.filemap import (
    FileEntry,
    StatKey,
    StoryFile,
    discard_file_map,
    load_file_map,
    save_file_map,
)
from csrnews.search.filemap import scan_story_files as scan_stories
from csrnews.search.schema import build_schema, schema_version
from whoosh import index as whoosh_index
from whoosh.index import LockError

from csrnews.story.storycheck import Quarantined, find_quarantine
from csrnews.story.storyfile import parse_story

logger = logging.getLogger(__name__)

META_FILE = "csrnews-index.json"


class IndexLockedError(RuntimeError):
    """Another writer holds the index's lock for longer than the timeout."""


class IndexAborted(RuntimeError):
    """The update was called off before its commit (the site build failed): nothing changed."""


@dataclass
class IndexStats:
    """What one index update did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    quarantined: list[dict[str, str]] = field(default_factory=list)  # left out, and why

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _read_meta(index_dir: Path) -> dict[str, object]:
    try:
        return json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _open_or_create(index_dir: Path, warnings: list[str]) -> tuple[whoosh_index.Index, bool]:
    """Open the index; create it when missing; rebuild it when corrupt or of an old schema."""
    reason = ""
    if not index_dir.is_dir() or not any(index_dir.iterdir()):
        reason = "missing"
    elif _read_meta(index_dir).get("schema_version") != schema_version():
        reason = "of another schema version (or not a csrnews index)"
    else:
        # Whoosh leaves a damaged index's files open when it fails to read them.
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore", ResourceWarning)
            try:
                ix = whoosh_index.open_dir(str(index_dir))
                with ix.reader() as reader:
                    reader.doc_count()
                return ix, False
            except LockError:
                raise
            except Exception as exc:  # whoosh raises many kinds on damaged files
                reason = f"corrupt ({exc.__class__.__name__}: {exc})"
            gc.collect()
    if reason != "missing":
        message = f"search index {index_dir} is {reason}; rebuilding it from the story files"
        logger.warning(message)
        warnings.append(message)
        shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), build_schema())
    (index_dir / META_FILE).write_text(
        json.dumps({"schema_version": schema_version()}), encoding="utf-8"
    )
    return ix, reason != "missing"


# the stat of a file that could not be read: never matches
_UNREAD: StatKey = (-1, -1, -1, -1, -1, -1, -1, -1)


def _read_bytes(path: str) -> bytes:
    """A file's bytes, as Path.read_bytes gives them, without a Path and a buffered reader."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = []
        while chunk := os.read(fd, 1 << 16):
            parts.append(chunk)
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_story_file(story: StoryFile) -> tuple[str, str, str | None]:
    """The content hash, text and sidecar text of a story file, each file read once."""
    raw = _read_bytes(story.file)
    digest = hashlib.sha1(raw)
    fulltext = None
    if story.sidecar_file is not None:
        try:
            side = _read_bytes(story.sidecar_file)
        except FileNotFoundError:
            side = None
        if side is not None:
            digest.update(side)
            # as read_text() would: universal newlines
            fulltext = side.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    return digest.hexdigest(), raw.decode("utf-8"), fulltext


def _indexed_from_stored(ix: whoosh_index.Index) -> dict[str, FileEntry]:
    """The slow path without a valid side file: the hashes stored in the index itself."""
    with ix.searcher() as searcher:
        return {
            fields["id"]: FileEntry(None, fields.get("hash") or "", True)
            for fields in searcher.all_stored_fields()
        }


def update_index(
    content_dir: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    lock_timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    limitmb: int = 256,
    leave_out: bool = True,
    confirm: Callable[[], Iterable[str] | None] | None = None,
    check_seeds: Iterable[str | os.PathLike[str]] = (),
) -> IndexStats:
    """Bring the index in line with the story files under ``content_dir``.

    Only stories whose content hash changed are (re)indexed; stories whose files are gone are
    deleted. The side file (csrnews.search.filemap) keeps each file's size, mtime and hash, so
    that an update reads only the files whose size or mtime changed; without a valid side file the
    hashes stored in the index are used. Raises IndexLockedError when another writer holds the
    lock past ``lock_timeout``. The new postings are kept in memory until the commit (about 40
    bytes each: csrnews.search.fastwrite) up to ``limitmb``, past which they are sorted into
    temporary files and merged at the commit, as Whoosh's own pool does.

    With ``leave_out`` (the default) the files csrnews.story.storycheck quarantines are not indexed
    (and removed from the index if they were), as the site build leaves them out. With
    ``confirm`` the update waits, before its commit, for ``confirm()``: None calls it off
    (IndexAborted, the index unchanged), else it names more files to leave out (ones the site
    build could not read) and the update commits. ``check_seeds``: folders of other story-check
    caches of the same content folder (csrnews.story.storycheck.find_quarantine's ``seeds``).
    """
    started = time.monotonic()
    content_dir, index_dir = Path(content_dir), Path(index_dir)
    warnings: list[str] = []
    ix, rebuilt = _open_or_create(index_dir, warnings)
    stats = IndexStats(rebuilt=rebuilt)

    try:
        writer = ix.writer(timeout=lock_timeout, limitmb=limitmb, codec=packed_codec())
    except LockError as exc:
        raise IndexLockedError(
            f"search index {index_dir} is locked by another writer (waited {lock_timeout:g} s); "
            "is another build running? If not, remove its WRITELOCK file"
        ) from exc
    tune_writer(writer)
    gc_was_enabled = gc.isenabled()
    late: list[str] = []  # left out after this writer indexed them: a second commit
    now: dict[str, FileEntry] = {}
    try:
        # Under the lock: nobody else changes the index (nor its generation) meanwhile.
        quarantine = (
            find_quarantine(content_dir, cache_dir=index_dir, seeds=check_seeds)
            if leave_out
            else []
        )
        skip = {q.path: q.reason for q in quarantine}
        generation = ix.latest_generation()
        known = load_file_map(index_dir, generation)
        map_changed = known is None
        if known is None:
            known = _indexed_from_stored(ix) if ix.doc_count_all() else {}
        scanned_ns = time.time_ns()
        files = scan_stories(content_dir)
        changed: set[str] = set()
        # A full build makes millions of short-lived objects (tokens, postings, stored values)
        # and holds many long-lived ones: the cyclic collector would walk them over and over,
        # for nothing (they hold no cycles).
        gc.disable()
        for done, story in enumerate(files, 1):
            old = known.get(story.doc_id)
            if story.doc_id in skip:
                # Read again next time (_UNREAD): a file left out for another one's sake (the
                # same address) may be fine once the other is gone, without changing itself.
                map_changed = True
                now[story.doc_id] = FileEntry(_UNREAD, old.digest if old else "", False)
                if old is not None and old.indexed:
                    writer.delete_by_term("id", story.doc_id)
                    stats.deleted += 1
            elif old is not None and old.stat == story.stat:
                now[story.doc_id] = old
                stats.unchanged += old.indexed
            else:
                map_changed = True
                try:
                    digest, text, fulltext = _read_story_file(story)
                except FileNotFoundError:
                    pass  # removed since the scan: not in `now`, so deleted below if indexed
                except UnicodeDecodeError as exc:  # changed since the check: left out too
                    message = f"story file {story.path} is not UTF-8 ({exc.reason}); left out"
                    logger.warning(message)
                    warnings.append(message)
                    now[story.doc_id] = FileEntry(_UNREAD, old.digest if old else "", False)
                    if old is not None and old.indexed:
                        writer.delete_by_term("id", story.doc_id)
                        stats.deleted += 1
                else:
                    if old is not None and old.digest == digest and old.stat != _UNREAD:
                        now[story.doc_id] = FileEntry(story.stat, digest, old.indexed)
                        stats.unchanged += old.indexed
                    else:  # changed, or left out last time (never in the index then)
                        now[story.doc_id] = _reindex(writer, story, text, fulltext, digest, old)
                        changed.add(story.doc_id)
                        _count(stats, old, now[story.doc_id])
            if progress is not None:
                progress(done, len(files))
        for doc_id, old in known.items():
            if doc_id not in now:
                map_changed = True
                if old.indexed:
                    writer.delete_by_term("id", doc_id)
                    stats.deleted += 1
        if confirm is not None:
            more = confirm()
            if more is None:
                raise IndexAborted("the index update was called off before its commit")
            for doc_id in sorted(set(more) - set(skip)):
                entry = now.get(doc_id)
                if entry is None:
                    continue
                map_changed = True
                quarantine.append(Quarantined(doc_id, "the site build could not read it"))
                now[doc_id] = FileEntry(_UNREAD, entry.digest, False)
                if doc_id in changed:
                    if entry.indexed:
                        late.append(doc_id)
                elif entry.indexed:
                    writer.delete_by_term("id", doc_id)
                    stats.deleted += 1
        if stats.added or stats.updated or stats.deleted:
            writer.commit()
            generation = writer.generation
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    if late:
        generation = _delete_now(ix, late, lock_timeout)
        stats.deleted += len(late)
    if map_changed:
        try:
            save_file_map(index_dir, generation, now, scanned_ns=scanned_ns)
        except OSError as exc:  # the next update falls back to the stored hashes
            logger.warning("could not write the index side file in %s: %s", index_dir, exc)
            discard_file_map(index_dir)
    for item in quarantine:
        message = f"story file {item.path} left out: {item.reason}"
        logger.warning(message)
        warnings.append(message)
    stats.quarantined = [q.as_dict() for q in sorted(quarantine, key=lambda q: q.path)]
    stats.seconds = time.monotonic() - started
    stats.warnings = tuple(warnings)
    return stats


def _reindex(
    writer: object,
    story: StoryFile,
    text: str,
    fulltext: str | None,
    digest: str,
    old: FileEntry | None,
) -> FileEntry:
    """Add, update or delete one changed story's document; its new side-file entry."""
    doc = story_document(parse_story(text), story.doc_id, digest, fulltext=fulltext)
    if doc is None:
        if old is not None and old.indexed:
            writer.delete_by_term("id", story.doc_id)  # type: ignore[attr-defined]
    elif old is None or not old.indexed:
        writer.add_document(**doc)  # type: ignore[attr-defined]
    else:
        writer.update_document(**doc)  # type: ignore[attr-defined]
    return FileEntry(story.stat, digest, doc is not None)


def _count(stats: IndexStats, old: FileEntry | None, new: FileEntry) -> None:
    """Count what _reindex did."""
    was = old is not None and old.indexed
    if not new.indexed:
        stats.deleted += was
    elif was:
        stats.updated += 1
    else:
        stats.added += 1


def _delete_now(ix: whoosh_index.Index, doc_ids: list[str], lock_timeout: float) -> int:
    """Delete documents in a commit of their own; returns the new generation."""
    writer = ix.writer(timeout=lock_timeout, codec=packed_codec())
    try:
        for doc_id in doc_ids:
            writer.delete_by_term("id", doc_id)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    logger.warning(
        "left out %d stories after indexing them (the site build could not read them)",
        len(doc_ids),
    )
    return ix.latest_generation()


def leave_out_documents(index_dir: str | os.PathLike[str], doc_ids: Iterable[str]) -> int:
    """Remove the documents of story files the site build left out; how many were indexed.

    Their side-file entries are marked unread, so the next update reads them again.
    """
    index_dir = Path(index_dir)
    wanted = sorted(set(doc_ids))
    if not wanted:
        return 0
    ix = whoosh_index.open_dir(str(index_dir))
    writer = ix.writer(timeout=30.0, codec=packed_codec())
    try:
        known = load_file_map(index_dir, ix.latest_generation())
        with ix.searcher() as searcher:
            present = [d for d in wanted if searcher.document_number(id=d) is not None]
        for doc_id in present:
            writer.delete_by_term("id", doc_id)
        if present:
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    if known is not None:
        for doc_id in wanted:
            if doc_id in known:
                known[doc_id] = FileEntry(_UNREAD, known[doc_id].digest, False)
        save_file_map(index_dir, ix.latest_generation(), known)
    return len(present)
