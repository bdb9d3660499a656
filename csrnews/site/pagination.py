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

A list whose pages were all kept from the last build is not paginated again in an incremental
build (csrnews.site.incremental): each list's pages and their keys are kept in the reader
cache's folder (``csrnews-lists.pickle``) with the list's signature, the key of its first
page (which holds every value its pages read but their stories: template, settings, code,
the list's own values) and the digest of its stories in order (each story's own text and
metadata, which decide what a page shows of it). When the signature is the same and the
previous site holds those pages with those keys, every page's key is the one it had, so each
page is kept as the incremental writer keeps it, without making its key again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from operator import attrgetter
from typing import Any

from pelican import signals
from pelican.paginator import Paginator
from pelican.utils import get_relative_path, path_to_url, sanitised_join

from csrnews.site import pelican_compat

logger = logging.getLogger(__name__)

# The lists Pelican's writer paginates when a page is given no ``paginated`` argument.
_LISTS = ("articles", "dates")


def oldest_first(stories: Any) -> list[Any]:
    """A list of stories in page order: by date, oldest first (ties as listed, reversed)."""
    return sorted(reversed(list(stories)), key=attrgetter("date"))


STORE = "csrnews-lists.pickle"  # in the reader cache's folder (CACHE_PATH)
_FORMAT = 1


class Lists:
    """The paginated lists of the last build (signature, page names and keys) and of this one."""

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, STORE)
        # by list (template and name): by page, its signature and key
        self.last: dict[str, dict[str, tuple[str, str]]] = {}
        self.made: dict[str, dict[str, tuple[str, str]]] = {}
        self._own: dict[int, tuple[Any, str]] = {}  # by story: the story and its digest
        try:
            with open(self.path, "rb") as handle:
                data = pickle.load(handle)
        except Exception:  # none yet, or unreadable: every list is paginated
            return
        if isinstance(data, dict) and data.get("format") == _FORMAT:
            lists = data.get("lists")
            self.last = lists if isinstance(lists, dict) else {}

    def digests(self, plan: Any, stories: list[Any]) -> list[str]:
        """Each story's own digest (the incremental plan's, of its text and metadata)."""
        memo = self._own
        of = plan.story_digest
        out = []
        for story in stories:
            known = memo.get(id(story))
            if known is None or known[0] is not story:
                known = memo[id(story)] = (story, of(story))
            out.append(known[1])
        return out

    def save(self) -> None:
        """This build's lists, for the next build (written atomically; errors only logged)."""
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as handle:
                pickle.dump({"format": _FORMAT, "lists": self.made}, handle, protocol=5)
            os.replace(temporary, self.path)
        except OSError as exc:
            logger.warning("the list pages' keys could not be saved (%s)", exc)
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _stories(page: Any, digests: list[str]) -> str:
    """The digests of a page's stories: the slice of its list Pelican's Paginator gives it."""
    paginator = page.paginator
    bottom = (page.number - 1) * paginator.per_page
    top = bottom + paginator.per_page
    if top + paginator.orphans >= paginator.count:
        top = paginator.count
    if top - bottom != len(page.object_list):  # not Pelican's slicing: each story asked
        raise RuntimeError(f"page {page.number} of {page.full_name}: not the expected slice")
    return "\x00".join(digests[bottom:top])


_OPEN: list[Lists] = []  # the lists of the build running (saved when it ends)
_BY_PLAN: dict[int, tuple[Any, Lists]] = {}


def _keyed(template: Any) -> tuple[Any, Any] | None:
    """The incremental build's plan and the Jinja template behind a template the incremental
    writer wraps, or None (csrnews.site.incremental imports this module: imported here late)."""
    from csrnews.site.incremental import keyed

    return keyed(template)


def _lists_of(plan: Any, settings: dict[str, Any]) -> Lists | None:
    known = _BY_PLAN.get(id(plan))
    if known is not None and known[0] is plan:
        return known[1]
    folder = settings.get("CACHE_PATH")
    if not folder:
        return None
    lists = Lists(str(folder))
    _BY_PLAN.clear()  # one build at a time: an older build's plan is done
    _BY_PLAN[id(plan)] = (plan, lists)
    _OPEN[:] = [lists]
    return lists


def _build_ends(_pelican: Any) -> None:
    for lists in _OPEN:
        lists.save()
    _OPEN.clear()
    _BY_PLAN.clear()


def _build_starts(_pelican: Any) -> None:
    _OPEN.clear()  # a build that failed before it ended saves nothing
    _BY_PLAN.clear()


