"""The live preview: a story rendered by the site's own Markdown reader and HTML sanitiser.

The text goes through the reader the site's build uses (``csrnews.site.plugins.csr_reader``,
Pelican's MarkdownReader with the ``MARKDOWN`` settings of pelicanconf.py) and then through
``csrnews.site.plugins.csr_meta.clean_html``, the allow-list sanitiser every story's HTML passes
before a template may print it. Nothing about the rendering is re-implemented here.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from csrnews.story import settings as defaults
from csrnews.story.storyfile import Story, render_story

logger = logging.getLogger(__name__)


class Previewer:
    """Renders story text as the site would; one reader, used by one request at a time."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = Path(tmp_dir)
        self._lock = threading.Lock()
        self._reader: Any = None

    def _get_reader(self) -> Any:
        if self._reader is None:
            # Pelican only at the first preview: the CLI imports this module for every command.
            from pelican.settings import read_settings

            from csrnews.site.plugins.csr_reader import ReusingMarkdownReader

            # Feeds are not rendered here; a domain keeps Pelican from warning about them.
            conf = read_settings(
                str(defaults.PELICANCONF), override={"FEED_DOMAIN": "http://localhost"}
            )
            self._reader = ReusingMarkdownReader(conf)
        return self._reader

    def render(self, story: Story) -> dict[str, str]:
        """{"title", "summary_html", "body_html"}: the HTML sanitised as the site's is."""
        from csrnews.site.plugins.csr_meta import clean_html

        text = render_story(story, fingerprint=False)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="preview-", suffix=".md", dir=self.tmp_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            with self._lock:
                body, meta = self._get_reader().read(name)
        finally:
            Path(name).unlink(missing_ok=True)
        summary = meta.get("summary", "")
        return {
            "title": story.title,
            "summary_html": clean_html(str(summary)) if summary else "",
            "body_html": clean_html(body),
        }
