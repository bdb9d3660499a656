"""Incremental site builds: render only the pages whose inputs changed since the last build.

Every file Pelican's writer makes (pages and feeds) gets a key: a hash of the build's code,
theme and settings, the template, the output name and the values of every variable the
template (with what it extends, includes and imports) can read. The keys go into a manifest
in the output folder. The next build seeds its staging folder with hard links to the previous
site's files, and a page whose key is unchanged is not rendered again; everything else is
rendered into a fresh file (the link is removed first, so the previous site is never written
to). Seeded files that this build no longer makes are removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pelican
from jinja2 import meta, nodes
from pelican import signals
from pelican.contents import Article, Content
from pelican.paginator import Page, Paginator
from pelican.urlwrappers import URLWrapper
from pelican.utils import sanitised_join

from csrnews.site import pelican_compat
from csrnews.site.pagination import StablePagesWriter
from csrnews.site.seeding import FORMAT, MANIFEST
from csrnews.story import codekey
from csrnews.story.atomicfile import replacing
from csrnews.story.codekey import code_of
from csrnews.story.jsoncache import load_cache, save_cache

logger = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent.parent  # csrnews/, the site plugins included
_ROOT = _PACKAGE.parent
# Context keys that are not inputs of a page (paths of this very build, the context itself).
_SETTINGS_SKIP = frozenset({"OUTPUT_PATH", "CACHE_PATH", "_ROOT"})
# A story's digest of what Pelican's reader cache holds of it, set just before the cache is
# saved and saved with it: (digest, the attributes it covers, whether its HTML links to other
# files). A story from the cache carries the digest of exactly what was read back.
CACHED_DIGEST = "csrnews_cached_digest"
# Attributes of a story object that are not inputs of its pages.
_CONTENT_SKIP = frozenset(
    {"settings", pelican_compat.CONTENT_CONTEXT_ATTR, "timezone", CACHED_DIGEST}
)
# Attributes Pelican sets again on every build, also on stories from its reader cache (from the
# other stories): never part of the cached digest, hashed every build like those the plugins
# set after the cache is saved (related stories, neighbours, top-10 badges).
_PER_BUILD = frozenset({"translations", "in_default_lang"})
_MAX_DEPTH = 6
# Pelican's intra-site link markers ({filename}x.md, |static|img.png ...), as its default
# INTRASITE_LINK_REGEX matches them.
_INTRASITE = re.compile(r"[{|](?:filename|static|attach|index|tag|category|author)[|}]")


@dataclass
class RenderCounts:
    """What the writer did in one build."""

    rendered: int = 0
    unchanged: int = 0
    removed: int = 0
    incremental: bool = False


def _h(*parts: str) -> str:
    """A short hash of the parts (NUL-separated; parts never hold NUL in practice)."""
    joined = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


def _pack(tag: str, parts: list[str]) -> str:
    """Small values stay readable strings (cheap); long ones are hashed."""
    text = f"{tag}({chr(31).join(parts)})"
    return text if len(text) <= 96 else _h(text)


def _stable(value: Any) -> str:
    """A representation of a settings value that is the same in every process."""
    if isinstance(value, Mapping):
        return (
            "{" + ",".join(f"{k!r}:{_stable(v)}" for k, v in sorted(value.items(), key=str)) + "}"
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return "[" + ",".join(_stable(v) for v in items) + "]"
    if callable(value):
        return f"<{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}>"
    return repr(value)


def _tree_digest(paths: Iterable[Path], key: Callable[[bytes], bytes] | None = None) -> str:
    """The files' names and contents (``key`` of their bytes, when given), in name order."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(paths):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(
                str(path.relative_to(_ROOT) if path.is_relative_to(_ROOT) else path).encode()
            )
            data = path.read_bytes()
            digest.update(data if key is None else key(data))
    return digest.hexdigest()


@functools.lru_cache(maxsize=1024)
def _module_key(source: bytes) -> bytes:
    """A module's code without comments, layout and docstrings (csrnews.story.codekey), hashed;
    remembered, so the build's second fingerprint parses nothing again."""
    return hashlib.blake2b(code_of(source), digest_size=16).digest()


# The modules' keys of the last build, in the cache folder (ModuleKeys).
MODULE_KEYS = "csrnews-module-keys.json"


