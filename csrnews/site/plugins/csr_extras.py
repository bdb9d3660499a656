"""events.ics of dated events, robots.txt and sitemap.xml (of the pages this build wrote)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup
from pelican import signals
from pelican.generators import Generator

logger = logging.getLogger(__name__)

ICAL_CATEGORIES = {"summit & forum", "training", "award", "mou & partnership"}


def _ical_text(value: str) -> str:
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r", "").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """RFC 5545 line folding at 75 octets (never inside a UTF-8 sequence)."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0]] + [" " + part for part in out[1:]]


def build_ical(articles: list[Any], siteurl: str, sitename: str) -> str:
    """A VCALENDAR with one all-day VEVENT per story that has an event date."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//csrnews//CSR events//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ical_text(sitename)} events",
    ]
    dated = [a for a in articles if getattr(a, "event_date_obj", None)]
    for article in sorted(dated, key=lambda a: (a.event_date_obj, a.slug)):
        start: dt.date = article.event_date_obj
        url = f"{siteurl.rstrip('/')}/{article.url}"
        stamp = (getattr(article, "modified", None) or article.date).astimezone(dt.UTC)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{article.slug}@csrnews",
            f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{start + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_ical_text(str(article.title))}",
            f"CATEGORIES:{_ical_text(str(article.category))}",
            f"URL:{url}",
        ]
        if getattr(article, "locations", None):
            lines.append(f"LOCATION:{_ical_text(', '.join(article.locations))}")
        if getattr(article, "summary", None):
            lines.append(f"DESCRIPTION:{_ical_text(Markup(article.summary).striptags())}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))


class EventsCalendarGenerator(Generator):
    """Writes events.ics for summits, forums, trainings and other dated events."""

    def generate_output(self, writer: Any) -> None:
        articles = [
            a
            for a in self.context.get("articles", [])
            if str(a.category).lower() in ICAL_CATEGORIES
        ]
        text = build_ical(articles, self.settings.get("SITEURL", ""), self.settings["SITENAME"])
        path = Path(self.output_path) / "events.ics"
        path.write_text(text, encoding="utf-8", newline="")


# Pages the writer made in this build (kept ones of an incremental build included: Pelican
# sends content_written for them too). Not a walk of the output folder, which can still hold
# pages of the previous build that this one no longer makes.
_PAGES: set[str] = set()


def _start(pelican: Any) -> None:
    _PAGES.clear()


def _page_written(path: str, **kwargs: Any) -> None:
    if os.path.basename(path) == "index.html":
        _PAGES.add(os.path.dirname(os.path.abspath(path)))


def write_robots_and_sitemap(pelican: Any) -> None:
    """robots.txt and a sitemap of every page this build wrote (sorted, no build time)."""
    output = Path(pelican.output_path).resolve()
    siteurl = pelican.settings.get("SITEURL", "").rstrip("/")
    urls = []
    for folder in _PAGES:
        path = Path(folder)
        if path == output or output in path.parents:
            rel = path.relative_to(output).as_posix()
            urls.append(f"{siteurl}/" if rel == "." else f"{siteurl}/{rel}/")
    urls.sort()
    body = "".join(f"<url><loc>{escape(u)}</loc></url>\n" for u in urls)
    (output / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{body}</urlset>\n",
        encoding="utf-8",
    )
    (output / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nDisallow: /search/?\nSitemap: {siteurl}/sitemap.xml\n",
        encoding="utf-8",
    )


def get_generators(pelican: Any) -> type[Generator]:
    return EventsCalendarGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
    signals.initialized.connect(_start)
    signals.content_written.connect(_page_written)
    signals.finalized.connect(write_robots_and_sitemap)
