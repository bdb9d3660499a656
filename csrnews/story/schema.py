"""The story schema: one table of every story field and what each stage does with it.

Each row is a header key of the story file and how the stages read it: a comma-separated
list or a scalar; the attribute the site's Pelican plugins give the story (``attr``); the
Whoosh field it is indexed in and how (``index``, ``analyzer``); the facet of the search
answer (``facet``); the pages of its values (``taxonomy``: /org/<slug>/ ...); its name in the
JSON of /api/search and `csrnews search --json` (``json``); the query filter and field
aliases (``filter``, ``aliases``).

storyfile (key order, lists), the Pelican plugins (csr_meta), the Whoosh schema and the
indexer, the query parser's aliases and filters, the facets and the API's hits all read this
table, at the time they run, through the functions below. Adding a field is one ``Field`` row
here plus the template line that shows it (tests/test_story_schema.py adds one and follows it
to the story file, the page, the index and the API).

A field's ``kind`` says how a plugin turns the header value into the story's attribute:
``list`` (a list of strings), ``taxon`` (pages of their own: Org, Standard, Source objects),
``urls`` (a list of http(s) links), ``url`` (one http(s) link), ``date`` (a date), ``text``
(the value as it is), or ``pelican`` (Pelican reads the key itself: title, date, tags, ...).
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass

# How a Whoosh field analyses a value (csrnews.search.schema maps each to a Whoosh field type).
TEXT = "text"  # the mixed English/Chinese analyzer, stemmed
TEXT_UNSTEMMED = "text-unstemmed"  # the same, without stemming (codes: SJ/T 16000-2016)
KEYWORD = "keyword"  # comma-separated values, lower-cased, one term each
ID = "id"  # the value as one term, sortable
DATETIME = "datetime"
NUMERIC = "numeric"
STORED = "stored"  # kept for the answer, not searched


@dataclass(frozen=True)
class Field:
    """One story field (one row of the table)."""

    key: str  # the header key as written ("Organisations"); Pelican reads it lower-cased
    list: bool = False  # comma-separated values
    kind: str = "pelican"  # how a plugin sets the story's attribute (see the module docstring)
    attr: str | None = None  # the story's attribute in templates (article.<attr>)
    index: str | None = None  # the Whoosh field it is indexed in
    analyzer: str | None = None  # TEXT, TEXT_UNSTEMMED, KEYWORD, ID, DATETIME, NUMERIC, STORED
    boost: float = 1.0  # the index field's weight in relevance
    facet: str | None = None  # the facet of the search answer
    taxonomy: str | None = None  # URL folder of its value pages: /<taxonomy>/<slug>/
    json: str | None = None  # the hit's key in the search API's JSON
    filter: str | None = None  # the query filter (`?org=...` in the API, `org:` in queries)
    aliases: tuple[str, ...] = ()  # other names of the index field in a query (`org:amfori`)

    @property
    def meta(self) -> str:
        """The key as Pelican's metadata holds it (lower case)."""
        return self.key.lower()


