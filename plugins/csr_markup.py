"""Template filters: sanitised story HTML marked safe, schema.org JSON-LD, language helpers."""

from __future__ import annotations

import json
import logging
from typing import Any

from markupsafe import Markup
from pelican import signals

from plugins.csr_meta import clean_html

logger = logging.getLogger(__name__)

EVENT_CATEGORIES = {"summit & forum", "training", "award", "mou & partnership"}


def safe_html(html: Any) -> Markup:
    """Story HTML, cleaned by the allow-list sanitiser, then (only then) marked safe."""
    return Markup(clean_html(str(html or "")))


def _abs(siteurl: str, url: str) -> str:
    return f"{siteurl.rstrip('/')}/{url.lstrip('/')}"


def _orgs(article: Any) -> list[dict[str, str]]:
    return [{"@type": "Organization", "name": str(o)} for o in article.organisations]


def _script(data: dict[str, Any]) -> Markup:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def article_jsonld(article: Any, siteurl: str = "", sitename: str = "") -> Markup:
    """schema.org NewsArticle for a story page."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": str(article.title),
        "datePublished": article.date.isoformat(),
        "inLanguage": article.lang,
        "url": _abs(siteurl, article.url),
        "mainEntityOfPage": _abs(siteurl, article.url),
        "articleSection": str(article.category),
        "publisher": {"@type": "Organization", "name": sitename},
    }
    if getattr(article, "modified", None):
        data["dateModified"] = article.modified.isoformat()
    if getattr(article, "summary", None):
        data["description"] = Markup(article.summary).striptags()
    if getattr(article, "tags", None):
        data["keywords"] = [str(t) for t in article.tags]
    if getattr(article, "organisations", None):
        data["mentions"] = _orgs(article)
    if getattr(article, "source_url", ""):
        data["isBasedOn"] = article.source_url
    return _script(data)


def event_jsonld(article: Any, siteurl: str = "") -> Markup:
    """schema.org Event for a story whose event date is known (empty otherwise)."""
    when = getattr(article, "event_date_obj", None)
    if when is None:
        return Markup("")
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": str(article.title),
        "startDate": when.isoformat(),
        "url": _abs(siteurl, article.url),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "eventStatus": "https://schema.org/EventScheduled",
    }
    if getattr(article, "locations", None):
        data["location"] = {"@type": "Place", "name": ", ".join(article.locations)}
    if getattr(article, "organisations", None):
        data["organizer"] = _orgs(article)
    return _script(data)


def lang_name(lang: str) -> str:
    """A language code as readers know it."""
    return {"zh": "中文", "en": "English"}.get((lang or "").split("-")[0].lower(), lang)


def add_filters(generator: Any) -> None:
    generator.env.filters.update(
        safe_html=safe_html,
        article_jsonld=article_jsonld,
        event_jsonld=event_jsonld,
        lang_name=lang_name,
        striptags_text=lambda s: Markup(str(s or "")).striptags(),
    )


def register() -> None:
    signals.generator_init.connect(add_filters)
