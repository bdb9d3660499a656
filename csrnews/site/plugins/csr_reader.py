"""A Markdown reader that builds its Markdown parser once per build instead of once per story.

Pelican's MarkdownReader makes a new ``markdown.Markdown`` for every file: it loads and
registers every extension again (about a third of the cost of reading a short story). This
reader keeps one instance and calls ``reset()`` between documents, as Python-Markdown
documents for converting many texts; the settings (``MARKDOWN``) and the output are the same.

Three shortcuts give the same output for less work:

- texts that no inline pattern can match (no backtick, backslash, bracket, ``<``, ``&``,
  ``*``, ``_`` or hard line break) are marked atomic before the inline processor runs, which
  would otherwise try every pattern on each of them (``PlainText``);
- a one-line summary that is plain text (``plain_paragraph``) becomes ``<p>text</p>``
  without a second Markdown conversion per story;
- an ISO 8601 date with seconds and an offset, or a date alone (what story files hold), is
  read directly instead of by dateutil's general parser, to the same value and time zone.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from dateutil import tz
from markdown import Markdown
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import AtomicString
from pelican import signals
from pelican.readers import MarkdownReader
from pelican.utils import SafeDatetime, pelican_open

from csrnews.site import pelican_compat

logger = logging.getLogger(__name__)

# The inline patterns Python-Markdown registers by itself (3.6 to 3.11) and what each needs
# in a text to match: a backtick or backslash (backtick, escape), "[" (links, images,
# references), "<" (autolink, automail, html), "&" (entity), "*" or "_" (emphasis), two
# spaces before a line break (linebreak). A text with none of these is left as it is.
STOCK_INLINE_PATTERNS = frozenset(
    {
        "backtick",
        "escape",
        "reference",
        "link",
        "image_link",
        "image_reference",
        "short_reference",
        "short_image_ref",
        "autolink",
        "automail",
        "linebreak",
        "html",
        "entity",
        "not_strong",
        "em_strong",
        "em_strong2",
    }
)
STOCK_TREEPROCESSORS = frozenset({"inline", "prettify", "unescape"})
# \x02 and \x03 delimit Markdown's placeholders: texts holding one go the usual way too.
INLINE_SYNTAX = re.compile(r"[`\\\[<&*_\x02\x03]|  \n")


class PlainText(Treeprocessor):
    """Mark texts and tails that no stock inline pattern can match as atomic.

    The inline processor skips atomic texts; it would try each of its patterns on them and
    leave them as they are. Runs just before it (priority 20.5 against its 20).
    """

    def run(self, root: Any) -> None:
        search = INLINE_SYNTAX.search
        for element in root.iter():
            text = element.text
            if text and not isinstance(text, AtomicString) and search(text) is None:
                element.text = AtomicString(text)
            tail = element.tail
            if tail and not isinstance(tail, AtomicString) and search(tail) is None:
                element.tail = AtomicString(tail)


_STOCK: list[tuple[str, type, str]] = []


def _pattern_keys(md: Markdown) -> list[tuple[str, type, str]]:
    keys = []
    for item in md.inlinePatterns:
        regex = getattr(item, "compiled_re", None)
        keys.append((type(item).__name__, type(item), getattr(regex, "pattern", "")))
    return keys


def stock_inline_patterns(md: Markdown) -> bool:
    """True when ``md`` applies Python-Markdown's own inline patterns, unchanged by extensions,
    and no other tree processor (such as smarty's, an inline processor of its own)."""
    if not _STOCK:
        _STOCK.extend(_pattern_keys(Markdown()))
    known = sum(1 for name in STOCK_INLINE_PATTERNS if name in md.inlinePatterns)
    trees = sum(1 for name in STOCK_TREEPROCESSORS if name in md.treeprocessors)
    return (
        known == len(md.inlinePatterns)
        and _pattern_keys(md) == _STOCK
        and trees == len(md.treeprocessors) == len(STOCK_TREEPROCESSORS)
        and type(md.treeprocessors["inline"]) is InlineProcessor
    )


def add_plain_text_marker(md: Markdown) -> bool:
    """Register ``PlainText`` on ``md`` when its inline patterns are the stock ones."""
    if not stock_inline_patterns(md):
        return False
    md.treeprocessors.register(PlainText(md), "csr_plain_text", 20.5)
    return True


# A one-line text that no block or inline syntax of Markdown changes: no control characters,
# no Markdown or HTML punctuation, not starting with a list number or a dash, no space at
# either end (the metadata extension strips them). Markdown makes it "<p>text</p>".
_NOT_PLAIN = re.compile(r"[\x00-\x1f\x7f`\\\[\]<>&*_~|#=+!]|^\s|\s$|^\d+\.|^-")


def plain_paragraph(text: str) -> str | None:
    """``text`` as Markdown converts it when it is a plain one-line paragraph, else None."""
    if not text or _NOT_PLAIN.search(text):
        return None
    return f"<p>{text}</p>"


# What story files hold: 2024-05-01T09:30:00+08:00, or a date alone. A zero offset (or Z)
# is left to dateutil, whose time zone object for it depends on the machine's local zone.
_ISO_DATE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)([+-])(\d\d):(\d\d))?\Z", re.ASCII
)


