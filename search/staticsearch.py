"""The static search: Pagefind bundles built from the story files, for hosts without /api/search.

    python -m csrnews.search.staticsearch CONTENT SITE [--previous SITE]

Records go to Pagefind's indexing service (the binary of ``pagefind[extended]``, which segments
Chinese; spoken to over its pipes by csrnews.search.pagefindpipe), one record per story built
from the story file itself (title, summary, full text, event type, organisations, year,
language), never by parsing the built HTML pages. All records use one index language (``zh``):
Pagefind otherwise keeps one index per language and a search sees only the page's own, and
the Chinese segmenter leaves English words whole. This process imports neither Whoosh nor
numpy (csrnews.search.document makes the documents).

Pagefind holds every record of an index in memory and needs about 130 kB per story while it
writes the index (mostly for the records' text: the language, filters, metadata and sort key
change little). Its allocator (jemalloc, linked into the binary) keeps freed pages for ten
seconds. The service is started with ``_RJEM_MALLOC_CONF=PAGEFIND_MALLOC_CONF`` (freed pages
given back at once) unless the environment sets its own: on a shard of 3,600 stories its peak
goes from about 560 to 490 MB; ``dirty_decay_ms:1000`` gave 530 MB for about 5% more of its
CPU time (12% more page faults). Glibc's malloc settings (``MALLOC_ARENA_MAX`` and the like) and an
``LD_PRELOAD``-ed allocator change nothing: the binary is statically linked.

Pagefind's CPU time is its text too (measured on that shard alone, 2–4 runs each): about
0.4 ms a record to add it and 1.2 ms to write it, 4.3–4.7 user CPU-s in all, whatever else
was tried: jemalloc's ``narenas:1``, ``background_thread:true``, no purging at all
(``dirty_decay_ms:-1``), ``oversize_threshold:0`` (``tcache:false`` costs 30% more),
``RAYON_NUM_THREADS=1``, 16 or 256 records in flight, the records in another order, and (to
learn, since readers would see the difference) no title in the content or no organisation
filter. Its system time (0.6–2.6 s) follows the machine's load. Half of its 300,000 page
faults come from jemalloc zeroing the buffers of each fragment it deflates (64 kB callocs,
zeroed by MADV_DONTNEED): ``tcache_max:131072`` serves them from the thread cache (150,000
faults) but saves no CPU time that could be measured.

The stories are split into shards of at most SHARD_TARGET stories, fewer when they are long
(about SHARD_BYTES of story text a shard, which bounds Pagefind's memory), whole years
together, oldest first (a year larger than that is split by a hash of its file names), each
its own bundle under ``SITE/pagefind/<shard>/``, listed in ``SITE/pagefind/shards.json``; the
search page merges them in the browser (Pagefind's ``mergeIndex``). A shard whose story files
did not change since the previous site (same names and bytes, same record-making code) is
linked from there, not built again. The largest shards are built first: beside a full build
the site process grows as it works, so Pagefind's peaks come while it is still small.

A nightly (a build with the previous bundle and the cache folder's manifest) keeps the shards
as they are laid out and builds as few stories as it can, about as many every night (Pagefind
indexes a shard whole, about 1.2 ms a story: a night that built a 2,000-story shard again took
3 CPU-s more). Each unchanged story stays in the shard that holds it. New and changed stories
go to the open shard: the last a nightly made (``n1``, ``n2``, ...) while it holds fewer than
NIGHT_SHARE of the target (1,000 stories by default), else a new one; they are listed stale
where they were. A story waiting for its shard to be built goes to a small extra
shard, ``recent``, built each time it changes, while the shard is linked as it was;
shards.json lists, for each such shard, its stale entries (stories changed, moved, deleted,
hidden, quarantined or left out since it was built): their Pagefind result ids (fragment
names) and filter values. The search page drops those results before loading their data, one
copy for each shard that lists the id, and takes them off the total and the facet counts
(Pagefind counts each filter value over the results it returns), so no stale entry shows and
totals and facet counts are those of the hits shown. Against a fresh full build, each shard
scores with its own statistics (the order of equal hits may differ), and Pagefind skips a
query word a shard lacks (or takes its longest indexed prefix), so hits for words some shards
lack depend on the layout (docs/architecture.md, "The static search").

A shard is due a fold when its stale entries pass FOLD_SHARE of it, or its stories waiting
in the recent shard pass WAIT_SHARE of it (a new shard, or the open one once full, at once).
The most overdue are built again while the stories they hold stay within the night's budget
(by default NIGHT_SHARE of the target; a new shard's stories do not count, the recent shard
would hold them); the others wait. A due shard larger than NIGHT_SHARE of the target is split
instead: its first stories go to a new shard, the rest stay, listed stale there, until it is
split again or small enough to be built. A build with no previous bundle or manifest, or for
another shard target than the shards were built for, lays the shards out again (their
unchanged stories' fragments kept); ``csrnews build --full`` always does. The cache folder's
manifest says what each shard holds (story digests, URLs, fragment names, filter values), the
target it was built for, and which was built last (a story two shards hold belongs to it).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import itertools
import json
import logging
import math
import os
import re
import shutil
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csrnews.search.document import story_document
from csrnews.search.filemap import StatKey, StoryFile, scan_story_files, trusted_stat
from csrnews.search.pagefindpipe import PagefindError, PagefindPipe

from csrnews.story.codekey import code_of
from csrnews.story.jsoncache import load_cache, save_cache
from csrnews.story.storycheck import find_quarantine
from csrnews.story.storyfile import parse_story
from csrnews.story.vocabulary import event_type_label

logger = logging.getLogger(__name__)

FORMAT = 2  # bump when the records or the listing change: every shard is built again
BUNDLE_DIR = "pagefind"
SHARDS_FILE = "shards.json"
# Stories per shard at most. Pagefind needs about 60 MB and 130 kB a story while it writes a
# shard: at 4,000 a full build of 20,000 stories peaked at 734–777 MB, every process summed
# (the site's process beside the static search's), at 2,000 with PAGEFIND_MALLOC_CONF at
# 544 MB, within the 600 MB of a full build's budget (issue 20), for about twice the index
# bytes a query fetches in the browser (15 shards instead of 7: "supply chain" 333 → 687 kB).
SHARD_TARGET = 2000
# Story text a shard holds at most, in bytes of its story files and full-text sidecars (from
# their stat, nothing read). Pagefind's peak while it writes a shard grows with the shard's
# text (the bench's largest shard, 3,602 stories of 2.8 kB: 351 MB with half their text,
# 565 MB as they are, 754 MB with twice as much; 2,000 stories of twice the text: 437 MB), so
# long stories need fewer a shard. The bench's stories (2.8 kB) keep SHARD_TARGET.
SHARD_BYTES = 6_000_000
PAGEFIND_MALLOC_CONF = "dirty_decay_ms:0,muzzy_decay_ms:0"  # unless _RJEM_MALLOC_CONF is set
RECENT = "recent"  # the shard of the stories newer than their base shard's bundle
FOLD_SHARE = 0.1  # a shard is built again when its stale entries pass this share of it
WAIT_SHARE = 0.5  # or when its stories waiting in the recent shard pass this share of it
# A nightly builds no shard of more than this share of the target (new and changed stories go
# to shards of its own, "n1", "n2", ... of at most that many; a larger shard due to be built
# again is split into such shards, a part a night), and by default builds no more stories a
# night than that beside its new shards and the recent one: Pagefind indexes a shard whole,
# about 1.2 ms a story, so a night that built a 2,000-story shard again took 3 CPU-s more.
NIGHT_SHARE = 0.5
NIGHT_SHARD = re.compile(r"n([1-9][0-9]*)")  # the ids of the shards nightlies make
INDEX_LANGUAGE = "zh"
IN_FLIGHT = 64  # records sent to Pagefind before waiting for its answers
# What the browser needs of a bundle; Pagefind's own UI files are not used by the site.
_UNUSED = (
    "pagefind-ui.js",
    "pagefind-ui.css",
    "pagefind-modular-ui.js",
    "pagefind-modular-ui.css",
    "pagefind-component-ui.js",
    "pagefind-component-ui.css",
    "pagefind-highlight.js",
)
# The modules whose code shapes a record (record_of and what it calls; a test checks the list)
RECORD_MODULES = (
    "csrnews.search.staticsearch",
    "csrnews.search.filemap",
    "csrnews.search.document",
    "csrnews.story.schema",
    "csrnews.story.storyfile",
    "csrnews.story.urls",
    "csrnews.story.vocabulary",
)


class StaticSearchError(RuntimeError):
    """Pagefind is missing or failed; the site keeps the static search it had."""


@dataclass
class Shard:
    """Stories indexed together in one Pagefind bundle."""

    id: str
    files: list[StoryFile] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # doc_id: its files' digest (key())

    def key(self, digests: Digests | None = None) -> str:
        """Changes when a shard's story files (by content) or the record-making code change.

        ``digests``: the files' digests known by their stat (else each file is read)."""
        known = digests or Digests(None, None)
        digest = hashlib.blake2b(digest_size=16)
        digest.update(code_key().encode())
        for story in self.files:
            digest.update(f"{story.doc_id}\0".encode())
            content = known.of(story)
            self.digests[story.doc_id] = content.hex()
            digest.update(content)
        return digest.hexdigest()


