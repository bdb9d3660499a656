"""The one door to Pelican's private names (and one of Python-Markdown's) the site stage uses.

Pelican has no public API for these; each is used here and nowhere else, and
tests/test_compat_pelican.py checks every one of them against the installed Pelican and
Markdown (pyproject.toml pins their ranges). When an upgrade breaks one, that test names it,
and this module is the one place to change.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Collection, Iterator
from itertools import groupby
from operator import attrgetter
from typing import Any

from markdown import Markdown
from pelican import generators as pelican_generators
from pelican import utils as pelican_utils
from pelican.cache import FileStampDataCacher
from pelican.contents import Content
from pelican.readers import MarkdownReader
from pelican.utils import SafeDatetime, get_original_items, posixize_path
from pelican.writers import Writer

# Every private name used, what for, and who uses it (tests/test_compat_pelican.py).
PRIVATE_NAMES: dict[str, str] = {
    "Content._content": "a story's HTML as read: sanitised (csr_meta), hashed (incremental)",
    "Content._summary": "the sanitised summary (csr_meta)",
    "Content._context": "a cached story's build context, renewed each build (site.build)",
    "Content.get_content.cache": "Pelican's class-wide memo of stories' HTML, emptied when a "
    "build ends (site.build)",
    "URLWrapper._from_settings": "a taxon's URLs, formatted once (csr_meta)",
    "URLWrapper._slug_from_name": "whether a taxon's slug comes from its name (incremental)",
    "MarkdownReader._parse_metadata": "metadata as Pelican's reader parses it (csr_reader)",
    "MarkdownReader._source_path": "the file being read, which _parse_metadata reads",
    "MarkdownReader._md": "the Markdown instance, which _parse_metadata reads",
    "ArticlesGenerator._build_period_archives": "year and month archives (csr_taxonomy)",
    "Generator._include_path": "which files a generator reads (quarantine)",
    "Generator._add_failed_source_path": "a file a generator failed on (quarantine)",
    "FileStampDataCacher._get_file_stamp": "a story file's stamp, taken once a build for "
    "the generator's cache and its readers' (share_file_stamps)",
    "Writer._open_w": "where the writer writes a file (incremental)",
    "Writer._written_files": "files this build wrote (incremental)",
    "Writer._overridden_files": "files written over (incremental)",
    "markdown.util.Registry._priority": "a preprocessor's priority, to register it again",
    "pelican.generators.process_translations": "replaced while a site builds: Pelican's is "
    "quadratic in the number of stories (linear_translations)",
    "Generator._check_disabled_readers": "skipped while a site builds when no reader is "
    "disabled: a whole walk of the content for nothing (quick_dates_and_paths)",
}

# The attribute of a story that holds its build context (not an input of its pages).
CONTENT_CONTEXT_ATTR = "_context"


# -- stories (pelican.contents.Content) ------------------------------------------------------


def raw_html(content: Any) -> Any:
    """A story's HTML as the reader made it (before Pelican resolves intra-site links)."""
    return getattr(content, "_content", None)


def set_raw_html(content: Any, html: str) -> None:
    content._content = html


def set_summary_html(content: Any, html: str) -> None:
    content._summary = html


def set_context(content: Any, context: dict[str, Any]) -> None:
    """Give a story (from Pelican's generator cache) this build's context."""
    content._context = context


def forget_rendered_content() -> None:
    """Empty Pelican's memo of stories' HTML and summaries (``Content.get_content`` and
    ``get_summary`` are memoised for the whole class, by story and site URL).

    The memo outlives the build: it holds every story shown, and through their context the
    whole site, until the process ends (a long-lived process, such as the desk, kept it;
    the command's exit spent about 2 CPU-s at 20,000 stories freeing it module by module).
    """
    for name in ("get_content", "get_summary"):
        cache = getattr(Content.__dict__.get(name), "cache", None)
        if isinstance(cache, dict):
            cache.clear()


# -- taxonomy objects (pelican.urlwrappers.URLWrapper) ---------------------------------------


def url_setting(wrapper: Any, key: str, get_page_name: bool = False) -> str:
    """A wrapper's ``<KIND>_URL``/``_SAVE_AS`` formatted for it, as Pelican's properties do."""
    return str(wrapper._from_settings(key, get_page_name=get_page_name))


def slug_from_name(wrapper: Any) -> bool:
    """True when the wrapper's slug is made from its name (no slug was set explicitly)."""
    return bool(getattr(wrapper, "_slug_from_name", True))


# -- the Markdown reader ---------------------------------------------------------------------


