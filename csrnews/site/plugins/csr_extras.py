"""The events page and events.ics, robots.txt and sitemap.xml (of the pages this build wrote)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from markupsafe import Markup
from pelican import signals
from pelican.contents import Content
from pelican.generators import Generator

from csrnews.story.vocabulary import is_event_type

logger = logging.getLogger(__name__)

EVENTS_SAVE_AS = "events/index.html"
EVENTS_URL = "events/"


def _ical_text(value: str) -> str:
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r", "").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """RFC 5545 line folding at 75 octets (never inside a UTF-8 sequence)."""
    if len(line) <= 18 or len(line.encode("utf-8")) <= 75:  # 18 characters: at most 72 octets
        return [line]
    out: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        limit = 75 if not out else 74
        width = 1 if char < "\x80" else len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size = [char], width
        else:
            current.append(char)
            size += width
    out.append("".join(current))
    return [out[0]] + [" " + part for part in out[1:]]


def site_events(articles: Iterable[Any]) -> list[Any]:
    """The site's events: stories about a summit, training or award with an event date,
    in date order (then by slug)."""
    dated = [
        a
        for a in articles
        if getattr(a, "event_date_obj", None) and is_event_type(str(getattr(a, "category", "")))
    ]
    return sorted(dated, key=lambda a: (a.event_date_obj, a.slug))


def build_ical(articles: list[Any], siteurl: str, sitename: str) -> str:
    """A VCALENDAR with one all-day VEVENT per event (site_events).

    UIDs are the story's slug at the site's host; URLs are absolute (left out without a
    site URL: a relative one is no URI).
    """
    host = urlsplit(siteurl).hostname or "csrnews.invalid"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//csrnews//CSR events//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ical_text(sitename)} events",
    ]
    for article in site_events(articles):
        start: dt.date = article.event_date_obj
        stamp = (getattr(article, "modified", None) or article.date).astimezone(dt.UTC)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{article.slug}@{host}",
            f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{start + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_ical_text(str(article.title))}",
            f"CATEGORIES:{_ical_text(str(article.category))}",
        ]
        if siteurl:
            lines.append(f"URL:{siteurl.rstrip('/')}/{article.url}")
        if getattr(article, "locations", None):
            lines.append(f"LOCATION:{_ical_text(', '.join(article.locations))}")
        if getattr(article, "summary", None):
            lines.append(f"DESCRIPTION:{_ical_text(Markup(article.summary).striptags())}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))


def today(settings: dict[str, Any]) -> dt.date:
    """The day the events page counts from: CSR_TODAY (for reproducible builds) or today."""
    fixed = settings.get("CSR_TODAY")
    if fixed:
        return dt.date.fromisoformat(str(fixed))
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(settings.get("TIMEZONE") or "UTC")).date()
    except (ImportError, KeyError, ValueError):
        return dt.datetime.now(dt.UTC).date()


class EventsGenerator(Generator):
    """Writes /events/ (upcoming events first, then past ones, newest first) and events.ics."""

    def generate_output(self, writer: Any) -> None:
        events = site_events(self.context.get("articles", []))
        day = today(self.settings)
        upcoming = [a for a in events if a.event_date_obj >= day]
        past = [a for a in reversed(events) if a.event_date_obj < day]
        writer.write_file(
            EVENTS_SAVE_AS,
            self.get_template("events"),
            self.context,
            events_upcoming=upcoming,
            events_past=past,
            events_today=day,
            url=EVENTS_URL,
            template_name="events",
            relative_urls=self.settings["RELATIVE_URLS"],
        )
        text = build_ical(events, self.settings.get("SITEURL", ""), self.settings["SITENAME"])
        path = Path(self.output_path) / "events.ics"
        path.write_text(text, encoding="utf-8", newline="")


# Pages the writer made in this build, with the date each last changed (kept ones of an
# incremental build included: Pelican sends content_written for them too). Not a walk of the
# output folder, which can still hold pages of the previous build that this one no longer makes.
_PAGES: dict[str, dt.datetime | None] = {}
_ARTICLES: list[Any] = []  # the site's stories (for the sitemap's fallback date)


# When each story last changed, by id (the stories stay alive in _ARTICLES or the generators
# while the build writes): a list page asks for each of its stories' dates.
_CHANGED: dict[int, dt.datetime | None] = {}


def _start(pelican: Any) -> None:
    _PAGES.clear()
    _ARTICLES.clear()
    _CHANGED.clear()


def _changed(item: Any) -> dt.datetime | None:
    known = _CHANGED.get(id(item), _CHANGED)
    if known is not _CHANGED:
        return known  # type: ignore[return-value]
    value = getattr(item, "modified", None) or getattr(item, "date", None)
    when = value if isinstance(value, dt.datetime) else None
    if isinstance(item, Content):
        _CHANGED[id(item)] = when
    return when


def _newest(items: Any) -> dt.datetime | None:
    newest = None
    known = _CHANGED.get  # _changed inlined: a list page asks for each of its stories
    for item in items or ():
        when = known(id(item), _CHANGED)
        if when is _CHANGED:
            when = _changed(item)
        if when is not None and (newest is None or when > newest):  # type: ignore[operator]
            newest = when
    return newest  # type: ignore[return-value]


def _lastmod(context: dict[str, Any]) -> dt.datetime | None:
    """When a page's content last changed: its story's or page's date, else its newest story's."""
    for key in ("article", "page"):
        item = context.get(key)
        if item is not None:
            when = _changed(item)
            if when is not None:
                return when
    page = context.get("articles_page")
    if page is not None:
        return _newest(page.object_list)
    for key in ("events_upcoming", "articles"):
        if context.get(key):
            return _newest(context[key])
    return None


def _page_written(path: str, context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if os.path.basename(path) == "index.html":
        _PAGES[os.path.dirname(os.path.abspath(path))] = _lastmod(context or {})


def robots_txt(siteurl: str) -> str:
    """robots.txt: every page may be crawled; the sitemap's absolute URL when the site has one.

    Search pages are not disallowed: a reader's search page must stay crawlable (its canonical
    link names the search page without a query).
    """
    lines = ["User-agent: *", "Allow: /"]
    if siteurl:
        lines.append(f"Sitemap: {siteurl.rstrip('/')}/sitemap.xml")
    else:  # a Sitemap line needs an absolute URL: set SITEURL (csrnews build --site-url)
        lines.append("# Sitemap: no site URL was set for this build")
    return "\n".join(lines) + "\n"


def write_robots_and_sitemap(pelican: Any) -> None:
    """robots.txt and a sitemap of every page this build wrote, each with its <lastmod>."""
    output = Path(pelican.output_path).resolve()
    siteurl = pelican.settings.get("SITEURL", "").rstrip("/")
    fallback = _newest(_ARTICLES)  # the site's newest change, for pages without a date
    rows = []
    root = str(output)
    inside = os.path.join(root, "")
    for folder, when in _PAGES.items():  # absolute, normalised folders (_page_written)
        if folder == root:
            rows.append((f"{siteurl}/", when or fallback))
        elif folder.startswith(inside):
            rows.append((f"{siteurl}/{folder[len(inside) :]}/", when or fallback))
    rows.sort(key=lambda row: row[0])
    body = "".join(
        f"<url><loc>{escape(url)}</loc>"
        + (f"<lastmod>{when.isoformat(timespec='seconds')}</lastmod>" if when else "")
        + "</url>\n"
        for url, when in rows
    )
    (output / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{body}</urlset>\n",
        encoding="utf-8",
    )
    (output / "robots.txt").write_text(robots_txt(siteurl), encoding="utf-8")
    _start(pelican)  # the build is written: hold none of its stories past it


def _remember_articles(generator: Any) -> None:
    _ARTICLES[:] = list(generator.articles)


def get_generators(pelican: Any) -> type[Generator]:
    return EventsGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
    signals.initialized.connect(_start)
    signals.content_written.connect(_page_written)
    signals.article_generator_finalized.connect(_remember_articles)
    signals.finalized.connect(write_robots_and_sitemap)
