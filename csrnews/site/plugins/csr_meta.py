"""Normalise story metadata (comma lists, taxonomies, dates), sanitise story HTML, drop hidden."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

import nh3
from pelican import signals
from pelican.contents import Article, Page
from pelican.urlwrappers import URLWrapper

from csrnews.site import incremental, pelican_compat
from csrnews.story import schema

logger = logging.getLogger(__name__)

ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"} | {"figure", "figcaption"}
URL_SCHEMES = {"http", "https", "mailto"}


class _Taxon(URLWrapper):
    """A URLWrapper whose name never changes: its URLs are formatted once, when it is made.

    Pelican's wrappers format ``*_URL``/``*_SAVE_AS`` on every access; templates ask for a
    taxon's URL on every page that lists a story naming it.
    """

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        super().__init__(name, settings)
        self._urls = (
            pelican_compat.url_setting(self, "URL"),
            pelican_compat.url_setting(self, "SAVE_AS"),
            pelican_compat.url_setting(self, "URL", get_page_name=True),
        )

    @property
    def url(self) -> str:
        return self._urls[0]

    @property
    def save_as(self) -> str:
        return self._urls[1]

    @property
    def page_name(self) -> str:
        return self._urls[2]


class Org(_Taxon):
    """An organisation named by stories (ORG_URL / ORG_SAVE_AS)."""


class Standard(_Taxon):
    """A standard named by stories (STANDARD_URL / STANDARD_SAVE_AS)."""


class Source(_Taxon):
    """The publisher a story came from (SOURCE_URL / SOURCE_SAVE_AS)."""


_TAXA: dict[tuple[type, str], tuple[dict[str, Any], _Taxon]] = {}


def taxon(kind: type[_Taxon], name: str, settings: dict[str, Any]) -> _Taxon:
    """The one ``kind`` object for ``name`` in this build (stories naming it share it)."""
    known = _TAXA.get((kind, name))
    if known is not None and known[0] is settings:
        return known[1]
    made = kind(name, settings)
    _TAXA[(kind, name)] = (settings, made)
    return made


def shared_wrapper(wrapper: Any) -> Any:
    """The one tag, category or author object of this build with ``wrapper``'s class, name
    and settings (the first one seen), for ``wrapper`` whose slug comes from its name.

    Pelican's reader makes new ones for every story: at 20,000 stories about 100,000 objects
    with their dicts and slugs (which Pelican computes and stores in each), for a few hundred
    names. The objects compare and hash by slug, which depends on the class, the name and the
    settings only, so one object a name serves every story naming it.
    """
    if not isinstance(wrapper, URLWrapper) or not pelican_compat.slug_from_name(wrapper):
        return wrapper
    key = (type(wrapper), wrapper.name)
    known = _WRAPPERS.get(key)
    if known is not None and known.settings is wrapper.settings:
        return known
    _WRAPPERS[key] = wrapper
    return wrapper


_WRAPPERS: dict[tuple[type, str], Any] = {}


def share_wrappers(content: Any) -> None:
    """Give a story this build's shared tag, category and author objects (shared_wrapper)."""
    meta = content.metadata
    for name in ("category", "author"):
        value = getattr(content, name, None)
        if value is not None:
            shared = shared_wrapper(value)
            if shared is not value:
                setattr(content, name, shared)
                if meta.get(name) is value:
                    meta[name] = shared
    for name in ("tags", "authors"):
        values = getattr(content, name, None)
        if isinstance(values, list):
            values[:] = [shared_wrapper(value) for value in values]


def _cleaner() -> Callable[[str], str]:
    options: dict[str, Any] = {
        "tags": ALLOWED_TAGS,
        "url_schemes": URL_SCHEMES,
        "link_rel": "noopener noreferrer",
    }
    if hasattr(nh3, "Cleaner"):  # the allow-lists converted once, not on every call
        return nh3.Cleaner(**options).clean
    return functools.partial(nh3.clean, **options)


_CLEAN = _cleaner()


def clean_html(html: str) -> str:
    """Allow-list sanitise HTML from a crawled page: no script, handlers, frames or js: links."""
    return _CLEAN(html or "")


# Texts that clean_html gave back unchanged in this build: a story's HTML and summary as
# normalise left them (the objects the stories hold, so no copy). Cleaning one again gives
# it back again, so the templates' sanitising filter need not (csr_markup.safe_html).
# Emptied when a build starts and ends.
_FIXED_POINTS: set[str] = set()


