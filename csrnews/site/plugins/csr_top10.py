"""Top-10 pages: renders content/top10/*.yaml with theme/templates/top10*.html when present."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pelican import signals
from pelican.generators import Generator

from csrnews.top10 import badge_text, load_lists
from csrnews.top10.archive import load_archive
from csrnews.top10.io import unknown_file_warning, unknown_files
from csrnews.top10.site import list_context, list_url

logger = logging.getLogger(__name__)


class Top10Generator(Generator):
    """Writes /top10/ and /top10/<name>/ for each published list (csrnews.top10 data)."""

    def generate_context(self) -> None:
        self.lists: list[dict[str, Any]] = []
        content = Path(self.path)
        for path in unknown_files(content):
            logger.warning("%s", unknown_file_warning(path))
        if not any((content / "top10").glob("*.yaml")):
            return
        archive = load_archive(content)
        siteurl = self.settings.get("SITEURL", "")
        published = [lst for lst in load_lists(content) if lst.published]
        self.lists = [list_context(lst, archive, siteurl) for lst in published]
        self._add_badges(published)
        self.context["top10_lists"] = self.lists
        self.context["top10_latest"] = max(self.lists, key=lambda x: x["year"], default=None)

    def _add_badges(self, published: list[Any]) -> None:
        """Give each listed story `top10_badges`: [{"text": "No. 2 in ...", "url": ...}]."""
        badges: dict[str, list[dict[str, str]]] = {}
        for lst in sorted(published, key=lambda item: (item.year, item.name)):
            for slug, rank in lst.story_ranks().items():
                badges.setdefault(slug, []).append(
                    {"text": badge_text(lst, rank), "url": list_url(lst).lstrip("/")}
                )
        for article in self.context.get("articles", []):
            article.top10_badges = badges.get(article.slug, [])

    def _write_feed(self) -> None:
        """An Atom feed of the published lists: feeds/top10.atom.xml."""
        siteurl = self.settings.get("SITEURL", "") or ""
        entries = []
        for item in sorted(self.lists, key=lambda x: x["year"], reverse=True):
            link = f"{siteurl}{item['url']}"
            entry_id = link if siteurl else f"tag:csrnews.invalid,{int(item['year'])}:{item['url']}"
            summary = " ".join(
                f"No. {e['rank']}: {e['headline']}." for e in item.get("entries", [])
            )
            entries.append(
                "  <entry>\n"
                f"    <title>{escape(str(item['title']))}</title>\n"
                f'    <link href="{escape(link)}" rel="alternate"/>\n'
                f"    <id>{escape(entry_id)}</id>\n"
                f"    <updated>{int(item['year'])}-12-31T00:00:00Z</updated>\n"
                f"    <summary>{escape(summary)}</summary>\n"
                "  </entry>\n"
            )
        feed_id = (
            f"{siteurl}/feeds/top10.atom.xml" if siteurl else "tag:csrnews.invalid,2006:/top10/"
        )
        author = self.settings.get("SITENAME", "") or "csrnews"
        updated = f"{max((int(i['year']) for i in self.lists), default=2000)}-12-31T00:00:00Z"
        feed = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"  <title>{escape(self.settings.get('SITENAME', ''))}: Top 10 lists</title>\n"
            f'  <link href="{escape(siteurl)}/top10/" rel="alternate"/>\n'
            f'  <link href="{escape(siteurl)}/feeds/top10.atom.xml" rel="self"/>\n'
            f"  <id>{escape(feed_id)}</id>\n"
            f"  <author><name>{escape(author)}</name></author>\n"
            f"  <updated>{updated}</updated>\n" + "".join(entries) + "</feed>\n"
        )
        target = Path(self.output_path) / "feeds" / "top10.atom.xml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(feed, encoding="utf-8")

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
        if self.lists:
            self._write_feed()


def get_generators(pelican: Any) -> type[Generator]:
    return Top10Generator


def register() -> None:
    signals.get_generators.connect(get_generators)
