"""Template filters: sanitised story HTML marked safe, schema.org JSON-LD, language helpers."""

from __future__ import annotations

import functools
import json
import logging
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, pass_environment
from markupsafe import Markup, escape
from pelican import signals

from csrnews.site.gazetteer import event_place, org_names
from csrnews.site.plugins.csr_meta import clean_html, known_clean
from csrnews.story.vocabulary import EVENT_TYPES, is_event_type, language_name

logger = logging.getLogger(__name__)

# The site's default image (for stories without one of their own) and logo: path, width,
# height (SITE_IMAGE and SITE_LOGO in pelicanconf.py override them).
DEFAULT_SITE_IMAGE = ("theme/images/share.png", 1200, 630)
DEFAULT_SITE_LOGO = ("theme/images/logo.png", 512, 512)


# Sanitised summaries by their HTML: a summary is printed on every listing its story is on,
# and cleaning the same text again gives the same result. Longer texts (story bodies, each
# printed once) are not kept: kept, they were a second copy of every story's body (about 40
# MB at 20,000 stories). Emptied when a build starts and ends.
_CLEANED: dict[str, str] = {}
_CACHE_MAX_CHARS = 1000


@functools.lru_cache(maxsize=4096)
def _striptags(html: str) -> str:
    return Markup(html).striptags()


def safe_html(html: Any) -> Markup:
    """Story HTML, cleaned by the allow-list sanitiser, then (only then) marked safe."""
    text = str(html or "")
    if known_clean(text):  # a story's HTML that cleaning left unchanged when it was read
        return Markup(text)
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
# Rendered list items per story: {(heading, the site URL its summary's links use): Markup};
# for an item whose placeholder heading fills in as a plain replacement, only the item with
# the placeholder (heading _HEADING) is kept, and each heading level is filled in on use.
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
    macros: list[Any] = []

    def render(article: Any, name: str, siteurl: str) -> Markup:
        if not macros:
            module = env.get_template("_macros.html").module
            macros.append(module.story_item)  # type: ignore[attr-defined]  # a macro of the file
        return Markup(macros[0](article, name, siteurl))

    name = str(escape(heading))
    filled = str(escape(name))  # what Markup.replace would put in (it escapes its arguments)
    placeholder = str(escape(_HEADING))
    parts = []
    for article in articles:
        cache = _ITEMS.get(article)
        if cache is None:
            cache = _ITEMS[article] = {}
        siteurl = article.get_siteurl()  # summaries' links follow the page's site URL
        template = cache.get((_HEADING, siteurl))
        if template is None:
            template = cache[(_HEADING, siteurl)] = render(article, _HEADING, siteurl)
        if template.count(_HEADING) == 2:  # the opening and the closing tag, nothing else
            # Markup.replace's text, without its escaping and Markup for every item
            parts.append(str.replace(template, placeholder, filled))
            continue
        item = cache.get((heading, siteurl))
        if item is None:
            item = cache[(heading, siteurl)] = render(article, heading, siteurl)
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


def _image(siteurl: str, path: str, width: int, height: int) -> dict[str, Any]:
    return {"@type": "ImageObject", "url": _abs(siteurl, path), "width": width, "height": height}


def article_jsonld(article: Any, siteurl: str = "", sitename: str = "") -> Markup:
    """schema.org NewsArticle for a story page.

    headline, image (the story's own, else the site's share image), author (the source the
    story came from, as an Organization; the site when it has none), publisher (the site, with
    its logo), datePublished and dateModified (the publication date when never modified).
    """
    settings = getattr(article, "settings", {}) or {}
    source = getattr(article, "source_obj", None)
    own_image = str(getattr(article, "image", "") or "")
    if own_image.startswith(("http://", "https://")):
        image: Any = own_image
    else:
        image = _image(siteurl, *settings.get("SITE_IMAGE", DEFAULT_SITE_IMAGE))
    publisher = {
        "@type": "Organization",
        "name": sitename,
        "url": _abs(siteurl, ""),
        "logo": _image(siteurl, *settings.get("SITE_LOGO", DEFAULT_SITE_LOGO)),
    }
    author: dict[str, Any]
    if source is not None:
        author = {"@type": "Organization", "name": str(source), "url": _abs(siteurl, source.url)}
    else:
        author = {"@type": "Organization", "name": sitename, "url": _abs(siteurl, "")}
    modified = getattr(article, "modified", None) or article.date
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": str(article.title)[:110],
        "image": [image],
        "author": [author],
        "publisher": publisher,
        "datePublished": article.date.isoformat(),
        "dateModified": modified.isoformat(),
        "inLanguage": article.lang,
        "url": _abs(siteurl, article.url),
        "mainEntityOfPage": _abs(siteurl, article.url),
        "articleSection": str(article.category),
    }
    if getattr(article, "summary", None):
        data["description"] = striptags_text(article.summary)
    if getattr(article, "tags", None):
        data["keywords"] = [str(t) for t in article.tags]
    if getattr(article, "organisations", None):
        data["mentions"] = _orgs(article)
    if getattr(article, "source_url", ""):
        data["isBasedOn"] = article.source_url
    return _script(data)


def is_event(article: Any) -> bool:
    """A story about an event people attend, with its date and one place: an Event too."""
    return bool(
        getattr(article, "event_date_obj", None)
        and is_event_type(str(article.category))
        and getattr(article, "locations", None)
    )


def event_jsonld(article: Any, siteurl: str = "") -> Markup:
    """schema.org Event for a story about a summit, training or award ceremony with an event
    date and a place (empty otherwise). Its location is one Place: the event's city (or
    province, or country) as csrnews.site.gazetteer.event_place picks it."""
    if not is_event(article):
        return Markup("")
    place = event_place(list(article.locations))
    assert place is not None  # is_event: the story names a place
    when = article.event_date_obj
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": str(article.title),
        "startDate": when.isoformat(),
        "endDate": when.isoformat(),
        "url": _abs(siteurl, article.url),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "eventStatus": "https://schema.org/EventScheduled",
        "location": {"@type": "Place", "name": place[0], "address": place[1]},
    }
    if getattr(article, "summary", None):
        data["description"] = striptags_text(article.summary)
    if getattr(article, "organisations", None):
        data["organizer"] = _orgs(article)
    return _script(data)


def lang_name(lang: str) -> str:
    """A language code as readers know it."""
    return language_name(lang)


def event_place_name(locations: Any) -> str:
    """The one place of an event (csrnews.site.gazetteer.event_place), as the events page has it."""
    place = event_place([str(loc) for loc in locations or []])
    return place[1] if place else ""


def url_path(siteurl: str) -> str:
    """The path of the site URL ("https://example.org/repo" -> "/repo"; "" for the root)."""
    return urlsplit(siteurl or "").path.rstrip("/")


def add_filters(generator: Any) -> None:
    generator.env.globals["event_types_json"] = json.dumps(EVENT_TYPES, ensure_ascii=False)
    generator.env.filters.update(
        safe_html=safe_html,
        article_jsonld=article_jsonld,
        event_jsonld=event_jsonld,
        org_names=org_names,
        is_event=is_event,
        event_place_name=event_place_name,
        url_path=url_path,
        lang_name=lang_name,
        striptags_text=striptags_text,
        story_items=story_items,
    )


def register() -> None:
    signals.initialized.connect(forget)
    signals.finalized.connect(forget)
    signals.generator_init.connect(add_filters)