def code_key() -> str:
    """What makes the records and their fragments besides the story files: the format, the
    Pagefind version and the code of RECORD_MODULES."""
    return f"{FORMAT}\0{pagefind_version()}\0{_record_code()}"


@functools.cache
def _record_code() -> str:
    digest = hashlib.blake2b(digest_size=16)
    for name in RECORD_MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        digest.update(f"{name}\0".encode())
        digest.update(code_of(Path(origin).read_bytes()) if origin else b"missing")
        digest.update(b"\0")
    return digest.hexdigest()


def _content_digest(story: StoryFile) -> tuple[bytes, bool]:
    """The bytes of a story file and its full-text sidecar, hashed: a checkout, a copy or a
    touch that changes no byte changes no key (a file's stat would); and whether both could
    be read."""
    digest = hashlib.blake2b(digest_size=16)
    readable = True
    for path in (story.file, story.sidecar_file):
        if path is None:
            continue
        try:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        except OSError as exc:  # read again (and reported) when the shard is built
            digest.update(f"unreadable {exc.errno} {story.stat}".encode())
            readable = False
        digest.update(b"\0")
    return digest.digest(), readable


DIGESTS_FILE = "static-search-digests.json"
DIGESTS_FORMAT = 1  # bump when _content_digest changes


class Digests:
    """The story files' digests (``_content_digest``), kept in the cache folder by each file's
    stat (``filemap.StatKey``: size, mtime, ctime and inode of the file and its sidecar), so
    a nightly reads only the files that are new or changed. A stat within the racy window of
    the scan (``filemap.trusted_stat``) is not kept: such a file is read again next time."""

    def __init__(self, path: Path | None, scanned_ns: int | None) -> None:
        self.path = path
        self.scanned_ns = scanned_ns  # when the files were listed (None: trust no stat)
        # by story id: its stat (8 ints, as trusted_stat keeps it), then its digest in hex
        self.known: dict[str, Any] = load_cache(path, ("format", DIGESTS_FORMAT), "files")
        self.now: dict[str, tuple[StatKey, bytes]] = {}
        self.read = 0  # files read (digest not known by their stat)

    def of(self, story: StoryFile) -> bytes:
        """The digest of a story's files, read only when its stat is not the known one."""
        now = self.now.get(story.doc_id)
        if now is not None and now[0] == story.stat:
            return now[1]
        kept = self.known.get(story.doc_id)
        if isinstance(kept, list) and len(kept) == 9 and kept[:8] == list(story.stat):
            try:  # compared as read: a malformed entry matches no stat, or fails here
                self.now[story.doc_id] = (story.stat, bytes.fromhex(kept[8]))
                return self.now[story.doc_id][1]
            except (ValueError, TypeError):
                pass
        digest, readable = _content_digest(story)
        self.read += 1
        if readable:
            self.now[story.doc_id] = (story.stat, digest)
        return digest

    def save(self) -> None:
        """Keep the digests of the files seen now (those of files gone are dropped)."""
        if self.path is None or self.scanned_ns is None:
            return
        files = {
            doc: [*trusted_stat(stat, self.scanned_ns), digest.hex()]
            for doc, (stat, digest) in self.now.items()
        }
        save_cache(self.path, ("format", DIGESTS_FORMAT), "files", files, "the digests cache")


