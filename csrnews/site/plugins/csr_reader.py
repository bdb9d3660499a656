"""A Markdown reader that builds its Markdown parser once per build instead of once per story.

Pelican's MarkdownReader makes a new ``markdown.Markdown`` for every file: it loads and
registers every extension again (about a third of the cost of reading a short story). This
reader keeps one instance and calls ``reset()`` between documents, as Python-Markdown
documents for converting many texts; the settings (``MARKDOWN``) and the output are the same.
"""

from __future__ import annotations

import logging
from typing import Any

from markdown import Markdown
from pelican import signals
from pelican.readers import MarkdownReader
from pelican.utils import pelican_open

from csrnews.site import pelican_compat

logger = logging.getLogger(__name__)


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
            if "meta" in md.preprocessors:
                item = md.preprocessors["meta"]
                priority = pelican_compat.preprocessor_priority(md, "meta")
                self._meta = (item, priority)
        elif self._meta is not None and "meta" not in md.preprocessors:
            # Pelican's _parse_metadata deregisters the metadata preprocessor to convert
            # formatted fields (the summary); the next document needs it again.
            md.preprocessors.register(self._meta[0], "meta", self._meta[1])
        return md.reset()

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        """Content and metadata of a Markdown file (as Pelican's MarkdownReader.read)."""
        md = self._markdown()
        self.begin_document(source_path, md)
        with pelican_open(source_path) as text:
            content = md.convert(text)
        if hasattr(md, "Meta"):
            metadata = self.parse_metadata(md.Meta)
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
