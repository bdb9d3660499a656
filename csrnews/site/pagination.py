"""Listing pages that do not move: numbered from the oldest story, shown newest first.

Pelican numbers a list's pages from the newest story, so one new story moves a story from
every page to the next and changes them all. Here the lists are paginated oldest story first:
page 1 holds the 20 oldest stories, page 2 the next 20, and so on; the newest page is the
list's own URL (the ``-1`` rule of ``PAGINATION_PATTERNS``) and holds the newest 20 to 39
stories (``DEFAULT_ORPHANS`` = page size - 1), so that it is never nearly empty. A story
published after the others changes only the newest page; every 20 stories the newest page
gives its 20 oldest to a new numbered page. A numbered page's URL and stories stay the same
as long as no story older than its newest one is added or removed. Templates show each
page's stories newest first and link to the newer and the older page.
"""

from __future__ import annotations

import logging
from operator import attrgetter
from typing import Any

from csrnews.site import pelican_compat

logger = logging.getLogger(__name__)

# The lists Pelican's writer paginates when a page is given no ``paginated`` argument.
_LISTS = ("articles", "dates")


def oldest_first(stories: Any) -> list[Any]:
    """A list of stories in page order: by date, oldest first (ties as listed, reversed)."""
    return sorted(reversed(list(stories)), key=attrgetter("date"))


class StablePagesWriter(pelican_compat.WriterBase):
    """Pelican's writer, paginating every list oldest story first (see the module's text)."""

    def write_file(
        self,
        name: Any,
        template: Any,
        context: Any,
        relative_urls: bool = False,
        paginated: Any = None,
        template_name: Any = None,
        override_output: bool = False,
        url: Any = None,
        **kwargs: Any,
    ) -> Any:
        settings: dict[str, Any] = self.settings  # type: ignore[has-type]
        pages = settings.get("PAGINATED_TEMPLATES") or {}
        if name and template_name in pages:
            lists = paginated
            if lists is None:
                lists = {key: value for key, value in kwargs.items() if key in _LISTS}
            if lists:
                ordered: dict[int, list[Any]] = {}  # a list given twice (articles=dates) once
                paginated = {}
                for key, value in lists.items():
                    if id(value) not in ordered:
                        ordered[id(value)] = oldest_first(value)
                    paginated[key] = ordered[id(value)]
                per_page = pages[template_name] or settings["DEFAULT_PAGINATION"]
                self.settings = {**settings, "DEFAULT_ORPHANS": max(0, per_page - 1)}
        try:
            return super().write_file(
                name,
                template,
                context,
                relative_urls,
                paginated,
                template_name,
                override_output,
                url,
                **kwargs,
            )
        finally:
            self.settings = settings
