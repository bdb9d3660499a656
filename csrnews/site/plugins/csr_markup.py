"""Template filters: sanitised story HTML marked safe, schema.org JSON-LD, language helpers."""

from __future__ import annotations

import functools
import json
import logging
import weakref
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, pass_environment
from markupsafe import Markup, escape
from pelican import signals

from csrnews.site.plugins.csr_meta import clean_html

logger = logging.getLogger(__name__)

EVENT_CATEGORIES = {"summit & forum", "training", "award", "mou & partnership"}


# Sanitised summaries by their HTML: a summary is printed on every listing its story is on,
# and cleaning the same text again gives the same result. Long texts (story bodies, each
# printed once) are not kept. Emptied when a build starts and ends.
_CLEANED: dict[str, str] = {}
_CACHE_MAX_CHARS = 4000


@functools.lru_cache(maxsize=4096)
def _striptags(html: str) -> str:
    return Markup(html).striptags()


def safe_html(html: Any) -> Markup:
    """Story HTML, cleaned by the allow-list sanitiser, then (only then) marked safe."""
    text = str(html or "")
    if len(text) > _CACHE_MAX_CHARS:
        return Markup(clean_html(text))
    cleaned = _CLEANED.get(text)
    if cleaned is None:
        cleaned = _CLEANED[text] = clean_html(text)
    return Markup(cleaned)


def striptags_text(html: Any) -> str:
    """Plain text of HTML (tags removed, entities resolved), for attributes and JSON-LD."""
    return _striptags(str(html or ""))


# A story's list item, rendered with this in place of the heading element's name.
_HEADING = "\x00"
# Rendered list items per story: {(heading, the site URL its summary's links use): Markup}.
_ITEMS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Markup]] = weakref.WeakKeyDictionary()


@pass_environment
def story_items(env: Environment, articles: Iterable[Any], heading: str = "h2") -> Markup:
    """The ``story_item`` macro of _macros.html for each story, each rendered once a build.

    A story is listed on the front pages and on its type, tag, organisation, standard,
    source, year and month pages; its item is the same markup on all of them for one site URL
    (the macro sees no page variables: the page's site URL, absolute or relative, is passed
    in), so it is rendered on first use and reused. The item is rendered once
    with a placeholder heading name, which each heading level then fills in.
    """
    macro = None
    parts = []
    for article in articles:
        cache = _ITEMS.get(article)
        if cache is None:
            cache = _ITEMS[article] = {}
        siteurl = article.get_siteurl()  # summaries' links follow the page's site URL
        item = cache.get((heading, siteurl))
        if item is None:
            if macro is None:
                module = env.get_template("_macros.html").module
                macro = module.story_item  # type: ignore[attr-defined]  # a macro of the file
            template = cache.get((_HEADING, siteurl))
            if template is None:
                template = cache[(_HEADING, siteurl)] = macro(article, _HEADING, siteurl)
            if template.count(_HEADING) == 2:  # the opening and the closing tag, nothing else
                item = Markup(template.replace(_HEADING, str(escape(heading))))
            else:
                item = macro(article, heading, siteurl)
            cache[(heading, siteurl)] = item
        parts.append(item)
    return Markup("".join(parts))  # every part is Markup from the macro


def forget(_pelican: Any) -> None:
    """Drop what one build kept (the list items go with their stories)."""
    _CLEANED.clear()
    _striptags.cache_clear()


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
        data["description"] = striptags_text(article.summary)
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
        striptags_text=striptags_text,
        story_items=story_items,
    )


def register() -> None:
    signals.initialized.connect(forget)
    signals.finalized.connect(forget)
    signals.generator_init.connect(add_filters)
