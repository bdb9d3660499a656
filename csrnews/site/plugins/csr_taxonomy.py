"""Organisation, standard and source pages with feeds, their directories, and period feeds."""

from __future__ import annotations

import io
import logging
import zlib
from collections import defaultdict
from functools import partial
from typing import Any

from feedgenerator import Atom1Feed, Rss201rev2Feed
from feedgenerator.django.utils.xmlutils import SimplerXMLGenerator
from pelican import signals
from pelican.generators import Generator

from csrnews.site import pelican_compat

logger = logging.getLogger(__name__)

KINDS = (  # attribute on the article, context key, directory title
    ("organisations", "orgs", "Organisations"),
    ("standards", "standards", "Standards"),
    ("source_obj", "sources", "Sources"),
)


class TaxonomyGenerator(Generator):
    """Writes /org/<slug>/, /standard/<slug>/, /source/<slug>/ (paginated) and their feeds."""

    def generate_context(self) -> None:
        articles = self.context.get("articles", [])
        for attr, key, _title in KINDS:
            groups: dict[Any, list[Any]] = defaultdict(list)
            for article in articles:
                value = getattr(article, attr, None)
                for item in value if isinstance(value, list) else [value] if value else []:
                    groups[item].append(article)
            self.context[key] = sorted(groups.items(), key=lambda kv: kv[0].name.lower())

    def generate_output(self, writer: Any) -> None:
        write = partial(writer.write_file, relative_urls=self.settings["RELATIVE_URLS"])
        template = self.get_template("taxonomy")
        directory = self.get_template("directory")
        for _attr, key, title in KINDS:
            kind = key.rstrip("s") if key != "orgs" else "org"
            for item, articles in self.context[key]:
                write(
                    item.save_as,
                    template,
                    self.context,
                    taxon=item,
                    taxon_kind=kind,
                    articles=articles,
                    dates=articles,
                    template_name="taxonomy",
                    blog=True,
                    url=item.url,
                    page_name=item.page_name,
                    feed_atom=f"feeds/{kind}/{item.slug}.atom.xml",
                )
                writer.write_feed(
                    articles,
                    self.context,
                    f"feeds/{kind}/{item.slug}.atom.xml",
                    feed_title=item.name,  # Pelican puts the site's name before it
                )
            url = self.settings[f"{kind.upper()}S_URL"]
            write(
                f"{url}index.html",
                directory,
                self.context,
                directory_title=title,
                entries=self.context[key],
                url=url,
                template_name="directory",
            )
        for granularity in ("year", "month"):
            for period in self.context.get("period_archives", {}).get(granularity, []):
                path = "feeds/" + period["save_as"].replace("/index.html", "") + ".atom.xml"
                label = " ".join(str(p) for p in period["period"])
                writer.write_feed(
                    period["articles"],
                    self.context,
                    path,
                    feed_title=label,
                )


# Feed entries as written, by feed type and the entry's values. A story is an entry of the
# site feeds and of its type, tag, organisation, standard, source, year and month feeds, with
# the same values in each; its XML is written once. The XML is kept compressed (a third of
# its size; the story's full text is in each Atom entry: about 40 MB at 20,000 stories
# otherwise), and the key holds the values (the strings the stories hold anyway) in one
# tuple. Emptied when a build starts and ends.
_ENTRIES: dict[tuple[Any, ...], bytes] = {}


def _entry_key(feed: Any, item: dict[str, Any]) -> tuple[Any, ...]:
    return (
        type(feed),
        tuple(item),
        tuple(tuple(v) if isinstance(v, list) else v for v in item.values()),
    )


class _EntryCache:
    """``write_items`` of a feedgenerator feed, each entry's XML made once per build."""

    items: list[dict[str, Any]]

    def write_items(self, handler: Any) -> None:
        base = _BASES[type(self)]
        for item in self.items:
            try:
                key: tuple[Any, ...] | None = _entry_key(self, item)
                kept = _ENTRIES.get(key)  # type: ignore[arg-type]
            except TypeError:  # a value that cannot be a key: not kept
                key, kept = None, None
            text = None if kept is None else zlib.decompress(kept).decode("utf-8")
            if text is None:
                out = io.StringIO()
                saved, self.items = self.items, [item]
                try:  # feedgenerator's own writing, of this one entry
                    base.write_items(self, SimplerXMLGenerator(out, "utf-8", True))
                finally:
                    self.items = saved
                text = out.getvalue()
                if key is not None:
                    _ENTRIES[key] = zlib.compress(text.encode("utf-8"), 1)
            handler.ignorableWhitespace(text)  # written as it is (it is XML already)


