"""The site's URL scheme in one place, shared by the Pelican settings and the search index."""

from __future__ import annotations

# Pelican settings use these patterns; story pages are directories with an index.html.
ARTICLE_URL = "news/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "news/{date:%Y}/{slug}/index.html"


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
    import re
    import unicodedata

    from markupsafe import Markup
    from unidecode import unidecode  # Pelican's own dependency

    value = unidecode(unicodedata.normalize("NFKC", Markup(title).striptags()))
    for pattern, replacement in SLUG_SUBSTITUTIONS:
        value = re.sub(pattern, replacement, value, flags=re.IGNORECASE)
    return value.lower().strip()
