"""Check story files before they are published: what makes one unpublishable, and why.

A story (or page) file that cannot be read or breaks the contract of csrnews.story.storyfile is
*quarantined*: left out of the site and of the search index alike, and named with its reason
in the build's output, the nightly report and the status page, while every other story is
published. The site build (csrnews.site.build) and the index (csrnews.search.indexer) call the same
function, so both leave out the same files.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from csrnews.story import settings
from csrnews.story.jsoncache import load_cache, save_cache
from csrnews.story.urls import title_slug

logger = logging.getLogger(__name__)

MAX_STORY_BYTES = 5 * 1024 * 1024
MIN_YEAR, MAX_YEAR = 1000, 9999
STATUSES = frozenset({"published", "hidden", "draft"})
# Keys whose items become pages of their own (/org/<slug>/, /standard/<slug>/, ...).
TAXON_KEYS = ("Organisations", "Standards", "Source")
DATE_KEYS = ("Date", "Modified")
CACHE_FILE = "story-checks.json"
# Raise when a check changes: cached results of older checks are dropped. 2: each file's stamp is
# (size, mtime_ns, ctime_ns, inode) rather than (size, mtime_ns).
CHECKS_VERSION = 2
# A file changed less than this long before a check may change again with the same ctime (file
# times tick in steps of up to a few milliseconds, of a second on some file systems): its result
# is not reused, and the next check reads it again ("racy" entries, as git's index has them).
RACY_NS = 2_000_000_000

# As Python-Markdown's meta extension reads a header (what Pelican sees) and as
# csrnews.story.storyfile reads it (what the index sees): a file both read the same way passes.
_KEY_LINE_RE = re.compile(r"^[ ]{0,3}([A-Za-z0-9_-]+):[ \t]*(.*)$")
_OUR_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CONTINUATION_RE = re.compile(r"^(?: {4,}|\t)")
_ISO_DATE_RE = re.compile(r"^\d{4}-?\d{2}-?\d{2}(?:[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d{1,6})?)?")
_SLUG_RE = re.compile(r"^[\w-]+$")
# XML 1.0 refuses these (the feeds would fail to build), and no text has them.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Quarantined:
    """A file left out: its path relative to the content folder, and why."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def parse_story_date(value: str) -> datetime | None:
    """A story's ISO 8601 Date or Modified as a naive datetime (its own local time), or None."""
    value = value.strip()
    if not _ISO_DATE_RE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(",", "."))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _decode(raw: bytes) -> tuple[str | None, str | None]:
    """The text of a file's bytes, or the reason it has none."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        len(raw) > 3 and (raw[0] == 0) != (raw[1] == 0) and raw.count(0) > len(raw) // 4
    ):
        return None, "UTF-16 text: save the file as UTF-8"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        return None, f"not UTF-8 text (byte 0x{bad} on line {line}; binary data?)"
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), None


def _lines(text: str) -> Iterable[str]:
    """The lines of ``text`` one by one (as ``text.split("\\n")``), without splitting its body."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def _header(text: str) -> tuple[dict[str, tuple[int, str]], str | None]:
    """The header's keys (canonical case) with their line and value, or the reason it is bad."""
    meta: dict[str, tuple[int, str]] = {}
    last: str | None = None
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            break
        match = _KEY_LINE_RE.match(line)
        if match and line[:1] not in (" ", "\t"):
            key = match.group(1)
            if not _OUR_KEY_RE.match(key):
                return meta, f"line {number}: {key!r} is not a key (letters, digits and _)"
            canonical = key.lower()
            if canonical in meta:
                first = meta[canonical][0]
                return meta, f"line {number}: key {key!r} is given twice (also on line {first})"
            meta[canonical] = (number, match.group(2).strip())
            last = canonical
        elif last is not None and _CONTINUATION_RE.match(line):
            meta[last] = (meta[last][0], f"{meta[last][1]} {line.strip()}".strip())
        elif number == 1:
            shown = line.strip()[:40]
            return meta, f"line 1: the file does not start with a 'Key: value' header ({shown!r})"
        else:
            shown = line.strip()[:40]
            return meta, (
                f"line {number}: no colon in header line {shown!r} "
                "(a blank line must end the header)"
            )
    return meta, None


def _has_word(name: str) -> bool:
    """A name that gives a page address (Pelican's slug keeps letters and digits only)."""
    return any(char.isalnum() for char in name)


def check_text(text: str, *, story: bool = True) -> str | None:
    """Why a story's (or, with ``story=False``, a page's) text cannot be published, or None."""
    return _check_text(text, story)[0]


