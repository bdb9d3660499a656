"""The demo publishers' machine-readable documents: RSS, Atom, sitemaps and robots.txt."""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from csrnews.demo.chrome import PUBLISHERS
from csrnews.demo.render import Entry, entries_for, last_changed
from csrnews.demo.stories import PUBLISHER_KEYS, SITE_REBUILT, DemoStory

logger = logging.getLogger(__name__)


def _rfc822(moment: dt.datetime) -> str:
    return format_datetime(moment)


def _atom_time(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def rss_feed(stories: list[DemoStory], base: str) -> str:
    """The herald's RSS 2.0 feed: all its stories, newest first."""
    entries = entries_for(stories, "herald")
    built = last_changed(entries) or SITE_REBUILT
    items = []
    for e in entries:
        link = escape(base + e.path)
        items.append(
            f"<item><title>{escape(e.story.title)}</title><link>{link}</link>"
            f"<pubDate>{_rfc822(e.story.published)}</pubDate>"
            f'<guid isPermaLink="true">{link}</guid>'
            f"<description>{escape(e.story.summary)}</description></item>"
        )
    pub = PUBLISHERS["herald"]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(pub.name)}</title><link>{escape(base)}/herald/</link>"
        f"<description>{escape(pub.tagline)}</description><language>en</language>"
        f"<lastBuildDate>{_rfc822(built)}</lastBuildDate>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def atom_feed(stories: list[DemoStory], base: str) -> str:
    """The review's Atom feed: all its stories, newest first."""
    entries = entries_for(stories, "review")
    updated = _atom_time(last_changed(entries) or SITE_REBUILT)
    pub = PUBLISHERS["review"]
    parts = []
    for e in entries:
        link = base + e.path
        author = f"<author><name>{escape(e.story.author)}</name></author>" if e.story.author else ""
        parts.append(
            f'<entry><title>{escape(e.story.title)}</title><link rel="alternate" '
            f"href={quoteattr(link)}/><id>{escape(link)}</id>"
            f"<published>{_atom_time(e.story.published)}</published>"
            f"<updated>{_atom_time(e.story.published)}</updated>{author}"
            f"<summary>{escape(e.story.summary)}</summary></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(pub.name)}</title><subtitle>{escape(pub.tagline)}</subtitle>"
        f'<link rel="self" href={quoteattr(base + "/review/atom.xml")}/>'
        f'<link rel="alternate" href={quoteattr(base + "/review/")}/>'
        f"<id>{escape(base)}/review/</id><updated>{updated}</updated>\n"
        + "\n".join(parts)
        + "\n</feed>\n"
    )


def _lastmod(e: Entry) -> str:
    return e.story.date_iso


def sitemap_index(stories: list[DemoStory], base: str) -> str:
    """The esn sitemap index, pointing to the stories sitemap."""
    newest = last_changed(entries_for(stories, "esn")) or SITE_REBUILT
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{escape(base)}/esn/sitemap-stories.xml</loc>"
        f"<lastmod>{newest.date().isoformat()}</lastmod></sitemap></sitemapindex>\n"
    )


def sitemap_stories(stories: list[DemoStory], base: str) -> str:
    """The esn stories sitemap: every story it carries, with <lastmod>."""
    urls = "\n".join(
        f"<url><loc>{escape(base + e.path)}</loc><lastmod>{_lastmod(e)}</lastmod></url>"
        for e in entries_for(stories, "esn")
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}\n</urlset>\n"
    )


def robots_txt(base: str) -> str:
    """robots.txt: members-only sections are off limits to every user agent."""
    lines = ["# The csrnews demo publisher", "User-agent: *"]
    lines += [f"Disallow: /{key}/members/" for key in PUBLISHER_KEYS]
    lines += ["", f"Sitemap: {base}/esn/sitemap.xml", ""]
    return "\n".join(lines)