def clean_html_noting(html: str) -> str:
    """clean_html(html), noting the result when cleaning left it unchanged."""
    cleaned = clean_html(html)
    if cleaned == html:
        _FIXED_POINTS.add(cleaned)
    return cleaned


def known_clean(text: str) -> bool:
    """True when clean_html(text) is text itself, as seen in this build."""
    return text in _FIXED_POINTS


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


# Taxonomy of the story schema -> the class of its value pages.
TAXA: dict[str, type[_Taxon]] = {"org": Org, "standard": Standard, "source": Source}
_LINK = ("http://", "https://")


def field_value(item: schema.Field, raw: Any, settings: dict[str, Any]) -> Any:
    """A story's attribute for one field of the story schema, from its metadata value."""
    if item.kind == "taxon":
        kind = TAXA[str(item.taxonomy)]
        if item.list:
            return [taxon(kind, name, settings) for name in split_list(raw)]
        name = str(raw or "").strip()
        return taxon(kind, name, settings) if name else None
    if item.kind == "list":
        return split_list(raw)
    if item.kind == "urls":
        return [url for url in split_list(raw) if url.startswith(_LINK)]
    if item.kind == "url":
        url = str(raw or "").strip()
        return url if url.startswith(_LINK) else ""
    if item.kind == "date":
        return parse_date(raw)
    return str(raw or "").strip()  # "text"


def normalise(content: Any) -> None:
    """Give a story the attributes of the story schema's fields, and clean its HTML."""
    if not isinstance(content, Article | Page):
        return
    settings = content.settings
    meta = content.metadata
    share_wrappers(content)
    for item in schema.fields():
        if item.kind != "pelican" and item.attr:
            setattr(content, item.attr, field_value(item, meta.get(item.meta), settings))
    pelican_compat.set_raw_html(content, clean_html_noting(pelican_compat.raw_html(content)))
    if "summary" in meta:
        content.metadata["summary"] = clean_html_noting(str(meta["summary"]))
        pelican_compat.set_summary_html(content, content.metadata["summary"])


def drop_hidden(generator: Any) -> None:
    """Hidden stories appear nowhere: not listed, not written."""
    dropped = len(generator.hidden_articles) + len(generator.hidden_translations)
    generator.hidden_articles = []
    generator.hidden_translations = []
    generator.drafts = []
    generator.drafts_translations = []
    if dropped:
        logger.info("left out %d hidden stories", dropped)


def freeze_urls(contents: Any) -> int:
    """Give each story or page its final ``url`` and ``save_as`` as Pelican overrides.

    Pelican formats ``ARTICLE_URL`` (copying the metadata, computing the source path) on
    every access; a story's URL is read on every page that links it. Once the generator has
    processed translations, slug, date, language and category no longer change, so the
    formatted values are stored in ``override_url``/``override_save_as``, which Pelican's
    ``get_url_setting`` returns as they are. Overrides already set (``URL``/``Save_as``
    metadata, or frozen by the build that cached the story) are kept. Returns how many
    values were set.
    """
    frozen = 0
    for content in contents:
        if not hasattr(content, "override_url"):
            content.override_url = content.url
            frozen += 1
        if not hasattr(content, "override_save_as"):
            content.override_save_as = content.save_as
            frozen += 1
    return frozen


def freeze_article_urls(generator: Any) -> None:
    """Before Pelican saves its reader cache: the cached stories keep their URLs.

    A story's URL depends on its file and the settings only (the reader cache is one per
    build setup, csrnews.site.build), so a story read from the cache needs no formatting.
    """
    stories = [*generator.articles, *generator.translations]
    unfrozen = [s for s in stories if not hasattr(s, "override_url")]
    unfrozen += [s for s in stories if not hasattr(s, "override_save_as")]
    if freeze_urls(stories):
        # the cached stories changed: save them (only those, when the cache can say so)
        incremental.mark_cache_changed(generator, unfrozen)


def freeze_page_urls(generator: Any) -> None:
    freeze_urls(
        [
            *generator.pages,
            *generator.translations,
            *generator.hidden_pages,
            *generator.hidden_translations,
        ]
    )


def forget_taxa(_pelican: Any) -> None:
    _TAXA.clear()
    _WRAPPERS.clear()
    _FIXED_POINTS.clear()


def register() -> None:
    signals.initialized.connect(forget_taxa)
    signals.finalized.connect(forget_taxa)
    signals.content_object_init.connect(normalise)
    signals.article_generator_pretaxonomy.connect(drop_hidden)
    signals.article_generator_pretaxonomy.connect(freeze_article_urls)
    signals.page_generator_finalized.connect(freeze_page_urls)