class _CachedAtom1Feed(_EntryCache, Atom1Feed):
    """Atom1Feed whose entries come from the build's entry cache."""


class _CachedRss201rev2Feed(_EntryCache, Rss201rev2Feed):
    """Rss201rev2Feed whose items come from the build's entry cache."""


_CACHED = {Atom1Feed: _CachedAtom1Feed, Rss201rev2Feed: _CachedRss201rev2Feed}
_BASES = {cached: base for base, cached in _CACHED.items()}


NO_HOST = "csrnews.invalid"  # the tag URIs' authority when no site URL is set (RFC 4151)


def _tag_uri(path: str) -> str:
    return f"tag:{NO_HOST},2006:{path}"


def complete_feed(context: Any, feed: Any) -> None:
    """Pelican's feed_generated: what Atom requires that Pelican leaves out or gets wrong.

    A feed-level author (the site); each feed's own id (its absolute URL; Pelican gives every
    feed the site's URL); without a site URL, tag URIs under ``csrnews.invalid`` instead of
    ``tag:None,...`` and of a bare path. Then this feed's entries come from the entry cache.
    """
    info = feed.feed
    info["author_name"] = info.get("author_name") or context.get("SITENAME") or "csrnews"
    feed_url = str(info.get("feed_url") or "")
    if feed_url.startswith(("http://", "https://")):
        info["id"] = feed_url
    else:
        info["id"] = _tag_uri(feed_url or "/")
    for item in feed.items:
        unique_id = str(item.get("unique_id") or "")
        if unique_id.startswith("tag:None,"):
            item["unique_id"] = f"tag:{NO_HOST}," + unique_id[len("tag:None,") :]
    cache_feed_entries(context, feed)


def cache_feed_entries(_context: Any, feed: Any) -> None:
    """This feed's entries written from the build's entry cache (each entry's XML made once)."""
    cached = _CACHED.get(type(feed))
    if cached is not None:
        feed.__class__ = cached


def forget_entries(_pelican: Any) -> None:
    _ENTRIES.clear()


class Members(list):
    """The stories of one tag, type or period: a list whose ``in`` is a set lookup.

    Pelican asks, for every tag and type page, ``story in stories_of_the_tag`` for every story
    of the site (and, for every year and month, for every story again): quadratic in the
    number of stories. Stories compare by identity (Content has no ``__eq__``), so a set of
    ``id``s answers the same. The list is not changed after it is made.
    """

    __slots__ = ("_ids",)

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self._ids = frozenset(map(id, self))

    def __contains__(self, item: object) -> bool:
        return id(item) in self._ids


def fast_period_archives(generator: Any) -> None:
    """article_generator_init: period archives without Pelican's quadratic membership test.

    ``ArticlesGenerator._build_period_archives`` fills each year's and month's ``articles``
    with ``[a for a in articles if a in dates]`` (every story, for every period). Here
    Pelican builds the periods with no stories to filter, and each story is then put on the
    lists of its periods in one pass: the same lists, in the same order.
    """
    build = pelican_compat.period_archives_builder(generator)
    if build is None:
        return

    def build_period_archives(sorted_articles: Any, articles: Any, settings: Any) -> Any:
        archives = build(generator, sorted_articles, [], settings)
        # one pass over the stories for all periods (not one per year and month)
        lists_of: dict[int, list[list[Any]]] = {}
        for periods in archives.values():
            for period in periods:
                period["articles"] = []
                for story in period["dates"]:
                    lists_of.setdefault(id(story), []).append(period["articles"])
        for story in articles:
            for members in lists_of.get(id(story), ()):
                members.append(story)
        return archives

    pelican_compat.replace_period_archives(generator, build_period_archives)


def fast_membership(generator: Any) -> None:
    """article_generator_finalized: tag, type and author story lists as Members (same order)."""
    for tag in list(generator.tags):
        generator.tags[tag] = Members(generator.tags[tag])
    if isinstance(generator.categories, list):
        generator.categories[:] = [(cat, Members(arts)) for cat, arts in generator.categories]
    if isinstance(generator.authors, list):  # one author of every story: 20k x 20k otherwise
        generator.authors[:] = [(aut, Members(arts)) for aut, arts in generator.authors]


def get_generators(pelican: Any) -> type[Generator]:
    return TaxonomyGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
    signals.article_generator_init.connect(fast_period_archives)
    signals.article_generator_finalized.connect(fast_membership)
    signals.feed_generated.connect(complete_feed)
    signals.initialized.connect(forget_entries)
    signals.finalized.connect(forget_entries)