class ModuleKeys:
    """Modules' keys (``_module_key``) by a hash of their bytes, kept in a file between builds:
    a build parses only the modules whose bytes changed since the last one (parsing every
    module of csrnews/ is about 0.3 CPU-s). The file is stamped with the Python version and
    the code of csrnews.story.codekey, which shape the keys."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp = ("format", f"1 {sys.version} {_codekey_source()}")
        self.known = load_cache(path, self._stamp, "modules")
        self.used: dict[str, str] = {}  # the keys this build asked for, the next build's file

    def __call__(self, source: bytes) -> bytes:
        name = hashlib.blake2b(source, digest_size=16).hexdigest()
        key = self.used.get(name) or self.known.get(name)
        try:
            digest = bytes.fromhex(key) if isinstance(key, str) else b""
        except ValueError:
            digest = b""
        if len(digest) != 16:  # not known (or not a key: a damaged file)
            digest = _module_key(source)
        self.used[name] = digest.hex()
        return digest

    def save(self) -> None:
        """Write the keys this build used, when they are not those of the file."""
        if self.used != self.known:
            save_cache(self.path, self._stamp, "modules", self.used, "the module keys")


@functools.cache
def _codekey_source() -> str:
    return hashlib.blake2b(Path(codekey.__file__).read_bytes(), digest_size=16).hexdigest()


def build_fingerprint(
    settings: Mapping[str, Any], *, theme: bool = True, modules: ModuleKeys | None = None
) -> str:
    """The part of every page's key that is the same for the whole build.

    The code of csrnews and its plugins, Pelican's version and the settings; with ``theme``
    also the theme's files and the top-10 lists (which plugins read beside the stories).
    Without it, the fingerprint of what Pelican's reader cache holds. The modules count by
    their syntax trees without docstrings (``code_of``): an edit of their comments, layout or
    docstrings alone renders no page again. ``modules``: their keys known from the last
    build (else each module is parsed).
    """
    files: list[Path] = []
    if theme:
        folder = Path(str(settings.get("THEME", ""))).resolve()
        if folder.is_dir():
            files += folder.rglob("*")
        top10 = Path(str(settings.get("PATH", ""))) / "top10"
        if top10.is_dir():
            files += top10.rglob("*")
    kept = {k: v for k, v in settings.items() if k not in _SETTINGS_SKIP}
    code = _tree_digest(_PACKAGE.rglob("*.py"), _module_key if modules is None else modules)
    return _h(
        str(FORMAT), str(theme), pelican.__version__, code, _tree_digest(files), _stable(kept)
    )


_MISSING = object()


def _holds_content(value: Any) -> bool:
    """A story or a list of stories: those count where they are shown, by their own digest."""
    return isinstance(value, Content) or (
        isinstance(value, (list, tuple)) and any(isinstance(v, Content) for v in value)
    )


def _readers(cls: type, names: Iterable[str]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """Of the names, those looked up in a story's own attributes (absent there: the story has
    no such value; None when the class computes attributes) and those read with getattr (the
    class defines them)."""
    names = list(names)
    if getattr(cls, "__getattr__", None) is not None:
        return None, frozenset(names)  # computed attributes: ask every time
    on_class = frozenset(name for name in names if hasattr(cls, name))
    return frozenset(names) - on_class, on_class


class Fingerprinter:
    """Hashes of the values templates read: stories, taxonomy objects, pages of a paginator."""

    def __init__(self, listed: frozenset[str] | None = None) -> None:
        self._memo: dict[int, str] = {}
        self._base_memo: dict[int, str] = {}
        self._full_memo: dict[int, str] = {}
        self._own_memo: dict[int, str] = {}
        self._alive: list[Any] = []  # memoised objects stay alive, so their ids stay theirs
        self._plans: dict[type, tuple[frozenset[str] | None, frozenset[str]]] = {}
        # The attributes templates can read from a story that is not the page's own (a list
        # item, a link); None: every attribute (a story in a feed shows its text).
        self.listed = listed

    @property
    def listed(self) -> frozenset[str] | None:
        return self._listed

    @listed.setter
    def listed(self, names: frozenset[str] | None) -> None:
        self._listed = names
        self._sorted_listed = sorted(names) if names is not None else []
        self._listed_key = listed_key(names) if names is not None else None
        self._plans = {}

    def share_own(self, other: Fingerprinter) -> None:
        """Use ``other``'s digests of stories' own attributes (the same in both)."""
        self._own_memo = other._own_memo

    def _remember(self, value: Any, digest: str) -> str:
        self._memo[id(value)] = digest
        self._alive.append(value)
        return digest

    def of_variable(self, value: Any) -> str:
        """A template variable: a story counts in full (its related stories, neighbours...)."""
        return self._content(value) if isinstance(value, Content) else self.of(value)

    def of(self, value: Any, depth: int = 0) -> str:
        """The hash of one value (stories inside other values count by their own content).

        Objects are remembered by identity for the rest of the build: the site's objects do
        not change while Pelican writes it (remembered objects are kept alive, so no other
        value can share their id).
        """
        kind = type(value)
        if kind is str:  # the commonest values, never remembered (their ids are not kept)
            return _h("s", value) if len(value) > 64 else repr(value)
        if kind is Article:
            known = self._base_memo.get(id(value))
            return known if known is not None else self._base(value)
        known = self._memo.get(id(value))
        if known is not None:
            return known
        if value is None or isinstance(value, (bool, int, float)):
            return repr(value)
        if isinstance(value, str):
            return _h("s", value) if len(value) > 64 else repr(value)
        if isinstance(value, (dt.datetime, dt.date)):
            return value.isoformat()
        if isinstance(value, Content):
            known = self._base_memo.get(id(value))
            # in a list or another object: its own text and metadata
            return known if known is not None else self._base(value)
        if depth > _MAX_DEPTH:
            digest = _h("deep", type(value).__name__, repr(value))
        elif isinstance(value, URLWrapper):
            # the slug comes from the name and the settings, unless one was set explicitly
            own_slug = "" if pelican_compat.slug_from_name(value) else str(value.slug)
            digest = _pack("w", [type(value).__name__, str(value.name), own_slug])
        elif isinstance(value, Page):
            # a page counts by its place and its stories, not by the number of pages after
            # it (lists are numbered from the oldest story: csrnews.site.pagination), so a
            # new story leaves the pages before the newest unchanged. Templates must not
            # print the paginator's totals (tests/test_site_pages.py checks the theme).
            digest = _h(
                "page",
                value.full_name,
                str(value.base_url),
                str(value.number),
                str(value.has_next()),
                self.of(value.object_list, depth + 1),
            )
        elif isinstance(value, Paginator):
            digest = _h(
                "paginator", value.name, str(value.url), str(value.num_pages), str(value.count)
            )
        elif isinstance(value, (list, tuple)):
            digest = _pack("l", self._items(value, depth + 1))
        elif isinstance(value, (set, frozenset)):
            digest = _h("set", *sorted(self.of(v, depth + 1) for v in value))
        elif isinstance(value, Mapping):
            items = sorted((str(k), self.of(v, depth + 1)) for k, v in value.items())
            digest = _pack("d", [f"{k}={v}" for k, v in items])
        elif isinstance(value, type) or callable(value):
            digest = _stable(value)
        elif hasattr(value, "__dict__"):
            fields = sorted((k, self.of(v, depth + 1)) for k, v in vars(value).items())
            digest = _h("o", type(value).__qualname__, *[f"{k}={v}" for k, v in fields])
        else:
            # Unknown objects: their repr, which holds an address when it is the default one,
            # so such a value never matches the previous build and the page is rendered (safe).
            digest = _h("r", type(value).__qualname__, repr(value))
        return self._remember(value, digest)

    def _items(self, values: Iterable[Any], depth: int) -> list[str]:
        """``of`` of each item; those already hashed (stories in lists: most) looked up inline."""
        memo, base = self._memo.get, self._base_memo.get
        out = []
        for value in values:
            key = id(value)  # memoised objects are kept alive: an id found is that object's
            known = memo(key)
            if known is None:
                known = base(key)
                if known is None:
                    known = self.of(value, depth)
            out.append(known)
        return out

    def _content(self, obj: Any) -> str:
        """A story or page in full: its text, metadata and every attribute plugins set on it.

        Other stories it points to (related, neighbours, translations) count by their own
        text and metadata only, so a change to a story re-renders the pages that show it.
        """
        known = self._full_memo.get(id(obj))
        if known is None:
            own = vars(obj)
            stamp = own.get(CACHED_DIGEST)
            if type(stamp) is tuple and len(stamp) in (3, 5):
                # what the stamp covers held no story when the cache saved it (and is as it was)
                names = sorted(own.keys() - stamp[1])
                parts = [self._own(obj, names)]
            else:
                names = list(own)
                parts = [self._own(obj)]
            for name in names:
                value = own[name]
                if isinstance(value, Content):
                    parts.append(f"{name}={self.of(value)}")
                elif isinstance(value, (list, tuple)):
                    for item in value:
                        if isinstance(item, Content):
                            parts.append(f"{name}={self.of(value)}")
                            break
            known = self._full_memo[id(obj)] = _h(*parts)
            self._alive.append(obj)
        return known

    def _base(self, obj: Any) -> str:
        """A story as a list or a link shows it: what templates read of it, or all it holds.

        With ``listed``, only those attributes count (its title, URL, date, summary... not its
        text or a Modified date no list shows), so an edit to a story's text re-renders its
        own page and its feeds, not every list and link that shows its title.
        """
        if self._listed is None:
            return self._own(obj)
        known = self._base_memo.get(id(obj))
        if known is not None:
            return known
        cls = type(obj)
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = _readers(cls, self._sorted_listed)
        own = vars(obj)
        parts = [cls.__name__]
        if plan[0] is not None:  # the listed names it holds, and those its class defines
            stamp = own.get(CACHED_DIGEST)
            if type(stamp) is tuple and len(stamp) == 5 and stamp[3] == self._listed_key:
                # the attributes the stamp covers were hashed when the cache was saved
                # (stamp_cached); the class's and those set since are hashed now
                parts.append(f"cached={stamp[4]}")
                present = sorted(plan[1].union((own.keys() - stamp[1]) & plan[0]))
            else:
                present = sorted(plan[1].union(own.keys() & plan[0]))
        else:  # computed attributes: ask for every name
            present = self._sorted_listed
        on_class = plan[1]
        for name in present:
            if name in on_class:
                try:
                    value = getattr(obj, name)
                except Exception:  # not an attribute of a story (a template reads it elsewhere)
                    continue
            else:
                value = own[name]
            if _holds_content(value):
                continue  # other stories count where they are shown, by their own digest
            if callable(value) and not isinstance(value, (str, type)):
                parts = [self._own(obj)]  # a method a template calls: cannot tell what it reads
                break
            parts.append(f"{name}={self.of(value, 1)}")
        digest = self._base_memo[id(obj)] = _h(*parts)
        self._alive.append(obj)
        return digest

    def _own(self, obj: Any, uncovered: list[str] | None = None) -> str:
        """A story's own attributes, all of them, not the stories it points to.

        Hashes the repr of its attributes (long strings, its text, by their bytes): fast, and
        stable for the values stories hold (strings, dates, lists, Pelican's categories and
        tags). A value whose repr holds a memory address only makes the page render every
        time, never go stale. A story from the reader cache brings the digest of what the
        cache holds of it (``stamp_cached``): only the attributes set since count again
        (``uncovered``: their names, sorted, when the caller has them).
        """
        memo = self._own_memo
        known = memo.get(id(obj))
        if known is not None:
            return known
        own = vars(obj)
        stamp = own.get(CACHED_DIGEST)
        if type(stamp) is tuple and len(stamp) in (3, 5):
            cached, covered, intrasite = stamp[:3]
            digest = hashlib.blake2b(b"cached:" + cached, digest_size=16)
            if uncovered is None:
                uncovered = sorted(own.keys() - covered)
            _hash_attributes(
                digest,
                [
                    (name, own[name])
                    for name in uncovered
                    if name not in _CONTENT_SKIP and not _holds_content(own[name])
                ],
            )
        else:
            digest = hashlib.blake2b(type(obj).__name__.encode(), digest_size=16)
            _hash_attributes(
                digest,
                sorted(
                    (name, value)
                    for name, value in own.items()
                    if name not in _CONTENT_SKIP and not _holds_content(value)
                ),
            )
            intrasite = _links_other_files(obj)
        if intrasite:
            # links to other files ({filename}...) resolve to their current URLs at render time
            _hash_attributes(digest, [("resolved_content", str(obj.content))])
        memo[id(obj)] = known = digest.hexdigest()
        self._alive.append(obj)
        return known


def _links_other_files(obj: Any) -> bool:
    raw = pelican_compat.raw_html(obj)
    return isinstance(raw, str) and _INTRASITE.search(raw) is not None


def _hash_attributes(digest: Any, items: Iterable[tuple[str, Any]]) -> None:
    for name, value in items:
        if type(value) is str and len(value) > 256:
            # long text by its bytes (its repr would copy and escape it first)
            digest.update(f"\x00{name}=s{len(value)}:".encode())
            digest.update(value.encode("utf-8", "surrogatepass"))
        else:
            digest.update(f"\x00{name}={value!r}".encode("utf-8", "surrogatepass"))


def stamp_cached(obj: Any, listed: frozenset[str] | None = None) -> None:
    """Give a story about to be saved in the reader cache the digest of what is saved.

    Every attribute but those Pelican sets again each build (``_PER_BUILD``) and those that
    are no input (``_CONTENT_SKIP``) or hold other stories; ``Fingerprinter._own`` hashes
    the rest (and whatever is set later) every build. With ``listed`` (the attributes the
    theme's lists read: ``TemplateInputs.listed``) also the part of the story's digest as a
    list shows it that these attributes make (``Fingerprinter._base``), with the names it
    was made for: a later build that lists the same names hashes only the rest.
    """
    own = vars(obj)
    items = sorted(
        (name, value)
        for name, value in own.items()
        if name not in _CONTENT_SKIP and name not in _PER_BUILD and not _holds_content(value)
    )
    digest = hashlib.blake2b(type(obj).__name__.encode(), digest_size=16)
    _hash_attributes(digest, items)
    covered = frozenset(name for name, _ in items)
    # one object for every story with the same attributes: pickled once in the reader cache
    covered = _COVERED.setdefault(covered, covered)
    stamp: tuple[Any, ...] = (digest.digest(), covered, _links_other_files(obj))
    listed_part = _listed_part(obj, covered, listed) if listed is not None else None
    if listed_part is not None:
        stamp += listed_part
    own[CACHED_DIGEST] = stamp


class _Uncacheable(Exception):
    """A value that cannot be hashed once for later builds (it holds another story)."""


class _StampFingerprinter:
    """``Fingerprinter.of`` for values kept in the reader cache: refuses stories inside them
    (another story's digest must be made in the build that shows it)."""

    def __init__(self) -> None:
        self._fp = Fingerprinter()
        self._fp._base = self._refuse  # type: ignore[method-assign]
        self._fp._own = self._refuse_own  # type: ignore[method-assign]

    @staticmethod
    def _refuse(obj: Any) -> str:
        raise _Uncacheable

    @staticmethod
    def _refuse_own(obj: Any, uncovered: list[str] | None = None) -> str:
        raise _Uncacheable

    def of(self, value: Any) -> str:
        return self._fp.of(value, 1)


def listed_key(listed: frozenset[str]) -> str:
    """The names a cached listed part was made for, as one short string (one object a set of
    names: pickled once in the reader cache)."""
    key = _LISTED_KEYS.get(listed)
    if key is None:
        key = _LISTED_KEYS[listed] = _h("listed", *sorted(listed))
    return key


_LISTED_KEYS: dict[frozenset[str], str] = {}


def _listed_part(
    obj: Any, covered: frozenset[str], listed: frozenset[str]
) -> tuple[str, str] | None:
    """(listed_key, digest) of the listed attributes the story holds itself and the stamp
    covers, as ``Fingerprinter._base`` hashes them; None when they cannot be kept."""
    cls = type(obj)
    in_own, _on_class = _readers(cls, listed)
    if in_own is None:
        return None
    own = vars(obj)
    fp = _StampFingerprinter()
    parts = []
    try:
        for name in sorted(in_own & covered & own.keys()):
            value = own[name]
            if callable(value) and not isinstance(value, (str, type)):
                return None  # a method a template calls: _base hashes the whole story
            parts.append(f"{name}={fp.of(value)}")
    except _Uncacheable:
        return None
    return listed_key(listed), _h("listed-part", *parts)


_COVERED: dict[frozenset[str], frozenset[str]] = {}


class TemplateInputs:
    """The variables a template can read, following extends, include and import."""

    def __init__(self) -> None:
        self._names: dict[str, frozenset[str] | None] = {}

    def names(self, template: Any) -> frozenset[str] | None:
        """Undeclared variables of the template and everything it pulls in; None: unknown."""
        name = template.name
        if name not in self._names:
            self._names[name] = self._collect(template.environment, name)
        return self._names[name]

    @staticmethod
    def listed(env: Any) -> frozenset[str] | None:
        """Every attribute a template of the theme reads, except of the page's own story.

        Names only, whatever object they are read from (more than needed, never less); in
        article.html and page.html the page's own ``article`` or ``page`` counts in full
        anyway. None when a template reads attributes by a name chosen at run time.
        """
        names: set[str] = set()
        for template in env.list_templates():
            if template.startswith("!"):  # Pelican's simple theme, which ours does not use
                continue
            try:
                ast = env.parse(env.loader.get_source(env, template)[0])
            except Exception:
                return None
            own = {"article.html": "article", "page.html": "page"}.get(template)
            for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Test)):
                if isinstance(node, (nodes.Filter, nodes.Test)):
                    if (
                        node.name == "attr"
                        and node.args
                        and not isinstance(node.args[0], nodes.Const)
                    ):
                        return None
                    for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
                        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                            names.update(arg.value.split("."))
                    continue
                target = node.node
                if own and isinstance(target, nodes.Name) and target.name == own:
                    continue
                if isinstance(node, nodes.Getattr):
                    names.add(node.attr)
                elif isinstance(node.arg, nodes.Const):
                    names.add(str(node.arg.value))
                elif not isinstance(target, nodes.Dict) and not isinstance(node.arg, nodes.Slice):
                    # {"a": ...}[key] and x[:3] read no attribute; x[name] may read any
                    return None
        return frozenset(names)

    @staticmethod
    def _collect(env: Any, name: str) -> frozenset[str] | None:
        seen: set[str] = set()
        names: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                source = env.loader.get_source(env, current)[0]
            except Exception:
                return None
            ast = env.parse(source)
            names |= meta.find_undeclared_variables(ast)
            for ref in meta.find_referenced_templates(ast):
                if ref is None:  # a template chosen at run time: cannot tell what it reads
                    return None
                todo.append(ref)
        return frozenset(names)


