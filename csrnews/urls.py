"""The site's URL scheme in one place, shared by the Pelican settings and the search index."""

from __future__ import annotations

# Pelican settings use these patterns; story pages are directories with an index.html.
ARTICLE_URL = "news/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "news/{date:%Y}/{slug}/index.html"


def story_url(year: int | str, slug: str) -> str:
    """The site-relative URL of a story page (leading slash, trailing slash)."""
    return f"/news/{year}/{slug}/"
