"""The Whoosh schema of the story index, made from the story schema's table (one field a row)."""

from __future__ import annotations

from typing import Any

from csrnews.search.analysis import mixed_analyzer
from csrnews.search.codec import pack_text_positions
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema

from csrnews.story import schema as story_schema

# Bump when the analysis changes; the table's own digest is added (a new field rebuilds too).
ANALYSIS_VERSION = 2
POSTINGS_VERSION = 2  # 2: packed positions and posting blocks (csrnews.search.codec)
SPELLING = frozenset({"title", "body"})  # the words behind "did you mean"
UNSTORED = frozenset({"org_facet"})  # facet helpers: counted, never shown


def schema_version() -> str:
    """What an index records: an index of another version is rebuilt from the story files."""
    return f"{ANALYSIS_VERSION}-{story_schema.version()}-p{POSTINGS_VERSION}"


def _field(name: str, analyzer: str, boost: float, text: Any, unstemmed: Any) -> FieldType:
    stored = name not in UNSTORED
    if analyzer == story_schema.TEXT:
        spelling = name in SPELLING
        return pack_text_positions(
            TEXT(analyzer=text, stored=stored, field_boost=boost, spelling=spelling)
        )
    if analyzer == story_schema.TEXT_UNSTEMMED:
        return pack_text_positions(TEXT(analyzer=unstemmed, stored=stored, field_boost=boost))
    if analyzer == story_schema.KEYWORD:
        if not stored:
            return KEYWORD(commas=True)
        return KEYWORD(commas=True, lowercase=True, stored=True, scorable=True, field_boost=boost)
    if analyzer == story_schema.ID:
        return ID(stored=stored, sortable=True, unique=name == "id")
    if analyzer == story_schema.DATETIME:
        return DATETIME(stored=stored, sortable=True)
    if analyzer == story_schema.NUMERIC:
        return NUMERIC(stored=stored, sortable=True)
    if analyzer == story_schema.STORED:
        return STORED()
    raise ValueError(f"unknown analyzer {analyzer!r} of index field {name!r}")


def build_schema() -> Schema:
    """The schema: text fields share the mixed English/Chinese analyzer."""
    text, unstemmed = mixed_analyzer(), mixed_analyzer(stem=False)
    fields: dict[str, FieldType] = {}
    for name, analyzer in story_schema.DERIVED_INDEX.items():
        fields[name] = _field(name, analyzer, 1.0, text, unstemmed)
    for item in story_schema.indexed():
        assert item.index is not None and item.analyzer is not None
        fields[item.index] = _field(item.index, item.analyzer, item.boost, text, unstemmed)
    return Schema(**fields)
