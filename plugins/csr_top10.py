"""Top-10 pages: renders content/top10/*.yaml with theme/templates/top10*.html when present."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.generators import Generator

logger = logging.getLogger(__name__)


class Top10Generator(Generator):
    """Writes /top10/ and /top10/<name>/ for each published list (csrnews.top10 data)."""

    def generate_context(self) -> None:
        self.lists: list[dict[str, Any]] = []
        content = Path(self.path)
        if not any((content / "top10").glob("*.yaml")):
            return
        from csrnews.top10 import load_lists
        from csrnews.top10.archive import load_archive
        from csrnews.top10.site import list_context

        archive = load_archive(content)
        siteurl = self.settings.get("SITEURL", "")
        self.lists = [
            list_context(lst, archive, siteurl) for lst in load_lists(content) if lst.published
        ]
        self.context["top10_lists"] = self.lists
        self.context["top10_latest"] = max(self.lists, key=lambda x: x["year"], default=None)

    def generate_output(self, writer: Any) -> None:
        self.context.setdefault("top10_lists", [])
        one = self.get_template("top10")
        for item in self.lists:
            save_as = item["url"].lstrip("/") + "index.html"
            writer.write_file(
                save_as, one, self.context, top10=item, relative_urls=self.settings["RELATIVE_URLS"]
            )
        writer.write_file(
            "top10/index.html",
            self.get_template("top10_index"),
            self.context,
            top10_lists=self.lists,
            relative_urls=self.settings["RELATIVE_URLS"],
        )


def get_generators(pelican: Any) -> type[Generator]:
    return Top10Generator


def register() -> None:
    signals.get_generators.connect(get_generators)