signals.initialized.connect(_build_starts)
signals.finalized.connect(_build_ends)


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
                found = _keyed(template)
                plan = None if found is None else found[0]
                lists_kept = None if plan is None else _lists_of(plan, settings)
                if plan is not None and lists_kept is not None:
                    try:
                        return self._write_list(
                            plan,
                            lists_kept,
                            name,
                            template,
                            context,
                            relative_urls,
                            paginated,
                            template_name,
                            override_output,
                            url,
                            per_page,
                            kwargs,
                        )
                    finally:
                        self.settings = settings
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

    def _write_list(
        self,
        plan: Any,
        lists: Lists,
        name: Any,
        template: Any,
        context: Any,
        relative_urls: bool,
        paginated: dict[str, list[Any]],
        template_name: Any,
        override_output: bool,
        url: Any,
        per_page: int,
        kwargs: dict[str, Any],
    ) -> None:
        """One paginated list of an incremental build, page by page: Pelican's writer's loop,
        with each page whose signature and key are the last build's kept without its key."""
        paginators = {
            key: Paginator(name, url, value, self.settings, per_page)
            for key, value in paginated.items()
        }
        count = next(iter(paginators.values())).num_pages
        made: dict[tuple[str, int], Any] = {}  # each list's pages, each made once

        def page(key: str, number: int) -> Any:
            known = made.get((key, number))
            if known is None:
                known = made[key, number] = paginators[key].page(number)
                made.pop((key, number - 2), None)  # no longer needed: pages go in order
            return known

        urls: dict[int, str] = {}  # by page number: the same for each list's page

        def url_of(page: Any) -> str:
            known = urls.get(page.number)
            if known is None:
                known = urls[page.number] = str(page.url)
            return known

        def local_context(save_as: str, values: dict[str, Any]) -> dict[str, Any]:
            local = context.copy()  # as Pelican's writer makes it
            local["localsiteurl"] = local.get("localsiteurl", None)
            if relative_urls:
                local["SITEURL"] = local["localsiteurl"] = path_to_url(get_relative_path(save_as))
            local["output_file"] = save_as
            local.update(values)
            return local

        # what every page reads but its own pages: the key of the list without them
        probe = kwargs.copy()
        for key, paginator in paginators.items():
            probe.update(
                {
                    f"{key}_paginator": paginator,
                    f"{key}_page": None,
                    f"{key}_previous_page": None,
                    f"{key}_next_page": None,
                }
            )
        probe_context = local_context(name, probe)
        probe_context["output_file"] = f"{name}#list"  # the list's key, no page's
        shared = plan.page_key(template.template, probe_context)  # the Jinja template
        family = f"{template_name}\x00{name}"
        # each story's digest of its own text and metadata (what decides what a page shows
        # of it), in page order, once per list (articles and dates are one list)
        digests: dict[int, list[str]] = {}
        for value in paginated.values():
            if id(value) not in digests:
                digests[id(value)] = lists.digests(plan, value)
        last = lists.last.get(family) or {}
        kept = lists.made[family] = {}
        for number in range(1, count + 1):
            values = kwargs.copy()
            digest = hashlib.blake2b(f"{shared}\x00{url}\x00{name}".encode(), digest_size=16)
            for key in paginators:
                this = page(key, number)
                before = page(key, number - 1) if number > 1 else None
                after = page(key, number + 1) if number < count else None
                values.update(
                    {
                        f"{key}_paginator": paginators[key],
                        f"{key}_page": this,
                        f"{key}_previous_page": before,
                        f"{key}_next_page": after,
                    }
                )
                digest.update(
                    "\x00".join(
                        (
                            key,
                            str(number),
                            str(this.has_next()),
                            _stories(this, digests[id(paginated[key])]),
                            "-" if before is None else f"{before.number} {url_of(before)}",
                            "-" if after is None else f"{after.number} {url_of(after)}",
                        )
                    ).encode()
                )
            save_as = this.save_as
            page_name = os.path.normpath(save_as)
            signature = digest.hexdigest()
            local = local_context(save_as, values)
            if local["localsiteurl"]:  # before rendering: stories make their links with it
                context["localsiteurl"] = local["localsiteurl"]
            seen = last.get(page_name)
            if seen is not None and seen[0] == signature and plan.keep_recorded(page_name, seen[1]):
                path = sanitised_join(self.output_path, save_as)
                if override_output:
                    self.overridden_files().add(path)
                self.written_files().add(path)
                kept[page_name] = seen
            else:
                path = self._write_page(template, local, save_as, override_output)
                key_made = plan.key_made(page_name)
                if key_made is not None:
                    kept[page_name] = (signature, key_made)
            signals.content_written.send(path, context=local)

    def _write_page(
        self, template: Any, local: dict[str, Any], save_as: str, override: bool
    ) -> str:
        """Pelican's writer's ``_write_file`` but for its content_written signal; the path."""
        output = template.render(local)
        path = sanitised_join(self.output_path, save_as)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with self.open_output(path, "utf-8", override=override) as handle:
            handle.write(output)
        logger.info('Writing "%s"', path)
        return path
