"""The site's URL scheme in one place, shared by the Pelican settings and the search index."""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup
from unidecode import unidecode  # Pelican's own dependency

from csrnews.story import schema

# Pelican settings use these patterns; story pages are directories with an index.html.
ARTICLE_URL = "news/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "news/{date:%Y}/{slug}/index.html"


# Pelican's own setting names of the taxonomies it makes pages for itself.
_PELICAN_PREFIX = {"type": "CATEGORY", "tag": "TAG"}


def taxonomy_urls() -> dict[str, str]:
    """The URL settings of every taxonomy of the story schema (CATEGORY_URL, ORG_URL, ...).

    A value's page is /<taxonomy>/<slug>/, the list of values /<taxonomy>/; pelicanconf.py
    takes them from here, the plugins and templates read them from Pelican's settings.
    """
    found: dict[str, str] = {}
    for item in schema.fields():
        if not item.taxonomy:
            continue
        folder = item.taxonomy
        prefix = _PELICAN_PREFIX.get(folder, folder.upper())
        plural = "CATEGORIES" if prefix == "CATEGORY" else f"{prefix}S"
        found[f"{prefix}_URL"] = f"{folder}/{{slug}}/"
        found[f"{prefix}_SAVE_AS"] = f"{folder}/{{slug}}/index.html"
        found[f"{plural}_URL"] = f"{folder}/"
        if folder in _PELICAN_PREFIX:  # the plugins write the other lists themselves
            found[f"{plural}_SAVE_AS"] = f"{folder}/index.html"
    return found


def story_url(year: int | str, slug: str) -> str:
    """The site-relative URL of a story page (leading slash, trailing slash)."""
    return f"/news/{year}/{slug}/"


# pelicanconf.SLUG_REGEX_SUBSTITUTIONS (tests/test_reliability_inputs.py keeps them equal).
SLUG_SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    (r"[^\w\s-]", ""),
    (r"(?u)\A\s*", ""),
    (r"(?u)\s*\Z", ""),
    (r"[-\s]+", "-"),
)


def title_slug(title: str) -> str:
    """The slug Pelican gives a story without a Slug key: its title, as pelican.utils.slugify.

    Markup stripped, NFKC, transliterated to ASCII, the substitutions above, lower case.
    """
    value = unidecode(unicodedata.normalize("NFKC", Markup(title).striptags()))
    for pattern, replacement in SLUG_SUBSTITUTIONS:
        value = re.sub(pattern, replacement, value, flags=re.IGNORECASE)
    return value.lower().strip()