def _check_text(text: str, story: bool) -> tuple[str | None, dict[str, tuple[int, str]]]:
    """check_text's reason, and the header it read (all of it when the reason is None)."""
    if not text or text.isspace():  # as `not text.strip()`, without copying the text
        return "empty file", {}
    control = _CONTROL_RE.search(text)
    if control:
        line = _line_of(text, control.start())
        return (
            f"control character U+{ord(control.group()):04X} on line {line} "
            "(binary data? feeds cannot carry it)"
        ), {}
    meta, problem = _header(text)
    if problem:
        return problem, meta
    title = meta.get("title", (0, ""))[1]
    if not title:
        return "no Title", meta
    slug = meta.get("slug")
    if slug is not None:
        if not _SLUG_RE.match(slug[1]):
            return f"line {slug[0]}: Slug {slug[1]!r} may only have letters, digits, - and _", meta
    elif not title_slug(title).strip("-_"):
        return "the Title has no letter or digit to make an address of (add a Slug:)", meta
    for key in DATE_KEYS:
        found = meta.get(key.lower())
        if found is None:
            if key == "Date" and story:
                return "no Date", meta
            continue
        line, value = found
        date = parse_story_date(value)
        if date is None and re.match(r"^\d{5,}-", value):
            return (
                f"line {line}: {key} {value[:40]!r}: the year must be {MIN_YEAR}..{MAX_YEAR}",
                meta,
            )
        if date is None:
            return f"line {line}: {key} {value[:40]!r} is not an ISO 8601 date (2018-06-30)", meta
        if not MIN_YEAR <= date.year <= MAX_YEAR:
            return (
                f"line {line}: {key} {value[:40]!r}: the year must be {MIN_YEAR}..{MAX_YEAR}",
                meta,
            )
    status = meta.get("status")
    if status is not None and status[1] and status[1].lower() not in STATUSES:
        return (
            f"line {status[0]}: Status {status[1][:40]!r} must be one of "
            f"{', '.join(sorted(STATUSES))}"
        ), meta
    for key in TAXON_KEYS:
        found = meta.get(key.lower())
        if found is None:
            continue
        names = [found[1]] if key == "Source" else found[1].split(",")
        for name in names:
            if name.strip() and not _has_word(name):
                return f"line {found[0]}: {key}: {name.strip()[:40]!r} has no letter or digit", meta
    return None, meta


def check_bytes(raw: bytes, *, story: bool = True) -> str | None:
    """Why a story file's bytes cannot be published, or None when they can."""
    if len(raw) > MAX_STORY_BYTES:
        return f"{len(raw) // (1024 * 1024)} MB, larger than {MAX_STORY_BYTES // (1024 * 1024)} MB"
    text, problem = _decode(raw)
    if text is None:
        return problem
    return check_text(text, story=story)


def check_file(path: str | os.PathLike[str], *, story: bool = True) -> str | None:
    """Why a story file cannot be published (unreadable, invalid), or None when it can."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_STORY_BYTES + 1)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    return check_bytes(raw, story=story)


def _address(meta: dict[str, tuple[int, str]], story: bool) -> tuple[str, bool]:
    """Where a valid file's page goes (``news/YEAR/SLUG``), and whether it is published."""
    slug = meta.get("slug", (0, ""))[1] or title_slug(meta.get("title", (0, ""))[1])
    published = meta.get("status", (0, ""))[1].lower() in ("", "published")
    if not story:
        return f"pages/{slug}", published
    date = parse_story_date(meta.get("date", (0, ""))[1])
    return f"news/{date.year if date else '?'}/{slug}", published


def _walk(folder: str, rel: str, found: list[tuple[tuple[str, ...], str, str]]) -> None:
    """Add (path parts, relative path, path) of every ``*.md`` under ``folder`` to ``found``.

    What ``Path(folder).rglob("*.md")`` yields (files, folders and links named so; no folder
    entered through a link), less the names with a part that starts with a dot, with
    os.scandir: pathlib's glob cost more than a nightly's check of 20,000 unchanged files.
    """
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return  # as rglob: a folder that cannot be listed has no files
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue  # Pelican's IGNORE_FILES ".*" (and the crawler's temporary files)
        child = f"{rel}/{name}"
        if name.endswith(".md"):
            found.append((tuple(child.split("/")), child, entry.path))
        try:
            is_folder = entry.is_dir() and not entry.is_symlink()
        except OSError:
            continue
        if is_folder:
            _walk(entry.path, child, found)


