"""Read and write story files: the Markdown contract between the crawler and everything after it.

A story file is Pelican's Markdown metadata header (``Key: value`` lines), a blank line, then the
body in Markdown. ``Fingerprint`` is a hash of everything else the crawler wrote: a file whose
content no longer matches its fingerprint was changed by an editor and is never overwritten.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from csrnews.story import schema
from csrnews.story.atomicfile import replacing

# Header keys, their order and which are lists: the story schema's table (csrnews.story.schema).
# Unknown keys an editor adds are kept, after these.
KEY_ORDER: tuple[str, ...] = schema.key_order()
LIST_KEYS: frozenset[str] = schema.list_keys()
FULLTEXT_SUFFIX = ".fulltext.txt"  # sidecar with the full text of an excerpt-only story

_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):[ \t]*(.*)$")
_FP_LINE_RE = re.compile(r"^Fingerprint:.*\n?", re.MULTILINE | re.IGNORECASE)


# The schema's keys by their lower-case spelling, for the table they were made from (tests
# replace the table): a lookup, not a scan of the table, for each of the ~25 gets a story has.
_spellings: tuple[tuple[schema.Field, ...], dict[str, str]] | None = None


def _spelling_table() -> dict[str, str]:
    """The schema's keys by their lower-case spelling, for the table as it is now."""
    global _spellings
    table = schema.fields()
    if _spellings is None or _spellings[0] is not table:
        # reversed: the first key of the table wins, as a scan in order would find it
        _spellings = (table, {known.lower(): known for known in reversed(schema.key_order())})
    return _spellings[1]


def canonical_key(key: str, spellings: dict[str, str] | None = None) -> str:
    """Map a key in any case to its canonical spelling (Pelican lower-cases them on reading);
    ``spellings``: _spelling_table(), when the caller looked it up once for many keys."""
    found = (_spelling_table() if spellings is None else spellings).get(key.lower())
    return found if found is not None else key[:1].upper() + key[1:]


def _one_line(value: str) -> str:
    """Metadata values are single lines: fold whitespace and control characters."""
    return " ".join(str(value).split())


@dataclass
class Story:
    """One story: ordered metadata (single-line string values) and a Markdown body."""

    meta: dict[str, str] = field(default_factory=dict)
    body: str = ""
    path: Path | None = None

    def get(self, key: str, default: str = "") -> str:
        """Return a metadata value by key (any case)."""
        return self.meta.get(canonical_key(key), default)

    def set(self, key: str, value: str | None) -> None:
        """Set a metadata value; an empty or None value removes the key."""
        key = canonical_key(key)
        if value is None or _one_line(value) == "":
            self.meta.pop(key, None)
        else:
            self.meta[key] = _one_line(value)

    def get_list(self, key: str) -> list[str]:
        """Return a comma-separated metadata value as a list."""
        raw = self.get(key)
        return [part.strip() for part in raw.split(",") if part.strip()]

    def set_list(self, key: str, values: Iterable[str]) -> None:
        """Set a comma-separated metadata value, dropping empties and repeats, keeping order."""
        seen: dict[str, None] = {}
        for value in values:
            value = _one_line(value).replace(",", "%2C" if key == "Also_reported_by" else " ")
            if value:
                seen.setdefault(value, None)
        self.set(key, ", ".join(seen))

    @property
    def title(self) -> str:
        return self.get("Title")

    @property
    def slug(self) -> str:
        return self.get("Slug")


def parse_story(text: str, path: Path | None = None) -> Story:
    """Parse a story file's text. Lines up to the first blank line are metadata."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    meta: dict[str, str] = {}
    spellings = _spelling_table()  # the same table for every line of the header
    lines = text.split("\n")
    i = 0
    last_key: str | None = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            break
        match = _KEY_RE.match(line)
        if match:
            last_key = canonical_key(match.group(1), spellings)
            meta[last_key] = match.group(2).strip()
        elif last_key is not None and line[:1] in (" ", "\t"):
            # Continuation line, as Python-Markdown's meta extension allows.
            meta[last_key] = _one_line(meta[last_key] + " " + line)
        else:
            # Not a header at all: the whole text is body.
            return Story(meta={}, body=text, path=path)
        i += 1
    body = "\n".join(lines[i:])
    return Story(meta=meta, body=body, path=path)


def _render_parts(story: Story) -> tuple[str, str]:
    """The header lines (without Fingerprint) and the body, as they are written."""
    order = schema.key_order()
    ordered = [k for k in order if k in story.meta and k != "Fingerprint"]
    ordered += [k for k in story.meta if k not in order]
    header = "".join(f"{key}: {_one_line(story.meta[key])}\n" for key in ordered)
    body = story.body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return header, f"{body}\n"


def _normalise_for_hash(text: str) -> str:
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    text = _FP_LINE_RE.sub("", text)
    return text.rstrip() + "\n"


def compute_fingerprint(text: str) -> str:
    """Hash of a story file's text without its Fingerprint line (line endings normalised)."""
    return hashlib.sha256(_normalise_for_hash(text).encode("utf-8")).hexdigest()[:20]


