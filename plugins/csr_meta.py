"""Normalise story metadata (comma lists, taxonomies, dates), sanitise story HTML, drop hidden."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import nh3
from pelican import signals
from pelican.contents import Article, Page
from pelican.urlwrappers import URLWrapper

logger = logging.getLogger(__name__)

ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"} | {"figure", "figcaption"}
URL_SCHEMES = {"http", "https", "mailto"}


class Org(URLWrapper):
    """An organisation named by stories (ORG_URL / ORG_SAVE_AS)."""


class Standard(URLWrapper):
    """A standard named by stories (STANDARD_URL / STANDARD_SAVE_AS)."""


class Source(URLWrapper):
    """The publisher a story came from (SOURCE_URL / SOURCE_SAVE_AS)."""


def clean_html(html: str) -> str:
    """Allow-list sanitise HTML from a crawled page: no script, handlers, frames or js: links."""
    return nh3.clean(
        html or "", tags=ALLOWED_TAGS, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer"
    )


def split_list(value: Any) -> list[str]:
    """A comma-separated metadata value (or a list) as a list of stripped, unique strings."""
    if isinstance(value, list | tuple):
        parts = [str(v) for v in value]
    else:
        parts = str(value or "").split(",")
    seen: dict[str, None] = {}
    for part in parts:
        part = part.strip().replace("%2C", ",")
        if part:
            seen.setdefault(part, None)
    return list(seen)


def parse_date(value: Any) -> dt.date | None:
    """An ISO date (or datetime) string as a date, or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        logger.warning("unreadable Event_date %r", text)
        return None


def normalise(content: Any) -> None:
    """Give a story its list attributes and taxonomy objects, and clean its HTML."""
    if not isinstance(content, Article | Page):
        return
    settings = content.settings
    meta = content.metadata
    content.organisations = [Org(n, settings) for n in split_list(meta.get("organisations"))]
    content.standards = [Standard(n, settings) for n in split_list(meta.get("standards"))]
    content.locations = split_list(meta.get("locations"))
    content.also_reported_by = [
        u for u in split_list(meta.get("also_reported_by")) if u.startswith(("http://", "https://"))
    ]
    source = str(meta.get("source", "") or "").strip()
    content.source_obj = Source(source, settings) if source else None
    source_url = str(meta.get("source_url", "") or "").strip()
    content.source_url = source_url if source_url.startswith(("http://", "https://")) else ""
    content.event_date_obj = parse_date(meta.get("event_date"))
    content._content = clean_html(content._content)
    if "summary" in meta:
        content.metadata["summary"] = clean_html(str(meta["summary"]))
        content._summary = content.metadata["summary"]


def drop_hidden(generator: Any) -> None:
    """Hidden stories appear nowhere: not listed, not written."""
    dropped = len(generator.hidden_articles) + len(generator.hidden_translations)
    generator.hidden_articles = []
    generator.hidden_translations = []
    generator.drafts = []
    generator.drafts_translations = []
    if dropped:
        logger.info("left out %d hidden stories", dropped)


def register() -> None:
    signals.content_object_init.connect(normalise)
    signals.article_generator_pretaxonomy.connect(drop_hidden)