class MarkdownReaderBase(MarkdownReader):
    """Pelican's MarkdownReader with its per-document state set through named methods."""

    def begin_document(self, source_path: str, md: Markdown) -> None:
        """What Pelican's read() sets before converting (its _parse_metadata reads both)."""
        self._source_path = source_path
        self._md = md

    def markdown(self) -> Markdown:
        return self._md

    def parse_metadata(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The metadata of the document being read, parsed as Pelican parses it."""
        return self._parse_metadata(meta)


def preprocessor_priority(md: Markdown, name: str) -> float:
    """The priority a Markdown preprocessor was registered with."""
    return float(next(item.priority for item in md.preprocessors._priority if item.name == name))


# -- generators ------------------------------------------------------------------------------


def period_archives_builder(generator: Any) -> Callable[..., Any] | None:
    """ArticlesGenerator's builder of year and month archives (unbound), if it has one."""
    return getattr(type(generator), "_build_period_archives", None)


def replace_period_archives(generator: Any, build: Callable[..., Any]) -> None:
    """Make this generator's period archives with ``build(sorted, articles, settings)``."""
    generator._build_period_archives = build


def source_path_hooks(generator: Any) -> tuple[Callable[..., bool], Callable[..., None]]:
    """The generator's ``include(path, extensions)`` and ``failed(path, static)``."""
    return generator._include_path, generator._add_failed_source_path


def set_source_path_hooks(
    generator: Any, include: Callable[..., bool], failed: Callable[..., None]
) -> None:
    """Decide which files the generator reads, and hear of each it fails on."""
    generator._include_path = include
    generator._add_failed_source_path = failed


def share_file_stamps(generator: Any) -> None:
    """generator_init: each story file's stamp (its mtime) taken once a build, not four times.

    Pelican asks for a file's stamp when the generator looks it up in its cache, when the
    reader looks it up in its own (off with CONTENT_CACHING_LAYER "generator": the stamp is
    thrown away), and when each of the two caches the story read: four stats of every story.
    Here the generator and its readers share one stamp per file, the one taken before the
    file was read (a file changed while it was read is read again by the next build).
    """
    readers = getattr(generator, "readers", None)
    if not isinstance(generator, FileStampDataCacher):
        return
    stamps: dict[str, Any] = {}
    unknown = object()

    def stamp_of(cacher: Any, path: str) -> Any:
        stamp = stamps.get(path, unknown)
        if stamp is unknown:
            stamp = stamps[path] = FileStampDataCacher._get_file_stamp(cacher, path)
        return stamp

    base = generator.path  # the generator names files relative to its folder (CachingGenerator)
    generator._get_file_stamp = lambda name: stamp_of(generator, os.path.join(base, name))
    if isinstance(readers, FileStampDataCacher):
        readers._get_file_stamp = lambda path: stamp_of(readers, path)


# -- the writer ------------------------------------------------------------------------------


class WriterBase(Writer):
    """Pelican's Writer with the file it opens and its bookkeeping reachable by name."""

    def _open_w(self, filename: str, encoding: str, override: bool = False) -> Any:
        return self.open_output(filename, encoding, override)

    def open_output(self, filename: str, encoding: str, override: bool = False) -> Any:
        """Open a file to write a page or feed to (override to redirect or skip it)."""
        return Writer._open_w(self, filename, encoding, override)

    def written_files(self) -> set[str]:
        """The files written so far in this build (Pelican refuses to write one twice)."""
        return self._written_files

    def overridden_files(self) -> set[str]:
        """The files written over on purpose (Pelican sends later writes to /dev/null)."""
        return self._overridden_files


# -- translations ----------------------------------------------------------------------------


def process_translations(
    content_list: list[Any], translation_id: str | Collection[str] | None = None
) -> tuple[list[Any], list[Any]]:
    """``pelican.utils.process_translations`` in linear time, with the same result.

    Pelican's ends with ``[x for x in content_list if x not in index]``: a scan of the list
    of originals for every story (about 200 million comparisons at 20k stories, 28% of a
    site build's samples). Stories compare by identity (Content has no ``__eq__``), so a set
    of ids answers the same. The grouping, the warnings and the order are Pelican's own
    (``get_original_items``); a fix for Pelican itself is the same one-line change.
    """
    if not translation_id:
        return content_list, []
    if isinstance(translation_id, str):
        translation_id = {translation_id}
    key = attrgetter(*translation_id)
    try:
        content_list.sort(key=key)
    except TypeError:
        raise TypeError(
            f"Cannot unpack {translation_id}, 'translation_id' must be falsy, a"
            " string or a collection of strings"
        ) from None
    except AttributeError:
        raise AttributeError(
            f"Cannot use {translation_id} as 'translation_id', there "
            "appear to be items without these metadata attributes"
        ) from None
    index: list[Any] = []
    for id_vals, grouped in groupby(content_list, key):
        values = (id_vals,) if len(translation_id) == 1 else id_vals
        with_str = "with" + ", ".join([' {} "{{}}"'] * len(translation_id)).format(
            *translation_id
        ).format(*values)
        items = list(grouped)
        index.extend(get_original_items(items, with_str))
        for item in items:
            item.translations = [x for x in items if x is not item]
    originals = {id(x) for x in index}
    return index, [x for x in content_list if id(x) not in originals]


@contextlib.contextmanager
def linear_translations() -> Iterator[None]:
    """While the block runs, Pelican's generators find translations in linear time."""
    original = pelican_generators.process_translations
    pelican_generators.process_translations = process_translations
    try:
        yield
    finally:
        pelican_generators.process_translations = original


# -- dates and paths -------------------------------------------------------------------------

_C89_DIRECTIVES = "aAbBcdfGHIjmMpSUuVwWxXyYzZ%"  # pelican.utils.strftime's
_FORMAT_OPTION = re.compile("%[-]?.")


@functools.lru_cache(maxsize=256)
def _parsed_format(date_format: str) -> tuple[str, tuple[tuple[str, bool | None], ...]]:
    """Pelican's reading of a date format: the template and, for each candidate, the
    directive to format and whether to strip its zeros (None: the candidate as it is)."""
    steps: list[tuple[str, bool | None]] = []
    for candidate in _FORMAT_OPTION.findall(date_format):
        if candidate[-1] in _C89_DIRECTIVES:
            dashed = len(candidate) == 3  # "%-d": zeros stripped
            steps.append((f"%{candidate[-1]}" if dashed else candidate, dashed))
        else:
            steps.append((candidate, None))
    return _FORMAT_OPTION.sub("%s", date_format), tuple(steps)


def strftime(date: Any, date_format: str) -> str:
    """``pelican.utils.strftime`` with each format read once: the same text.

    Pelican finds a format's directives with two regular expressions on every call; a build
    formats every story's date in its URLs, its page and its feed entries.
    """
    template, steps = _parsed_format(date_format)
    safe = isinstance(date, SafeDatetime)
    formatted = []
    for directive, strip in steps:
        if strip is None:
            formatted.append(directive)
            continue
        text = date.strftime(directive, safe=False) if safe else date.strftime(directive)
        formatted.append((text.lstrip("0") or "0") if strip else text)
    return template % tuple(formatted)


def relative_source_path(content: Any, source_path: str | None = None) -> str | None:
    """``Content.get_relative_source_path``, remembered for absolute paths (the same text).

    Pelican makes both paths absolute and relative again on each call, five times a story.
    """
    if not source_path:
        source_path = content.source_path
    if source_path is None:
        return None
    base = content.settings["PATH"]
    if isinstance(source_path, str) and isinstance(base, str):
        if os.path.isabs(source_path) and os.path.isabs(base):
            return _relative(base, source_path)
    return _PELICAN_RELATIVE(content, source_path)


_PELICAN_RELATIVE = Content.get_relative_source_path


@functools.cache  # emptied when the block of quick_dates_and_paths ends
def _relative(base: str, source_path: str) -> str:
    absolute = os.path.abspath(os.path.join(base, source_path))
    return posixize_path(os.path.relpath(absolute, os.path.abspath(base)))


@contextlib.contextmanager
def quick_dates_and_paths() -> Iterator[None]:
    """While the block runs, Pelican formats dates and finds stories' relative paths with
    the functions above (its own results, for less work), and looks for files of disabled
    readers only when a reader is disabled (check_disabled_readers)."""
    original_strftime = pelican_utils.strftime
    original_relative = Content.__dict__["get_relative_source_path"]
    original_check = pelican_generators.Generator.__dict__["_check_disabled_readers"]
    pelican_utils.strftime = strftime
    Content.get_relative_source_path = relative_source_path
    pelican_generators.Generator._check_disabled_readers = check_disabled_readers(original_check)
    try:
        yield
    finally:
        pelican_utils.strftime = original_strftime
        Content.get_relative_source_path = original_relative
        pelican_generators.Generator._check_disabled_readers = original_check
        _relative.cache_clear()


def check_disabled_readers(original: Callable[..., None]) -> Callable[..., None]:
    """Pelican's check for files that only a disabled reader could read, when there is one.

    Pelican walks each generator's folders once more to warn of such files (a ``.rst``
    story without docutils installed), even when every reader is enabled, as it is here:
    about 0.12 CPU-s and a walk of the content folder at 20,000 stories, for nothing.
    """

    @functools.wraps(original)
    def check(self: Any, paths: Any, exclude: Any) -> None:
        if self.readers.disabled_extensions:
            original(self, paths, exclude)

    return check