def render_story(story: Story, *, fingerprint: bool = True) -> str:
    """Render a story to file text; with ``fingerprint`` the Fingerprint key is (re)computed."""
    header, body = _render_parts(story)
    if not fingerprint:
        return f"{header}\n{body}"
    fp = compute_fingerprint(f"{header}\n{body}")
    story.meta["Fingerprint"] = fp
    return f"{header}Fingerprint: {fp}\n\n{body}"


def render_edited(story: Story) -> str:
    """Render a story an editor changed: the file reads as edited, so no crawl overwrites it.

    The crawler's recorded ``Fingerprint`` is kept as it was (it no longer matches the new
    text); when it would match after all (nothing changed) or there is none, the key is left
    out. Either way ``is_edited()`` of the result is true.
    """
    header, body = _render_parts(story)
    text = f"{header}\n{body}"
    recorded = story.meta.get("Fingerprint", "")
    if recorded and recorded != compute_fingerprint(text):
        return f"{header}Fingerprint: {_one_line(recorded)}\n\n{body}"
    story.meta.pop("Fingerprint", None)
    return text


def write_edited_story(path: str | os.PathLike[str], story: Story) -> str:
    """Write an editor's version of a story atomically (see render_edited); returns the text."""
    text = render_edited(story)
    write_text_atomic(path, text)
    return text


def is_edited(text: str) -> bool:
    """True when a file was changed by hand: no Fingerprint, or one that no longer matches."""
    story = parse_story(text)
    recorded = story.get("Fingerprint")
    if not recorded:
        return True
    return recorded != compute_fingerprint(text)


def read_story(path: str | os.PathLike[str]) -> Story:
    """Read and parse one story file (UTF-8)."""
    path = Path(path)
    return parse_story(path.read_text(encoding="utf-8"), path=path)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, private: bool = False) -> None:
    """Write text to a temporary file in the same folder, fsync it, then rename it into place
    (mode 0666 less the umask; 0600 with ``private``)."""
    with replacing(
        path, "w", fsync=True, private=private, encoding="utf-8", newline="\n"
    ) as handle:
        handle.write(text)


def write_story(path: str | os.PathLike[str], story: Story) -> str:
    """Render a story with a fresh Fingerprint and write it atomically; returns the text."""
    text = render_story(story)
    write_text_atomic(path, text)
    return text


@contextmanager
def story_write_lock(content_dir: str | os.PathLike[str]) -> Iterator[None]:
    """One writer of story files at a time: the crawler's read, check and write of a story and
    an editor's save hold it, so a crawl never overwrites an edit saved between its read and
    its write. An flock on ``<content>/news`` itself (no lock file among the stories), across
    threads and processes; released when its holder dies."""
    folder = Path(content_dir) / "news"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock


def story_path(content_dir: str | os.PathLike[str], year: int | str, slug: str) -> Path:
    """Where a story lives: ``<content>/news/<year>/<slug>.md``."""
    return Path(content_dir) / "news" / str(year) / f"{slug}.md"


def iter_story_files(content_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Every story file under ``<content>/news``, sorted, skipping names that start with a dot
    (the crawler's temporary files, hidden folders: Pelican's IGNORE_FILES ``.*`` skips both)."""
    news = Path(content_dir) / "news"
    if not news.is_dir():
        return
    for path in sorted(news.rglob("*.md")):
        if not any(part.startswith(".") for part in path.relative_to(news).parts):
            yield path


_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def slugify(title: str, key: str = "", max_length: int = 80) -> str:
    """A URL slug for a title; stable for a given title and key.

    Latin titles give their words (``top-10-csr-events-in-china-2018``). Titles that are mostly
    Chinese (or give too little Latin text) get their Latin words, if any, and a short hash of
    ``key`` (the story's canonical URL) or of the title, so the slug never depends on anything
    but its inputs.
    """
    norm = unicodedata.normalize("NFKD", title)
    ascii_text = norm.encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    cjk_chars = len(_CJK_RE.findall(title))
    if len(slug) < 8 or cjk_chars > len(slug) // 2:
        digest = hashlib.sha1((key or title).encode("utf-8")).hexdigest()[:10]
        prefix = slug[: max_length - 14].rstrip("-")
        slug = f"{prefix}-{digest}" if prefix else f"zh-{digest}" if cjk_chars else digest
    return slug