CACHE_CHANGED = "csrnews_cache_changed"  # a generator attribute: its reader cache must be saved
# A generator attribute: the stories of its reader cache changed this build (read, or changed
# after), or None when what changed is not known (the whole cache is saved then).
CACHE_DIRTY = "csrnews_cache_dirty"
# The reader cache is Pelican's pickle of every story (the base) and a journal beside it of
# the entries changed since the base was written, which each build that reads stories writes
# again whole, instead of the base: the base is written again (and the journal removed) when
# the journal holds more than a tenth of the entries. The base holds a token under TOKEN_KEY
# and the journal names it: a journal of another base is not used.
JOURNAL_SUFFIX = ".journal"
TOKEN_KEY = "\x00csrnews-journal-token"
_JOURNAL_MIN = 200


def mark_cache_changed(generator: Any, contents: Iterable[Any] | None = None) -> None:
    """Stories stored in the generator's reader cache changed (``contents``; None: unknown
    which): save the cache this build."""
    setattr(generator, CACHE_CHANGED, True)
    dirty = getattr(generator, CACHE_DIRTY, None)
    if contents is None or dirty is None:
        setattr(generator, CACHE_DIRTY, None)
    else:
        dirty.extend(contents)


_CONTEXT_ID = "csrnews-build-context"


