"""A story file's search document: the fields the Whoosh index and the static search take.

Kept apart from csrnews.search.indexer so that the static search (a process of its own)
makes its records without importing Whoosh or numpy.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

from csrnews.story import schema
from csrnews.story.storyfile import FULLTEXT_SUFFIX, Story, canonical_key
from csrnews.story.urls import story_url, title_slug
from csrnews.story.vocabulary import event_type_id

HIDDEN_STATUSES = {"hidden", "draft"}


_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Markdown marks: headings and quotes, emphasis, list bullets and numbers, table bars.
_MD_MARK = r"(^|\s)[#>]+\s|[*_`]{1,3}|^\s*[-+*]\s+|^\s*\d+\.\s+|\|"
# The lookahead names the characters a mark can start with: the same matches, found without
# trying every alternative at every position (about twice as fast on story bodies).
_MD_MARK_RE = re.compile(rf"(?=[\s#>*_`|+\-\d])(?:{_MD_MARK})", re.MULTILINE)
_HTML_TAG_RE = re.compile(r"<[^>]+>")
_RULE_RE = re.compile(r"^\s*-{3,}\s*$", re.MULTILINE)
# Runs of spaces and tabs become one space: only a run that is not one space already changes
# (the same text as replacing every run, found without a replacement for each word's space).
_SPACES_RE = re.compile(r"\t[ \t]*| [ \t]+")


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown body, good enough for indexing and snippets.

    Each step runs only when the text holds what it replaces (a link's ``](``, a tag's ``<``,
    a rule's ``---``, a tab or two spaces): the same text, without a scan that finds nothing.
    """
    text = _MD_LINK_RE.sub(r"\1", markdown) if "](" in markdown else markdown
    if "<" in text:
        text = _HTML_TAG_RE.sub(" ", text)
    text = _MD_MARK_RE.sub(" ", text)
    if "---" in text:
        text = _RULE_RE.sub(" ", text)
    if "\t" in text or "  " in text:
        text = _SPACES_RE.sub(" ", text)
    return text.strip()


def parse_date(value: str) -> datetime | None:
    """A story's Date as a naive datetime (its own local time), or None."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(value[:10], "%Y-%m-%d")
        except ValueError:
            return None
    return parsed.replace(tzinfo=None)


def _fulltext_path(path: Path) -> Path:
    return path.with_name(path.stem + FULLTEXT_SUFFIX)


def content_hash(path: Path) -> str:
    """Hash of a story file and its full-text sidecar, if any."""
    digest = hashlib.sha1(path.read_bytes())
    sidecar = _fulltext_path(path)
    if sidecar.exists():
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def story_document(
    story: Story,
    doc_id: str,
    digest: str,
    *,
    fulltext: str | None = None,
    look_for_sidecar: bool = True,
) -> dict[str, object] | None:
    """The index document of one story, or None when it is hidden or has no title.

    The body is ``fulltext`` when given (the sidecar's text, already read), else the text of
    the story's full-text sidecar if it has one (unless ``look_for_sidecar`` is false: the
    caller's scan found none), else its Markdown body as plain text.
    """
    fields, key = _header_keys()
    meta = story.meta
    title = meta.get(key["Title"], "")
    if meta.get(key["Status"], "").lower() in HIDDEN_STATUSES or not title:
        return None
    date = parse_date(meta.get(key["Date"], ""))
    if fulltext is None and look_for_sidecar and story.path is not None:
        sidecar = _fulltext_path(story.path)
        if sidecar.exists():
            fulltext = sidecar.read_text(encoding="utf-8")
    body = markdown_to_text(story.body) if fulltext is None else fulltext
    slug = meta.get(key["Slug"], "") or title_slug(title)  # as Pelican makes it (SLUGIFY_SOURCE)
    doc: dict[str, object] = {
        "id": doc_id,
        "hash": digest,
        "url": story_url(date.year if date else "undated", slug),
        "body": body,
    }
    for name, header, is_list in fields:  # each schema field with an index field of its own
        value = meta.get(header, "")
        doc[name] = ",".join(p.strip() for p in value.split(",") if p.strip()) if is_list else value
    doc["org_facet"] = doc["organisations"]
    doc["category"] = event_type_id(meta.get(key["Category"], "") or "other")
    doc["source"] = meta.get(key["Source"], "") or "unknown"
    doc["lang"] = (meta.get(key["Lang"], "") or "en").lower()
    if date is not None:
        doc["date"] = date
        doc["year"] = date.year
    return doc


# Index fields whose values story_document works out itself (not the header value as it is).
_DERIVED_VALUES = frozenset({"date", "category", "source", "lang"})

# The header keys story_document reads itself.
_READ = ("Title", "Status", "Date", "Slug", "Category", "Source", "Lang")
_HeaderRows = tuple[tuple[str, str, bool], ...]
_header_table: tuple[tuple[schema.Field, ...], _HeaderRows, dict[str, str]] | None = None


def _header_keys() -> tuple[_HeaderRows, dict[str, str]]:
    """(index field, header key as Story.meta spells it, is a list) of each indexed schema
    field whose value is the header's, and the Story.meta key of each key in _READ: the key
    lookups of Story.get made once per schema table (tests replace the table), not for every
    field of every story."""
    global _header_table
    table = schema.fields()
    if _header_table is None or _header_table[0] is not table:
        rows = tuple(
            (str(item.index), canonical_key(item.key), item.list)
            for item in schema.indexed()
            if item.index not in _DERIVED_VALUES
        )
        _header_table = (table, rows, {name: canonical_key(name) for name in _READ})
    return _header_table[1], _header_table[2]