# The table. Order is the order keys are written in a story file; keys an editor adds that
# are not here are kept after these.
FIELDS: tuple[Field, ...] = (
    Field(
        "Title",
        attr="title",
        index="title",
        analyzer=TEXT,
        boost=3.0,
        json="title",
    ),
    Field("Date", attr="date", index="date", analyzer=DATETIME, json="date"),
    Field("Modified", attr="modified"),
    Field("Slug", attr="slug"),
    Field("Lang", attr="lang", index="lang", analyzer=ID, facet="lang", json="lang", filter="lang"),
    Field("Summary", attr="summary", index="summary", analyzer=TEXT, boost=1.5),
    Field(
        "Category",  # the event type's label; its id (csrnews.story.vocabulary) is indexed
        attr="category",
        index="category",
        analyzer=ID,
        facet="type",
        taxonomy="type",
        json="category",
        filter="type",
        aliases=("type",),
    ),
    Field(
        "Tags",
        list=True,
        attr="tags",
        index="tags",
        analyzer=KEYWORD,
        taxonomy="tag",
        filter="tag",
        aliases=("tag",),
    ),
    Field(
        "Organisations",
        list=True,
        kind="taxon",
        attr="organisations",
        index="organisations",
        analyzer=KEYWORD,
        boost=2.0,
        facet="organisation",
        taxonomy="org",
        json="organisations",
        filter="org",
        aliases=("org", "organisation", "organization"),
    ),
    Field(
        "Standards",
        list=True,
        kind="taxon",
        attr="standards",
        index="standards",
        analyzer=TEXT_UNSTEMMED,
        boost=2.0,
        taxonomy="standard",
        filter="standard",
        aliases=("standard", "std"),
    ),
    Field("Locations", list=True, kind="list", attr="locations"),
    Field("Event_date", kind="date", attr="event_date_obj"),
    Field(
        "Source",
        kind="taxon",
        attr="source_obj",
        index="source",
        analyzer=ID,
        facet="source",
        taxonomy="source",
        json="source",
        filter="source",
    ),
    Field("Source_url", kind="url", attr="source_url"),
    Field("Also_reported_by", list=True, kind="urls", attr="also_reported_by"),
    Field("Top10_items"),  # JSON on one line: [{"rank": 1, "headline": "...", "reason": "..."}]
    Field("Republish"),  # "excerpt": the body keeps the lead (full text in the sidecar file)
    Field("Status"),  # Pelican's: "hidden" or "draft" hides a story from the site
    Field("Crawled"),
    Field("Fingerprint"),
)

# Index fields that are no header key of their own.
DERIVED_INDEX = {
    "id": ID,  # the story file's path relative to content/
    "hash": STORED,  # content hash of the story file (and its full-text sidecar)
    "url": STORED,  # /news/<year>/<slug>/ (csrnews.story.urls)
    "body": TEXT,  # the Markdown body as text, or the full-text sidecar
    "year": NUMERIC,  # of Date; a facet
    "org_facet": KEYWORD,  # Organisations again, kept as written for the facet's display
}
# Facets that come from derived index fields, and their order in the answer.
FACET_ORDER = ("type", "organisation", "year", "source", "lang")
FACET_FIELDS = {"year": "year", "organisation": "org_facet"}  # facet -> index field, when other


def fields() -> tuple[Field, ...]:
    """The table as it is now (tests may add a row)."""
    return FIELDS


def field(key: str) -> Field:
    """The row of a header key (any case); KeyError when the table has none."""
    for item in FIELDS:
        if item.key.lower() == key.lower():
            return item
    raise KeyError(key)


def key_order() -> tuple[str, ...]:
    """Header keys in the order a story file writes them."""
    return tuple(item.key for item in FIELDS)


def list_keys() -> frozenset[str]:
    """Header keys whose values are comma-separated lists."""
    return frozenset(item.key for item in FIELDS if item.list)


def indexed() -> tuple[Field, ...]:
    """Fields with a Whoosh field of their own."""
    return tuple(item for item in FIELDS if item.index)


def filters() -> dict[str, str]:
    """Query filter name -> index field (`?org=amfori` searches `organisations`)."""
    found = {item.filter: item.index for item in FIELDS if item.filter and item.index}
    found["year"] = "year"
    return found


def aliases() -> dict[str, list[str]]:
    """Index field -> the other names a query may give it (`org:amfori`)."""
    return {item.index: list(item.aliases) for item in FIELDS if item.index and item.aliases}


def facets() -> dict[str, str]:
    """Facet name -> index field, in the order of the answer (new facets after the others)."""
    found = {item.facet: item.index for item in FIELDS if item.facet and item.index}
    found |= {name: index for name, index in FACET_FIELDS.items()}
    ordered = {name: found[name] for name in FACET_ORDER if name in found}
    ordered |= {name: index for name, index in found.items() if name not in ordered}
    return ordered


def json_fields() -> tuple[Field, ...]:
    """Fields the API's hits carry under their JSON name."""
    return tuple(item for item in FIELDS if item.json)


def version() -> str:
    """A digest of the table's index part: an index of another digest is rebuilt."""
    rows = [astuple(item) for item in FIELDS if item.index or item.facet or item.json]
    text = repr((rows, sorted(DERIVED_INDEX.items()), FACET_ORDER, sorted(FACET_FIELDS.items())))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