@dataclass
class StaticSearchStats:
    """What one static-search build did."""

    stories: int = 0
    shards: int = 0
    built: int = 0  # shards built now
    indexed: int = 0  # stories given to Pagefind now (what a build's static search costs)
    folded: int = 0  # shards built again that the previous bundle had (not the recent shard)
    reused: int = 0  # shards linked from the previous site
    recent: int = 0  # stories in the recent shard (newer than their base shard's bundle)
    stale: int = 0  # stale entries of linked shards, listed for the search page to drop
    fragments_kept: int = 0  # fragments of unchanged stories in built shards, not written again
    files_read: int = 0  # story files read for their digest (new, changed or not cached)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pagefind_version() -> str:
    try:
        from importlib.metadata import version

        return version("pagefind")
    except Exception:  # not installed: found out when building
        return "none"


def _year_of(story: StoryFile) -> str:
    parts = story.doc_id.split("/")
    return parts[1] if len(parts) > 2 else "undated"


def stories_a_shard(
    files: Sequence[StoryFile], target: int = SHARD_TARGET, budget: int | None = None
) -> int:
    """How many stories a shard holds at most: ``target``, or fewer when the stories' mean
    size (story file and sidecar) would put more than ``budget`` bytes (SHARD_BYTES) in a
    shard.

    Lowered in steps of a factor of √2 from ``target`` (2,000, 1,414, 1,000, 707, ...), so a
    night's few new and changed stories, which move the mean a little, almost never change
    the layout (a change builds every shard it moves again, once)."""
    if not files:
        return target
    mean = sum(story.stat[0] + max(0, story.stat[4]) for story in files) / len(files)
    allowed = (SHARD_BYTES if budget is None else budget) / mean if mean > 0 else float(target)
    chosen, step = target, 0
    while chosen > allowed and chosen > 1:
        step += 1
        chosen = max(1, round(target / math.sqrt(2) ** step))
    return chosen


