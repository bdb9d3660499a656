"""The one door to Pelican's private names (and one of Python-Markdown's) the site stage uses.

Pelican has no public API for these; each is used here and nowhere else, and
tests/test_compat_pelican.py checks every one of them against the installed Pelican and
Markdown (pyproject.toml pins their ranges). When an upgrade breaks one, that test names it,
and this module is the one place to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markdown import Markdown
from pelican.readers import MarkdownReader
from pelican.writers import Writer

# Every private name used, what for, and who uses it (tests/test_compat_pelican.py).
PRIVATE_NAMES: dict[str, str] = {
    "Content._content": "a story's HTML as read: sanitised (csr_meta), hashed (incremental)",
    "Content._summary": "the sanitised summary (csr_meta)",
    "Content._context": "a cached story's build context, renewed each build (site.build)",
    "URLWrapper._from_settings": "a taxon's URLs, formatted once (csr_meta)",
    "URLWrapper._slug_from_name": "whether a taxon's slug comes from its name (incremental)",
    "MarkdownReader._parse_metadata": "metadata as Pelican's reader parses it (csr_reader)",
    "MarkdownReader._source_path": "the file being read, which _parse_metadata reads",
    "MarkdownReader._md": "the Markdown instance, which _parse_metadata reads",
    "ArticlesGenerator._build_period_archives": "year and month archives (csr_taxonomy)",
    "Generator._include_path": "which files a generator reads (quarantine)",
    "Generator._add_failed_source_path": "a file a generator failed on (quarantine)",
    "Writer._open_w": "where the writer writes a file (incremental)",
    "Writer._written_files": "files this build wrote (incremental)",
    "Writer._overridden_files": "files written over (incremental)",
    "markdown.util.Registry._priority": "a preprocessor's priority, to register it again",
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