class _JournalPickler(pickle.Pickler):
    """Pickles stories without the build's context they point to (every story of the site):
    the build that loads them gives them its own (``_JournalUnpickler``)."""

    def __init__(self, handle: Any, context: Any) -> None:
        super().__init__(handle)
        self.context = context

    def persistent_id(self, obj: Any) -> str | None:
        return _CONTEXT_ID if obj is self.context else None


class _JournalUnpickler(pickle.Unpickler):
    def __init__(self, handle: Any, context: Any) -> None:
        super().__init__(handle)
        self.context = context

    def persistent_load(self, pid: Any) -> Any:
        if pid != _CONTEXT_ID:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self.context


def load_journal(path: str | os.PathLike[str], context: Any) -> Any:
    """What a journal file holds, its stories given ``context`` as their build's context."""
    with open(path, "rb") as handle:
        return _JournalUnpickler(handle, context).load()


def _write_atomically(path: str, data: Any, context: Any = None) -> None:
    """Pickle ``data`` to ``path`` whole or not at all (a temporary file renamed over it);
    with ``context``, that object is left out (``_JournalPickler``)."""
    with replacing(path) as handle:
        if context is None:
            pickle.dump(data, handle)
        else:
            _JournalPickler(handle, context).dump(data)


class _Journal:
    """The entries of a generator's reader cache changed since its base was written."""

    def __init__(self, generator: Any) -> None:
        self.generator = generator
        cache = getattr(generator, "_cache", None)
        path = getattr(generator, "_cache_path", None)
        self.usable = isinstance(cache, dict) and isinstance(path, str)
        self.names: set[str] = set()
        if not (isinstance(cache, dict) and isinstance(path, str)):
            return
        self.path = path + JOURNAL_SUFFIX
        token = cache.get(TOKEN_KEY)
        if token is None:
            return
        try:
            data = load_journal(self.path, generator.context)
        except Exception:  # none yet, or unreadable: the base alone (its stamps still hold)
            return
        if isinstance(data, dict) and data.get("token") == token:
            entries = data.get("entries")
            if isinstance(entries, dict):
                cache.update(entries)
                self.names = set(entries)

    def save(self, dirty: list[Any] | None, save_whole: Callable[[], None]) -> None:
        """Write the journal with the entries of the ``dirty`` stories, or the whole cache."""
        if not self.usable:
            save_whole()
            return
        cache: dict[Any, Any] = self.generator._cache
        names = set(self.names)
        if dirty is not None and TOKEN_KEY in cache:
            where = {
                id(entry[1]): name
                for name, entry in cache.items()
                if type(entry) is tuple and len(entry) == 2
            }
            for content in dirty:
                name = where.get(id(content))
                if name is None:
                    dirty = None  # a story the cache does not hold: save it whole
                    break
                names.add(name)
        try:
            if (
                dirty is not None
                and TOKEN_KEY in cache
                and len(names) <= max(_JOURNAL_MIN, len(cache) // 10)
            ):
                entries = {name: cache[name] for name in sorted(names)}
                _write_atomically(
                    self.path,
                    {"token": cache[TOKEN_KEY], "entries": entries},
                    self.generator.context,
                )
                return
            cache[TOKEN_KEY] = os.urandom(16).hex()  # any journal left names another base
            _write_atomically(self.generator._cache_path, cache)
        except (OSError, pickle.PicklingError, TypeError) as exc:
            logger.warning("could not save the reader cache %s: %s", self.path, exc)
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def save_cache_when_changed(generator: Any) -> None:
    """Write the generator's reader cache back only when a story was read (or marked changed),
    and then only the changed entries (a journal beside Pelican's cache: ``_Journal``).

    Pelican pickles its whole cache (every story of the site) at the end of every build, also
    when every story came from the cache unchanged; at 20,000 stories that is half a second
    and tens of megabytes written for nothing.
    """
    setattr(generator, CACHE_CHANGED, False)
    setattr(generator, CACHE_DIRTY, [])
    cache_data, save_cache = generator.cache_data, generator.save_cache
    read: list[Any] = []  # stories read this build, to be saved in the cache
    journal = _Journal(generator)

    def cache_and_mark(filename: str, data: Any) -> None:
        mark_cache_changed(generator, [data])
        read.append(data)
        cache_data(filename, data)

    def save_if_changed() -> None:
        listed = TemplateInputs.listed(generator.env) if read else None
        for content in read:
            if isinstance(content, Content):
                stamp_cached(content, listed)
        read.clear()
        if getattr(generator, CACHE_CHANGED, True):
            if getattr(generator, "_cache_data_policy", False):
                journal.save(getattr(generator, CACHE_DIRTY, None), save_cache)
            else:
                save_cache()

    generator.cache_data = cache_and_mark
    generator.save_cache = save_if_changed


class Plan:
    """One build's decisions: which outputs to render and which to keep from the last build."""

    def __init__(self, fingerprint: str, previous: Mapping[str, str], seeded: set[str]) -> None:
        self.fingerprint = fingerprint
        self.previous = dict(previous)
        self.seeded = seeded
        self.keys: dict[str, str] = {}
        self.unchanged: set[str] = set()
        self.rendered: set[str] = set()
        self.pending_skip: set[str] = set()
        self.fp = Fingerprinter()  # pages: listed stories count by what templates read
        self.feed_fp = Fingerprinter()  # feeds: entries hold a story's text
        self.feed_fp.share_own(self.fp)  # a story's own digest is made once for both
        self._listed_known = False
        self.inputs = TemplateInputs()
        self._names: dict[str, tuple[tuple[str, str], ...] | None] = {}
        # each variable's last value and its text in a key (the same objects on many pages)
        self._last: dict[str, tuple[Any, str]] = {}

    def page_key(self, template: Any, localcontext: Mapping[str, Any]) -> str:
        """The key of one page about to be rendered."""
        if not self._listed_known:
            self.fp.listed = self.inputs.listed(template.environment)
            self._listed_known = True
        names = self._names.get(template.name)
        if names is None:
            read = self.inputs.names(template)
            names = _with_page(read) if read is not None else None
            self._names[template.name] = names
        parts = [self.fingerprint, "page", template.name, str(localcontext.get("output_file"))]
        last = self._last
        for n, paged in _with_page(localcontext) if names is None else names:
            # a paginated list counts through its page (items, number, count of pages)
            if n in localcontext and paged not in localcontext:
                value = localcontext[n]
                seen = last.get(n)
                if seen is None or seen[0] is not value:
                    # (the objects of a build do not change while it writes: Fingerprinter.of)
                    seen = last[n] = (value, f"{n}={self._variable(n, value)}")
                parts.append(seen[1])
        return _h(*parts)

    def _variable(self, name: str, value: Any) -> str:
        if isinstance(value, Page) and name.endswith(("_previous_page", "_next_page")):
            # the pager links to the pages before and after: their place, not their stories
            return _h("link", value.full_name, str(value.number), str(value.url))
        return self.fp.of_variable(value)

    def feed_key(self, path: str, elements: list[Any], extra: tuple[Any, ...]) -> str:
        """The key of one feed about to be written."""
        return _h(self.fingerprint, "feed", path, _stable(extra), self.feed_fp.of(list(elements)))

    def decide(self, name: str, key: str) -> bool:
        """Record the key; True when the seeded file from the last build can be kept."""
        name = os.path.normpath(name)
        # A second output of the same name (a page saved as index.html over the front page):
        # the manifest keeps only the last key, so neither write may be skipped.
        again = name in self.keys
        self.keys[name] = key
        if not again and name in self.seeded and self.previous.get(name) == key:
            self.unchanged.add(name)
            return True
        self.rendered.add(name)
        return False

    def keep_recorded(self, name: str, key: str) -> bool:
        """Keep the previous site's ``name`` without making its key again: ``key`` is the key
        an earlier build made and a caller recorded (csrnews.site.pagination). True (and the
        key recorded) when the seeded file is the previous site's under that key and nothing
        of this build has that name yet; False, and nothing recorded, otherwise."""
        name = os.path.normpath(name)
        if name in self.keys or name not in self.seeded or self.previous.get(name) != key:
            return False
        return self.decide(name, key)

    def key_made(self, name: str) -> str | None:
        """The key this build recorded for ``name`` (rendered or kept), if any."""
        return self.keys.get(os.path.normpath(name))

    def story_digest(self, story: Any) -> str:
        """A story's own digest: its text and metadata, what a page or feed shows of it."""
        return self.feed_fp.of(story)


def keyed(template: Any) -> tuple[Plan, Any] | None:
    """The plan and the Jinja template behind a template the incremental writer wraps."""
    if isinstance(template, _KeyedTemplate):
        return template.plan, template.template
    return None


def _with_page(names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Variable names, sorted, each with the name of its paginated list's page."""
    return tuple((n, f"{n}_page") for n in sorted(names))


def make_writer_class(plan: Plan) -> type:
    """A Pelican Writer that asks ``plan`` before rendering and never writes through a link."""

    class IncrementalWriter(StablePagesWriter):
        """Pelican's writer: skips unchanged pages, replaces (never rewrites) seeded files."""

        def _rel(self, path: str) -> str:
            root = os.path.join(self.output_path, "")
            if path.startswith(root) and os.path.normpath(path) == path:
                return path[len(root) :]  # the usual case, without relpath's two abspaths
            return os.path.normpath(os.path.relpath(path, self.output_path))

        def write_file(
            self, name: Any, template: Any, context: Any, *args: Any, **kwargs: Any
        ) -> Any:
            if name and not args and self._kept(name, template, context, kwargs):
                return None
            return super().write_file(
                name, _KeyedTemplate(template, plan), context, *args, **kwargs
            )

        def _kept(self, name: str, template: Any, context: Any, kwargs: dict[str, Any]) -> bool:
            """A page of one file (a story's) whose key is unchanged: keep the seeded file.

            What Pelican's writer does for such a page without rendering it (the context the
            template would get, the bookkeeping of written files, the content_written signal),
            without its folder checks, log line and file opening. Lists (which Pelican
            paginates) and relative URLs go through Pelican's writer.
            """
            if kwargs.get("relative_urls") or kwargs.get("paginated") is not None:
                return False
            if kwargs.get("template_name") or "articles" in kwargs or "dates" in kwargs:
                return False
            rel = os.path.normpath(str(name))
            if rel not in plan.seeded:
                # no file of the last build to keep (every page of a full build): rendered,
                # its key made and recorded once, as it renders (_KeyedTemplate)
                return False
            values = {k: v for k, v in kwargs.items() if k not in _WRITE_FILE_OPTIONS}
            localcontext = context.copy()
            localcontext["localsiteurl"] = localcontext.get("localsiteurl", None)
            localcontext["output_file"] = name
            localcontext.update(values)
            if not plan.decide(rel, plan.page_key(template, localcontext)):
                return False  # to be rendered: Pelican's writer decides again, the same way
            root = self.output_path
            if rel == name and os.path.isabs(root) and os.path.normpath(root) == root:
                # a seeded name is relative, normalised and inside (seed): what
                # sanitised_join makes of it, without its two abspaths
                path = root + os.sep + rel
            else:
                path = sanitised_join(root, name)
            if kwargs.get("override_output"):
                self.overridden_files().add(path)
            self.written_files().add(path)
            signals.content_written.send(path, context=localcontext)
            return True

        def write_feed(
            self,
            elements: Any,
            context: Any,
            path: Any = None,
            url: Any = None,
            feed_type: str = "atom",
            override_output: bool = False,
            feed_title: Any = None,
        ) -> Any:
            if path:
                items = list(elements[: self.settings["FEED_MAX_ITEMS"]])
                key = plan.feed_key(str(path), items, (url, feed_type, feed_title))
                if plan.decide(str(path), key):
                    # unchanged since the last build: keep its file, do not even build the feed
                    self.written_files().add(os.path.join(self.output_path, str(path)))
                    return None
            return super().write_feed(
                elements, context, path, url, feed_type, override_output, feed_title
            )

        def open_output(self, filename: str, encoding: str, override: bool = False) -> Any:
            rel = self._rel(filename)
            if rel in plan.pending_skip:
                plan.pending_skip.discard(rel)
                if override:
                    self.overridden_files().add(filename)
                self.written_files().add(filename)
                return contextlib.nullcontext(_NullText())
            redirected = filename in self.overridden_files()  # Pelican writes to /dev/null
            refused = filename in self.written_files() and not override  # Pelican raises
            if not (redirected or refused):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(filename)  # a link to the previous site's file: never rewrite it
            return super().open_output(filename, encoding, override)

    return IncrementalWriter


# Pelican's Writer.write_file options: everything else it passes to the template.
_WRITE_FILE_OPTIONS = frozenset(
    {"relative_urls", "paginated", "template_name", "override_output", "url"}
)


class _NullText(io.StringIO):
    """Where the bytes of a page kept from the last build go: nowhere."""

    def write(self, s: str) -> int:
        return len(s)


class _KeyedTemplate:
    """A Jinja template that renders only when the page's key changed."""

    def __init__(self, template: Any, plan: Plan) -> None:
        self.template = template
        self.plan = plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self.template, name)

    def render(self, *args: Any, **kwargs: Any) -> str:
        context = args[0] if args else kwargs
        name = context.get("output_file")
        if name:
            key = self.plan.page_key(self.template, context)
            if self.plan.decide(str(name), key):
                self.plan.pending_skip.add(os.path.normpath(str(name)))
                return ""
        return self.template.render(*args, **kwargs)


def finish(plan: Plan, staging: Path) -> RenderCounts:
    """Remove seeded files this build did not make, write the manifest, count."""
    made = plan.unchanged | plan.rendered
    stale = sorted(plan.seeded - made)
    for name in stale:
        path = staging / name
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        for parent in _parents_within(path.parent, staging):
            try:
                parent.rmdir()
            except OSError:
                break
    manifest = {"format": FORMAT, "fingerprint": plan.fingerprint, "keys": plan.keys}
    (staging / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
    return RenderCounts(
        rendered=len(plan.rendered),
        unchanged=len(plan.unchanged),
        removed=len(stale),
        incremental=bool(plan.seeded),
    )


def _parents_within(folder: Path, root: Path) -> Iterator[Path]:
    while folder != root and root in folder.parents:
        yield folder
        folder = folder.parent