def plan_shards(files: Iterable[StoryFile], target: int = SHARD_TARGET) -> list[Shard]:
    """Whole years together up to ``target`` stories, oldest first; a larger year alone, split
    in parts by a hash of the file names. Adding stories to the newest year changes only the
    shards that hold it (stories_a_shard gives the target for the stories' size)."""
    by_year: dict[str, list[StoryFile]] = defaultdict(list)
    for story in files:
        by_year[_year_of(story)].append(story)
    shards: list[Shard] = []
    group: list[str] = []
    count = 0

    def close() -> None:
        nonlocal group, count
        if group:
            name = group[0] if len(group) == 1 else f"{group[0]}-{group[-1]}"
            shards.append(Shard(name, [s for year in group for s in by_year[year]]))
        group, count = [], 0

    for year in sorted(by_year):
        stories = by_year[year]
        if len(stories) > target:
            close()
            parts = -(-len(stories) // target)
            split: list[list[StoryFile]] = [[] for _ in range(parts)]
            for story in stories:
                bucket = int(hashlib.blake2b(story.doc_id.encode(), digest_size=4).hexdigest(), 16)
                split[bucket % parts].append(story)
            shards += [Shard(f"{year}.{i + 1}", part) for i, part in enumerate(split)]
            continue
        if count + len(stories) > target:
            close()
        group.append(year)
        count += len(stories)
    close()
    return shards


def record_of(story: StoryFile) -> dict[str, Any] | None:
    """The Pagefind record of one story file (None when hidden, untitled or undated)."""
    text = _read_text(story.file)
    fulltext = None
    if story.sidecar_file is not None:
        try:
            fulltext = _read_text(story.sidecar_file)
        except FileNotFoundError:
            fulltext = None
    # the scan says whether the story has a sidecar (and its stat is in the shard's key): no
    # Path made and no second look on the disk for each story
    doc = story_document(
        parse_story(text), story.doc_id, "", fulltext=fulltext, look_for_sidecar=False
    )
    if doc is None or "date" not in doc:
        return None
    organisations = [o for o in str(doc["organisations"]).split(",") if o]
    summary = str(doc.get("summary") or "")
    content = "\n".join(part for part in (str(doc["title"]), summary, str(doc["body"])) if part)
    date = doc["date"].date().isoformat()  # type: ignore[attr-defined]
    category = str(doc["category"])
    return {
        "url": str(doc["url"]).lstrip("/"),  # joined to the site's path by the search page
        "content": content,
        "language": str(doc["lang"]),
        "meta": {
            "title": str(doc["title"]),
            "date": date,
            "category": category,
            "category_label": event_type_label(category),
            "source": str(doc["source"]),
            "lang": str(doc["lang"]),
        },
        "filters": {
            "type": [category],
            "org": organisations,
            "year": [str(doc["year"])],
            "lang": [str(doc["lang"])],
        },
        "sort": {"date": date},
    }


def _read_text(path: str) -> str:
    """A file's text as Path.read_text(encoding="utf-8") gives it (``\\r\\n`` and ``\\r`` read
    as ``\\n``), without a text wrapper decoding it in steps."""
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def pagefind_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The Pagefind service's environment: this process's, with PAGEFIND_MALLOC_CONF for its
    allocator unless ``_RJEM_MALLOC_CONF`` is set there (an operator's choice wins)."""
    env = dict(environ)
    env.setdefault("_RJEM_MALLOC_CONF", PAGEFIND_MALLOC_CONF)
    return env


def _build_shard(shard: Shard, target: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """One bundle into ``target``; returns each record's URL and filter values by story id.

    Pagefind does not write a fragment file that is there already (its name is a hash of its
    content): fragments of unchanged stories linked into ``target`` beforehand are kept,
    not compressed and written again.
    """
    try:
        service = PagefindPipe(window=IN_FLIGHT, env=pagefind_environment(os.environ))
    except PagefindError as exc:
        raise StaticSearchError(
            f"Pagefind is not installed ({exc}); pip install 'pagefind[extended]', or build "
            "with --no-static-search"
        ) from exc
    urls: dict[str, tuple[str, dict[str, Any]]] = {}
    try:
        index = service.call({"type": "NewIndex", "config": {"force_language": INDEX_LANGUAGE}})
        index_id = index["index_id"]
        for story in shard.files:
            try:
                record = record_of(story)
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning("static search: %s left out: %s", story.doc_id, exc)
                continue
            if record is None:
                continue
            service.request({"type": "AddRecord", "index_id": index_id, **record})
            urls[story.doc_id] = (record["url"], record["filters"])
        service.wait()
        service.call({"type": "WriteFiles", "index_id": index_id, "output_path": str(target)})
        _written(target)
    except PagefindError as exc:
        raise StaticSearchError(str(exc)) from exc
    finally:
        service.close()
    for name in _UNUSED:
        (target / name).unlink(missing_ok=True)
    return urls


WRITE_WAIT = 60.0  # seconds Pagefind gets to end its writes after it answered


def _written(target: Path, wait: float = WRITE_WAIT) -> None:
    """Wait until the bundle Pagefind wrote into ``target`` is whole on disk.

    Pagefind answers WriteFiles before its last writes end, and PagefindService.close()
    terminates it at once: on a loaded machine a shard was left with an empty
    pagefind-entry.json (and wasm file), which no browser can load. Whole means: its entry
    file parses, the metadata file it names and a wasm file are there, no file is empty,
    and no size changed over the last look. Raises StaticSearchError after ``wait`` seconds.
    """
    deadline = time.monotonic() + wait
    last: dict[str, int] | None = None
    while True:
        sizes = _sizes(target)
        problem = _incomplete(target, sizes)
        if problem is None and sizes == last:
            return
        if time.monotonic() > deadline:
            raise StaticSearchError(f"Pagefind did not finish writing {target}: {problem}")
        last = sizes
        time.sleep(0.05)


def _sizes(folder: Path) -> dict[str, int]:
    """Every file's size under ``folder``, by its path relative to it."""
    sizes: dict[str, int] = {}
    pending = [(os.fspath(folder), "")]
    while pending:
        path, prefix = pending.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, f"{prefix}{entry.name}/"))
                    else:
                        try:
                            sizes[prefix + entry.name] = entry.stat().st_size
                        except OSError:  # replaced while listed: looked at again
                            sizes[prefix + entry.name] = 0
        except OSError:
            continue
    return sizes


def _incomplete(target: Path, sizes: dict[str, int]) -> str | None:
    """What is missing from a Pagefind bundle, or None when nothing is."""
    empty = sorted(name for name, size in sizes.items() if not size)
    if empty:
        return f"{len(empty)} empty files ({empty[0]}, ...)"
    try:
        entry = json.loads((target / "pagefind-entry.json").read_text(encoding="utf-8"))
        hashes = [str(language["hash"]) for language in entry["languages"].values()]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return f"pagefind-entry.json is not whole ({exc})"
    missing = [h for h in hashes if f"pagefind.{h}.pf_meta" not in sizes]
    if missing:
        return f"no metadata file for {missing[0]}"
    if not any(name.startswith("wasm.") and "/" not in name for name in sizes):
        return "no wasm file"
    return None


FRAGMENTS = "fragment"
FRAGMENT_SUFFIX = ".pf_fragment"
_FRAGMENT_PREFIX = b"pagefind_dcd"  # what Pagefind puts before the JSON in its gzip files
_FRAGMENT_URL = re.compile(rb'pagefind_dcd\{"url":("(?:[^"\\]|\\.)*")[,}]')


def fragment_url(path: str | os.PathLike[str]) -> str | None:
    """The URL a Pagefind fragment file is for (None when it cannot be read).

    The URL comes first in the fragment's JSON: only the start of the file is inflated,
    unless the URL is longer than that.
    """
    try:
        with open(path, "rb") as handle:
            packed = handle.read()
        start = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(packed, 1024)
        match = _FRAGMENT_URL.match(start)
        if match is not None:
            return str(json.loads(match.group(1)))
        raw = gzip.decompress(packed)
        if raw.startswith(_FRAGMENT_PREFIX):
            raw = raw[len(_FRAGMENT_PREFIX) :]
        return str(json.loads(raw)["url"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zlib.error):
        return None


def _seed_fragments(old_shard: Path, target: Path, urls: set[str]) -> dict[str, str]:
    """Link the previous build's fragments of ``urls`` (stories that did not change) into
    ``target``; returns the names linked, with their URLs."""
    seeded: dict[str, str] = {}
    try:
        entries = list(os.scandir(old_shard / FRAGMENTS))
    except OSError:
        return seeded
    (target / FRAGMENTS).mkdir(parents=True, exist_ok=True)
    for entry in entries:
        url = fragment_url(entry.path)
        if url is None or url not in urls:
            continue
        there = os.path.join(target, FRAGMENTS, entry.name)
        if not os.path.exists(there):  # the same fragment twice (two identical stories)
            _link_or_copy(entry.path, there)
        seeded[entry.name] = url
    return seeded


def _fragment_names(target: Path, seeded: dict[str, str]) -> dict[str, str]:
    """The fragment file name (Pagefind's result id) of each URL in a shard just built.

    A linked fragment for which Pagefind wrote another (a record that came out different
    after all, e.g. after a change of code) is removed.
    """
    names: dict[str, str] = {}
    try:
        entries = list(os.scandir(target / FRAGMENTS))
    except OSError:
        return names
    for entry in entries:
        if entry.name not in seeded and (url := fragment_url(entry.path)) is not None:
            names[url] = entry.name.removesuffix(FRAGMENT_SUFFIX)
    for name, url in seeded.items():
        if url in names:
            (target / FRAGMENTS / name).unlink(missing_ok=True)
        else:
            names[url] = name.removesuffix(FRAGMENT_SUFFIX)
    return names


def _link_tree(source: Path, target: Path) -> None:
    """A copy of a folder made of hard links (copies where links cannot be made)."""
    shutil.copytree(source, target, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _read_listing(bundle: Path) -> dict[str, dict[str, Any]]:
    """The previous bundle's shards.json entries by shard id (empty when unreadable)."""
    try:
        data = json.loads((bundle / SHARDS_FILE).read_text(encoding="utf-8"))
        return {str(s["id"]): s for s in data.get("shards", []) if isinstance(s, dict)}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _listed_count(entry: dict[str, Any]) -> int:
    """The stories a listed shard's bundle holds, its stale entries included."""
    try:
        return int(entry.get("stories", 0)) + len(entry.get("stale") or [])
    except (TypeError, ValueError):
        return 0


# A manifest entry's story: [files' digest, URL, fragment name, filter values]; URL and the
# rest are None for a story the shard has no record of (hidden, undated, unreadable).
_DIGEST, _URL, _FRAGMENT, _FILTERS = range(4)


def _usable(was: Any) -> bool:
    stories = was.get("stories") if isinstance(was, dict) else None
    return (
        isinstance(stories, dict)
        and isinstance(was.get("seq", 0), int)
        and all(
            isinstance(e, list) and len(e) == 4 and isinstance(e[_DIGEST], str)
            for e in stories.values()
        )
    )


@dataclass
class _Previous:
    """The previous bundle: its folder, its listing and the manifest entries that match it."""

    bundle: Path
    listing: dict[str, dict[str, Any]]
    valid: dict[str, dict[str, Any]]  # by shard folder: key and stories, as built
    digests: Digests  # the story files' digests known from the previous build


@dataclass
class _Plan:
    """What becomes of one shard in this build."""

    shard: Shard
    key: str
    action: str  # "link": as built; "delta": linked, with stale entries; "build"; "wait": new,
    # not built yet (its stories in the recent shard)
    was: dict[str, Any] | None = None  # its manifest entry, when linked
    stale: list[str] = field(default_factory=list)  # stories it holds out-of-date entries of
    pending: list[StoryFile] = field(default_factory=list)  # its stories the recent shard holds
    folder: str = ""  # its bundle's folder: the previous shard's it is linked from, else its id
    due: float = 0.0  # its stale (waiting) stories over FOLD_SHARE (WAIT_SHARE) of it; > 1: due
    again: bool = False  # built again: the previous bundle had it, or it is a part split off one

    def __post_init__(self) -> None:
        self.folder = self.folder or self.shard.id

    def fold(self) -> None:
        self.action, self.stale, self.pending, self.folder = "build", [], [], self.shard.id


def _plan(shard: Shard, previous: _Previous, fold_share: float) -> _Plan:
    """Link the shard as built when its files did not change, else link it with its stale
    entries listed (its changed stories to the recent shard; ``due`` says how far past its
    shares it is, for the caller to build it again); build it when it was not built before
    or ``fold_share`` is 0."""
    key = shard.key(previous.digests)
    folder = shard.id
    old = previous.listing.get(folder)
    if old is not None and old.get("key") == key and (previous.bundle / folder).is_dir():
        return _Plan(shard, key, "link", previous.valid.get(folder), folder=folder)
    was = previous.valid.get(folder)
    if was is None or fold_share <= 0:
        return _Plan(shard, key, "build")
    stories: dict[str, list[Any]] = was["stories"]
    now = shard.digests
    stale = sorted(d for d, e in stories.items() if e[_URL] is not None and now.get(d) != e[0])
    pending = [f for f in shard.files if (stories.get(f.doc_id) or [None])[0] != now[f.doc_id]]
    visible = sum(1 for e in stories.values() if e[_URL] is not None)
    if not stale and not pending:  # another key, yet the same digests: trust neither
        return _Plan(shard, key, "build")
    plan = _Plan(shard, key, "delta", was, stale, pending, folder)
    plan.due = (
        max(len(stale) / (fold_share * visible), len(pending) / (WAIT_SHARE * visible))
        if visible
        else math.inf
    )
    return plan


def _homes(previous: _Previous) -> dict[str, str]:
    """Story id: the shard of the previous bundle that holds it (the one built last, for a story
    a nightly moved out of a shard it split)."""
    homes: dict[str, str] = {}
    built = sorted((int(was.get("seq", 0)), shard_id) for shard_id, was in previous.valid.items())
    for _, shard_id in built:
        if shard_id != RECENT:
            homes.update(dict.fromkeys(previous.valid[shard_id]["stories"], shard_id))
    return homes


def _night_plans(
    files: list[StoryFile],
    previous: _Previous,
    fold_share: float,
    room: int,
    budget: int,
) -> list[_Plan]:
    """A nightly's shards: each unchanged story stays in the shard that holds it. New stories
    go to the open shard (the last a nightly made, n1, n2, ..., while it holds fewer than
    ``room`` stories), else to a new one, and so do the changed stories of the other shards
    (listed stale there); the open shard keeps its changed stories. Shards due a fold (and open ones
    that filled up with stories waiting) are built again, the most overdue first, while the
    stories they hold (but for new shards', which the recent shard would hold) stay within
    ``budget``; one larger than ``room`` is split instead: its first ``room`` stories go to a
    new shard, the rest stay, listed stale there until it is split again. A shard that is
    not open takes no stories, so it is built again only for its stale entries."""
    homes = _homes(previous)
    used = [*previous.valid, *previous.listing]
    counter = itertools.count(1 + max(map(_night_number, used), default=0))
    sizes: dict[str, int] = defaultdict(int)
    for home in homes.values():
        sizes[home] += 1
    # the open shard: the last a nightly made, while it has room (a shard that filled up is
    # not opened again for the holes its moved and deleted stories leave)
    last = max(previous.valid, key=_night_number, default="")
    opened = [last] if _night_number(last) and sizes[last] < room else []
    for story in files:  # a changed story leaves a shard that is not open (listed stale there)
        was_in = homes.get(story.doc_id)
        if was_in is not None and was_in not in opened:
            was = previous.valid[was_in]["stories"][story.doc_id][_DIGEST]
            if was != previous.digests.of(story).hex():
                del homes[story.doc_id]
    open_shards = itertools.chain(opened, (f"n{n}" for n in counter))
    shard_id = next(open_shards)
    for story in files:  # in the order they are listed, as every shard's files are
        if story.doc_id not in homes:
            while sizes[shard_id] >= room:
                shard_id = next(open_shards)
            homes[story.doc_id] = shard_id
            sizes[shard_id] += 1
    members: dict[str, list[StoryFile]] = defaultdict(list)
    for story in files:
        members[homes[story.doc_id]].append(story)
    order = [s for s in previous.listing if s in members] + sorted(
        (s for s in members if s not in previous.listing), key=_night_number
    )
    plans = []
    for shard_id in order:
        plan = _plan(Shard(shard_id, members[shard_id]), previous, fold_share)
        if plan.action == "build" and plan.was is None and shard_id not in previous.listing:
            # a new shard: its stories wait in the recent shard until it is built
            plan.action, plan.pending, plan.due = "wait", list(plan.shard.files), math.inf
        elif plan.pending and len(plan.shard.files) >= room:
            plan.due = math.inf  # full: its stories wait no more
        plans.append(plan)
    spent = sum(len(p.shard.files) for p in plans if p.action == "build")
    for plan in sorted((p for p in plans if p.due > 1), key=lambda p: -p.due):  # most overdue
        # a new shard's stories would be indexed in the recent shard anyway
        cost = 0 if plan.action == "wait" else min(len(plan.shard.files), room)
        if spent + cost > budget:  # waits: linked as it was, its changes in the recent shard
            continue
        spent += cost
        if len(plan.shard.files) <= room:
            plan.fold()
            continue
        part = Shard(f"n{next(counter)}", plan.shard.files[:room])
        rest = Shard(plan.shard.id, plan.shard.files[room:])
        plans[plans.index(plan)] = _plan(rest, previous, fold_share)
        plans.append(_Plan(part, part.key(previous.digests), "build", again=True))
    return plans


def _night_number(shard_id: str) -> int:
    found = NIGHT_SHARD.fullmatch(shard_id)
    return int(found.group(1)) if found else 0


def _clashes(staging: Path, plans: list[_Plan], listed: list[str]) -> list[_Plan]:
    """Linked shards whose stale entries the search page could not tell from live ones.

    The page drops results by id (a fragment name is a short hash of the fragment), one copy
    for each shard that lists the id stale: a stale id must name no fragment of another shard
    but the very same fragment (a story whose file changed but not its record, or one moved
    to another shard when a nightly split its shard).
    """
    names = {}
    for shard_id in listed:
        try:
            names[shard_id] = set(os.listdir(staging / shard_id / FRAGMENTS))
        except OSError:
            names[shard_id] = set()
    clashing = []
    for plan in plans:
        if plan.action != "delta" or plan.was is None:
            continue
        for doc in plan.stale:
            name = plan.was["stories"][doc][_FRAGMENT]
            if not isinstance(name, str) or not name:
                clashing.append(plan)
                break
            file = name + FRAGMENT_SUFFIX
            others = [s for s in listed if s != plan.folder and file in names[s]]
            if not all(_same_file(staging, plan.folder, s, file) for s in others):
                clashing.append(plan)
                break
    return clashing


def _same_file(staging: Path, one: str, other: str, file: str) -> bool:
    try:
        a = (staging / one / FRAGMENTS / file).read_bytes()
        return a == (staging / other / FRAGMENTS / file).read_bytes()
    except OSError:
        return False


def build_static_search(
    content_dir: str | os.PathLike[str],
    site_dir: str | os.PathLike[str],
    *,
    previous: str | os.PathLike[str] | None = None,
    leave_out: Iterable[str] = (),
    target: int = SHARD_TARGET,
    cache_dir: str | os.PathLike[str] | None = None,
    fold_share: float = FOLD_SHARE,
    fold_budget: int | None = None,
) -> StaticSearchStats:
    """Build (or bring up to date) SITE/pagefind/ from the story files under CONTENT.

    Shards whose files did not change since ``previous`` (a site built before; default the
    site itself) are linked from it. The new bundle folder replaces the old one with two
    renames, so a live site always has a whole bundle. Story files csrnews.story.storycheck
    quarantines, and those in ``leave_out``, are not indexed. Raises StaticSearchError when
    Pagefind is missing or fails (the site's bundle is then as it was).

    With ``cache_dir`` (a folder of its own, kept between builds) the story checks of
    unchanged files are read from a cache rather than made again, and so are the digests of
    the story files whose stat did not change (``DIGESTS_FILE``); ``MANIFEST_FILE`` there says
    what each shard of the previous bundle holds (for the shards whose keys its
    ``shards.json`` still lists). The shards then keep their stories (the module's
    docstring says how): a shard is linked with its stale entries listed, its changed
    stories waiting in the recent shard, until its stale entries pass ``fold_share`` of it
    (or its waiting stories WAIT_SHARE); then it is built again within ``fold_budget``
    stories a night (default NIGHT_SHARE of ``target``). A shard built again gets the
    fragments of its unchanged stories linked from the previous bundle first, which Pagefind
    then does not compress and write again.
    """
    started = time.monotonic()
    content, site = Path(content_dir), Path(site_dir)
    old_bundle = Path(previous or site) / BUNDLE_DIR
    skip = set(leave_out) | {q.path for q in find_quarantine(content, cache_dir=cache_dir)}
    scanned_ns = time.time_ns()
    files = [f for f in scan_story_files(content) if f.doc_id not in skip]
    digests = Digests(Path(cache_dir) / DIGESTS_FILE if cache_dir is not None else None, scanned_ns)
    old_listing = _read_listing(old_bundle)
    manifest_path = Path(cache_dir) / MANIFEST_FILE if cache_dir is not None else None
    before = _read_manifest(manifest_path)
    # the manifest's entries for the shards the previous bundle holds as they were built
    valid = {
        shard_id: was
        for shard_id, was in before.items()
        if _usable(was)
        and shard_id in old_listing
        and was.get("key") == old_listing[shard_id].get("key")
        and (old_bundle / shard_id).is_dir()
    }
    # story id: (shard, digest, URL) of each record the previous bundle holds
    previously: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for old_id, was in valid.items():
        for doc, entry in was["stories"].items():
            if entry[_URL] is not None:
                previously[doc].append((old_id, str(entry[_DIGEST]), str(entry[_URL])))
    previous_bundle = _Previous(old_bundle, old_listing, valid, digests)
    size = stories_a_shard(files, target)
    # a shard target other than the one the shards were built for: laid out again (their
    # unchanged stories' fragments kept)
    laid_out = all(was.get("target") == target for was in valid.values())
    if valid and fold_share > 0 and laid_out:
        room = max(1, math.floor(size * NIGHT_SHARE))
        budget = room if fold_budget is None else fold_budget
        plans = _night_plans(files, previous_bundle, fold_share, room, budget)
    else:
        plans = [_plan(shard, previous_bundle, 0) for shard in plan_shards(files, size)]
    seq = 1 + max((int(was.get("seq", 0)) for was in valid.values()), default=0)
    stats = StaticSearchStats()
    after: dict[str, Any] = {}
    listing: dict[str, dict[str, Any]] = {}
    staging = site / f".{BUNDLE_DIR}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    def build(shard: Shard, key: str) -> int:
        logger.info("static search: building shard %s (%d files)", shard.id, len(shard.files))
        # unchanged stories' fragments, from the shards they were in before
        same: dict[str, set[str]] = defaultdict(set)
        for doc, digest in shard.digests.items():
            for old_id, was_digest, url in previously.get(doc, ()):
                if was_digest == digest:
                    same[old_id].add(url)
                    break
        seeded: dict[str, str] = {}
        for old_id, urls_there in same.items():
            seeded |= _seed_fragments(old_bundle / old_id, staging / shard.id, urls_there)
        records = _build_shard(shard, staging / shard.id)
        names = _fragment_names(staging / shard.id, seeded)
        stats.built += 1
        stats.indexed += len(records)
        stats.fragments_kept += len(seeded)
        stories: dict[str, list[Any]] = {}
        for story in shard.files:
            found = records.get(story.doc_id)
            entry: list[Any] = [shard.digests[story.doc_id], None, None, None]
            if found is not None:
                entry[_URL:] = [found[0], names.get(found[0]), found[1]]
            stories[story.doc_id] = entry
        after[shard.id] = {"key": key, "stories": stories, "seq": seq, "target": target}
        return len(records)

    try:
        while True:
            # Largest first: Pagefind's memory peaks as it writes a shard, and the site a full
            # build makes beside it holds more the longer it runs (the listing keeps its order).
            for plan in sorted(plans, key=lambda p: len(p.shard.files), reverse=True):
                shard_id = plan.shard.id
                if shard_id in listing:
                    continue
                if plan.action == "build":
                    stats.folded += plan.again or shard_id in old_listing
                    count = build(plan.shard, plan.key)
                    listing[shard_id] = {"id": shard_id, "key": plan.key, "stories": count}
                    continue
                if plan.action == "wait":
                    continue
                _link_tree(old_bundle / plan.folder, staging / plan.folder)
                stats.reused += 1
                if plan.was is not None:  # a shard linked as it was fits the layout now
                    after[plan.folder] = {**plan.was, "target": target}
                listing[shard_id] = _linked_entry(plan, old_listing[plan.folder])
            pending = sorted((f for p in plans for f in p.pending), key=lambda f: f.doc_id)
            recent_entry = _recent(pending, previous_bundle, staging, build)
            if recent_entry is None:
                after.pop(RECENT, None)
            else:
                if recent_entry["stories"] is None:  # linked as it was
                    stats.reused += 1
                    after[RECENT] = valid[RECENT]
                    recent_entry["stories"] = _listed_count(old_listing[RECENT])
                listing[RECENT] = recent_entry
            clashing = _clashes(staging, plans, [entry["id"] for entry in listing.values()])
            if not clashing:
                break
            for plan in clashing:
                logger.info("static search: shard %s built again (ids clash)", plan.shard.id)
                stats.reused -= 1
                del listing[plan.shard.id]
                after.pop(plan.folder, None)
                shutil.rmtree(staging / plan.folder)
                plan.fold()
            listing.pop(RECENT, None)
            after.pop(RECENT, None)
            shutil.rmtree(staging / RECENT, ignore_errors=True)
        shards = [listing[p.shard.id] for p in plans if p.shard.id in listing] + (
            [listing[RECENT]] if RECENT in listing else []
        )
        stats.shards = len(shards)
        stats.stories = sum(int(s["stories"]) for s in shards)
        stats.recent = int(listing[RECENT]["stories"]) if RECENT in listing else 0
        stats.stale = sum(len(s.get("stale", ())) for s in shards)
        manifest = {"format": FORMAT, "language": INDEX_LANGUAGE, "shards": shards}
        (staging / SHARDS_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _swap(staging, site / BUNDLE_DIR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_manifest(manifest_path, after)
    digests.save()
    stats.files_read = digests.read
    stats.seconds = time.monotonic() - started
    return stats


def _linked_entry(plan: _Plan, old: dict[str, Any]) -> dict[str, Any]:
    """The listing entry of a shard linked from the previous bundle: its stale entries' result
    ids and filter values, for the search page to drop."""
    entry: dict[str, Any] = {"id": plan.folder, "key": plan.key, "stories": _listed_count(old)}
    if plan.action == "delta" and plan.was is not None:
        stories = plan.was["stories"]
        entry["key"] = plan.was["key"]  # what the bundle was built from
        entry["stories"] -= len(plan.stale)
        entry["stale"] = [[stories[d][_FRAGMENT], stories[d][_FILTERS]] for d in plan.stale]
    return entry


def _recent(
    pending: list[StoryFile], previous: _Previous, staging: Path, build: Any
) -> dict[str, Any] | None:
    """The recent shard's listing entry (``stories`` None when it is linked as it was), or
    None when no story waits in it."""
    if not pending:
        return None
    shard = Shard(RECENT, pending)
    key = shard.key(previous.digests)
    old = previous.listing.get(RECENT)
    if old is not None and old.get("key") == key and RECENT in previous.valid:
        _link_tree(previous.bundle / RECENT, staging / RECENT)
        return {"id": RECENT, "key": key, "stories": None}
    count = build(shard, key)
    if not count:  # none of them has a record (hidden): no shard
        shutil.rmtree(staging / RECENT, ignore_errors=True)
        return None
    return {"id": RECENT, "key": key, "stories": count}


MANIFEST_FILE = "static-search-shards.json"


def _read_manifest(path: Path | None) -> dict[str, Any]:
    """What the cache folder says of each shard built before: its key, the shard target it was
    built for, and by story id, the story files' digest and the record's URL (an empty dict
    when there is none or the code changed: nothing is reused then)."""
    return load_cache(path, ("code", code_key()), "shards")


def _write_manifest(path: Path | None, shards: dict[str, Any]) -> None:
    # when it cannot be saved, the next build writes every fragment again
    save_cache(path, ("code", code_key()), "shards", shards, "the static search's manifest")


def _swap(staging: Path, bundle: Path) -> None:
    old = bundle.with_name(f".{bundle.name}.old-{os.getpid()}-{time.time_ns()}")
    if bundle.exists():
        os.replace(bundle, old)
    os.replace(staging, bundle)
    shutil.rmtree(old, ignore_errors=True)


def carry_over(previous_site: Path, site: Path) -> bool:
    """Link the previous site's bundle into a new site (until the new one is built)."""
    source = previous_site / BUNDLE_DIR
    if not (source / SHARDS_FILE).is_file() or (site / BUNDLE_DIR).exists():
        return False
    _link_tree(source, site / BUNDLE_DIR)
    return True


def main(argv: list[str] | None = None) -> int:
    """The command line of the child process: JSON statistics on stdout, or a one-line error."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m csrnews.search.staticsearch",
        description=__doc__.splitlines()[0]
        + " Prints the bundle's statistics as one line of JSON.",
        epilog="How the shards are built, kept and folded: this module's docstring "
        "(python -c 'import csrnews.search.staticsearch as m; help(m)').",
    )
    parser.add_argument("content", help="the content folder (story files under news/)")
    parser.add_argument("site", help="the built site: the bundle goes to SITE/pagefind/")
    parser.add_argument(
        "--previous",
        default=None,
        help="a previous site whose unchanged shards are linked, not built again "
        "(default: SITE itself)",
    )
    parser.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="PATH",
        help="a story file (relative to CONTENT) to leave out; may be repeated",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="a folder kept between builds: story checks and what lets a shard built again "
        "keep its unchanged stories' fragments",
    )
    parser.add_argument(
        "--shard-target",
        type=int,
        default=SHARD_TARGET,
        help="stories per shard at most (Pagefind's memory: about 60 MB and 0.13 MB a story); "
        "every build of a site must use the same, or its shards are built again",
    )
    args = parser.parse_args(argv)
    if args.shard_target < 1:
        parser.error("--shard-target must be at least 1")
    try:
        stats = build_static_search(
            args.content,
            args.site,
            previous=args.previous,
            leave_out=args.leave_out,
            target=args.shard_target,
            cache_dir=args.cache_dir,
        )
    except (StaticSearchError, OSError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(stats.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