def iso_date(text: str) -> SafeDatetime | None:
    """``text`` as Pelican's ``get_date`` reads it, for the ISO forms story files use; None
    for any other form (and for an impossible date, which get_date reports)."""
    m = _ISO_DATE.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = m.groups()
    zone: dt.tzinfo | None = None
    if sign:
        offset = int(off_h) * 3600 + int(off_m) * 60
        if offset == 0:
            return None
        # dateutil's parser gives a numeric offset a tzoffset without a name (one object each)
        zone = tz.tzoffset(None, -offset if sign == "-" else offset)
    try:
        return SafeDatetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None


class ReusingMarkdownReader(pelican_compat.MarkdownReaderBase):
    """MarkdownReader with one ``Markdown`` instance, reset before each document."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared: Markdown | None = None
        self._meta: tuple[Any, float] | None = None

    def _markdown(self) -> Markdown:
        md = self._shared
        if md is None:
            md = self._shared = Markdown(**self.settings["MARKDOWN"])
            add_plain_text_marker(md)
            if "meta" in md.preprocessors:
                item = md.preprocessors["meta"]
                priority = pelican_compat.preprocessor_priority(md, "meta")
                self._meta = (item, priority)
        elif self._meta is not None and "meta" not in md.preprocessors:
            # Pelican's _parse_metadata deregisters the metadata preprocessor to convert
            # formatted fields (the summary); the next document needs it again.
            md.preprocessors.register(self._meta[0], "meta", self._meta[1])
        return md.reset()

    def process_metadata(self, name: str, value: Any) -> Any:
        """Pelican's processing of one metadata value, with ISO dates read directly."""
        if name in ("date", "modified") and isinstance(value, str):
            date = iso_date(value)
            if date is not None:
                return date
        return super().process_metadata(name, value)

    def metadata(self, meta: dict[str, list[str]]) -> dict[str, Any]:
        """Pelican's metadata of the document, plain one-line formatted fields made directly."""
        formatted = self.settings["FORMATTED_FIELDS"]
        direct: dict[str, Any] = {}
        for name, values in meta.items():
            key = name.lower()
            if key in formatted and len(values) == 1:
                html = plain_paragraph(values[0])
                if html is not None:
                    direct[key] = self.process_metadata(key, html)
        if not direct:
            return self.parse_metadata(meta)
        parsed = self.parse_metadata({k: v for k, v in meta.items() if k.lower() not in direct})
        return {
            key: direct[key] if key in direct else parsed[key]
            for key in (name.lower() for name in meta)
        }

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        """Content and metadata of a Markdown file (as Pelican's MarkdownReader.read)."""
        md = self._markdown()
        self.begin_document(source_path, md)
        with pelican_open(source_path) as text:
            content = md.convert(text)
        if hasattr(md, "Meta"):
            metadata = self.metadata(md.Meta)
        else:
            metadata = {}
        return content, metadata


def use_reusing_reader(readers: Any) -> None:
    """Read every Markdown extension Pelican's reader handles with ReusingMarkdownReader."""
    for ext in MarkdownReader.file_extensions:
        if readers.reader_classes.get(ext) is MarkdownReader:
            readers.reader_classes[ext] = ReusingMarkdownReader


def register() -> None:
    signals.readers_init.connect(use_reusing_reader)
