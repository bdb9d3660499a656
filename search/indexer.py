"""Keep the Whoosh index in step with the story files: add, update and delete what changed."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import re
import shutil
import time
import warnings as warnings_module
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError

from csrnews.storyfile import FULLTEXT_SUFFIX, Story, iter_story_files, parse_story
from csrnews.urls import story_url
from csrnews.vocabulary import event_type_id
from search.schema import SCHEMA_VERSION, build_schema

logger = logging.getLogger(__name__)

META_FILE = "csrnews-index.json"
HIDDEN_STATUSES = {"hidden", "draft"}


class IndexLockedError(RuntimeError):
    """Another writer holds the index's lock for longer than the timeout."""


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

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARK_RE = re.compile(r"(^|\s)[#>]+\s|[*_`]{1,3}|^\s*[-+*]\s+|^\s*\d+\.\s+|\|", re.MULTILINE)
_HTML_TAG_RE = re.compile(r"<[^>]+>")


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown body, good enough for indexing and snippets."""
    text = _MD_LINK_RE.sub(r"\1", markdown)
    text = _HTML_TAG_RE.sub(" ", text)
    text = _MD_MARK_RE.sub(" ", text)
    text = re.sub(r"^\s*-{3,}\s*$", " ", text, flags=re.MULTILINE)
    return re.sub(r"[ \t]+", " ", text).strip()


def parse_date(value: str) -> datetime | None:
    """A story's Date as a naive datetime (its own local time), or None."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(value[:10], "%Y-%m-%d")
        except ValueError:
            return None
    return parsed.replace(tzinfo=None)


def _fulltext_path(path: Path) -> Path:
    return path.with_name(path.stem + FULLTEXT_SUFFIX)


def content_hash(path: Path) -> str:
    """Hash of a story file and its full-text sidecar, if any."""
    digest = hashlib.sha1(path.read_bytes())
    sidecar = _fulltext_path(path)
    if sidecar.exists():
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def story_document(story: Story, doc_id: str, digest: str) -> dict[str, object] | None:
    """The index document of one story, or None when it is hidden or has no title."""
    if story.get("Status").lower() in HIDDEN_STATUSES or not story.title:
        return None
    date = parse_date(story.get("Date"))
    body = markdown_to_text(story.body)
    if story.path is not None:
        sidecar = _fulltext_path(story.path)
        if sidecar.exists():
            body = sidecar.read_text(encoding="utf-8")
    slug = story.slug or Path(doc_id).stem
    organisations = story.get_list("Organisations")
    doc: dict[str, object] = {
        "id": doc_id,
        "hash": digest,
        "url": story_url(date.year if date else "undated", slug),
        "title": story.title,
        "summary": story.get("Summary"),
        "body": body,
        "organisations": ",".join(organisations),
        "org_facet": ",".join(organisations),
        "standards": ",".join(story.get_list("Standards")),
        "tags": ",".join(story.get_list("Tags")),
        "category": event_type_id(story.get("Category") or "other"),
        "source": story.get("Source") or "unknown",
        "lang": (story.get("Lang") or "en").lower(),
    }
    if date is not None:
        doc["date"] = date
        doc["year"] = date.year
    return doc


def _documents(content_dir: Path) -> Iterator[tuple[str, Path]]:
    for path in iter_story_files(content_dir):
        yield path.relative_to(content_dir).as_posix(), path


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
    elif _read_meta(index_dir).get("schema_version") != SCHEMA_VERSION:
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
        json.dumps({"schema_version": SCHEMA_VERSION}), encoding="utf-8"
    )
    return ix, reason != "missing"


def update_index(
    content_dir: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    lock_timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
) -> IndexStats:
    """Bring the index in line with the story files under ``content_dir``.

    Only stories whose content hash changed are (re)indexed; stories whose files are gone are
    deleted. Raises IndexLockedError when another writer holds the lock past ``lock_timeout``.
    """
    started = time.monotonic()
    content_dir, index_dir = Path(content_dir), Path(index_dir)
    warnings: list[str] = []
    ix, rebuilt = _open_or_create(index_dir, warnings)
    stats = IndexStats(rebuilt=rebuilt)

    with ix.searcher() as searcher:
        indexed = {fields["id"]: fields.get("hash") for fields in searcher.all_stored_fields()}

    try:
        writer = ix.writer(timeout=lock_timeout, limitmb=128)
    except LockError as exc:
        raise IndexLockedError(
            f"search index {index_dir} is locked by another writer (waited {lock_timeout:g} s); "
            "is another build running? If not, remove its WRITELOCK file"
        ) from exc
    try:
        files = list(_documents(content_dir))
        seen: set[str] = set()
        for done, (doc_id, path) in enumerate(files, 1):
            digest = content_hash(path)
            seen.add(doc_id)
            old = indexed.get(doc_id)
            if old == digest:
                stats.unchanged += 1
            else:
                story = parse_story(path.read_text(encoding="utf-8"), path=path)
                doc = story_document(story, doc_id, digest)
                if doc is None:
                    seen.discard(doc_id)
                elif old is None:
                    writer.add_document(**doc)
                    stats.added += 1
                else:
                    writer.update_document(**doc)
                    stats.updated += 1
            if progress is not None:
                progress(done, len(files))
        for doc_id in indexed:
            if doc_id not in seen:
                writer.delete_by_term("id", doc_id)
                stats.deleted += 1
        if stats.added or stats.updated or stats.deleted:
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    stats.seconds = time.monotonic() - started
    stats.warnings = tuple(warnings)
    return stats