def _files(content: Path) -> Iterable[tuple[str, str, bool]]:
    """(relative path, path, is a story) of every Markdown file Pelican would read."""
    for sub, story in ((settings.NEWS_SUBDIR, True), (settings.PAGES_SUBDIR, False)):
        folder = os.path.join(content, sub)
        if not os.path.isdir(folder):
            continue
        found: list[tuple[tuple[str, ...], str, str]] = []
        _walk(folder, sub, found)
        found.sort()  # by parts, as pathlib sorts paths: the first of two at one address stays
        for _parts, rel, path in found:
            yield rel, path, story


def _load_cache(path: Path | None) -> dict[str, list[object]]:
    return load_cache(path, ("version", CHECKS_VERSION), "files")


def _save_cache(path: Path | None, files: dict[str, list[object]]) -> None:
    # the next build checks every file again when it cannot be saved
    save_cache(path, ("version", CHECKS_VERSION), "files", files, "the story-check cache")


def _check_one(path: str, story: bool) -> tuple[str | None, str, bool]:
    """(reason or None, address, published) of one file, read once."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_STORY_BYTES + 1)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}", "", False
    if len(raw) > MAX_STORY_BYTES:
        return check_bytes(raw, story=story), "", False
    text, reason = _decode(raw)
    if text is None:
        return reason, "", False
    reason, meta = _check_text(text, story)
    if reason is not None:
        return reason, "", False
    address, published = _address(meta, story)
    return None, address, published


def _racy(entry: object) -> bool:
    """A cache entry its check marked to be read again (a ctime of -1), or not an entry."""
    return not isinstance(entry, list) or len(entry) != 7 or entry[2] == -1


def find_quarantine(
    content_dir: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    seeds: Iterable[str | os.PathLike[str]] = (),
) -> list[Quarantined]:
    """Every story and page file to leave out of the site and the index, with its reason.

    Each file is checked on its own (check_bytes); then, among the published ones, a second
    file at the address of another (same year and slug, as a copied file would be) is left
    out too: the one whose file name is its slug stays, else the first by path. With
    ``cache_dir`` the result per file is kept with its (size, mtime_ns, ctime_ns, inode), and a
    file whose four are the same is not read again. A change of contents changes the ctime
    (which no program can set back, unlike the mtime: an editor or a copy that keeps the old
    mtime, even at the same size, is caught) or, for a file replaced by a rename, the inode; a
    file whose ctime is within ``RACY_NS`` of the check is read again next time all the same.
    ``seeds``: other folders holding such a cache of the same content folder (another process
    of the same build checked the files already); their entries count as this cache's, under
    the same test of the four, and only this cache is written.
    """
    racy = time.time_ns() - RACY_NS
    content = Path(content_dir)
    cache_path = Path(cache_dir) / CACHE_FILE if cache_dir is not None else None
    own = _load_cache(cache_path)
    cache = dict(own)
    for seed in seeds:
        for rel, entry in _load_cache(Path(seed) / CACHE_FILE).items():
            # an entry marked to be read again (-1) gives way to one that is not
            if rel not in cache or _racy(cache[rel]):
                cache[rel] = entry
    fresh: dict[str, list[object]] = {}
    found: list[Quarantined] = []
    holders: dict[str, list[str]] = {}
    for rel, path, story in _files(content):
        try:
            stat = os.stat(path)
        except OSError as exc:
            found.append(Quarantined(rel, f"cannot be read: {exc.strerror or exc}"))
            continue
        stamp: list[object] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        cached = cache.get(rel)
        if isinstance(cached, list) and len(cached) == 7 and cached[:4] == stamp:
            reason, address, published = cached[4], str(cached[5]), bool(cached[6])
        else:
            reason, address, published = _check_one(path, story)
        if stat.st_ctime_ns >= racy:
            stamp[2] = -1  # may change within the same tick of the clock: read it next time
        fresh[rel] = [*stamp, reason, address, published]
        if reason:
            found.append(Quarantined(rel, str(reason)))
        elif published:
            holders.setdefault(address, []).append(rel)
    for address, rels in holders.items():
        if len(rels) < 2:
            continue
        slug = address.rsplit("/", 1)[-1]
        keep = next((rel for rel in rels if Path(rel).stem == slug), rels[0])
        for rel in rels:
            if rel != keep:
                found.append(Quarantined(rel, f"the same address as {keep} (give it its own Slug)"))
    if cache_path is not None and fresh != own:
        _save_cache(cache_path, fresh)
    return sorted(found, key=lambda q: q.path)
