"""The Whoosh schema of the story index: what is searched, filtered, faceted and shown."""

from __future__ import annotations

from csrnews.search.analysis import mixed_analyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

# Bump when the schema or the analysis changes: an index of another version is rebuilt.
SCHEMA_VERSION = 2


def build_schema() -> Schema:
    """The schema: text fields share the mixed English/Chinese analyzer."""
    text = mixed_analyzer()
    return Schema(
        id=ID(unique=True, stored=True),  # the story file's path relative to content/
        hash=STORED(),  # content hash of the story file (and its full-text sidecar)
        url=STORED(),
        title=TEXT(analyzer=text, stored=True, field_boost=3.0, spelling=True),
        summary=TEXT(analyzer=text, stored=True, field_boost=1.5),
        body=TEXT(analyzer=text, stored=True, spelling=True),
        organisations=KEYWORD(
            commas=True, lowercase=True, stored=True, scorable=True, field_boost=2.0
        ),
        standards=TEXT(analyzer=mixed_analyzer(stem=False), stored=True, field_boost=2.0),
        tags=KEYWORD(commas=True, lowercase=True, stored=True, scorable=True),
        category=ID(stored=True, sortable=True),  # the event-type id (csrnews.story.vocabulary)
        source=ID(stored=True, sortable=True),
        lang=ID(stored=True, sortable=True),
        date=DATETIME(stored=True, sortable=True),
        year=NUMERIC(stored=True, sortable=True),
        # facet helpers: one keyword per value, kept as written for display
        org_facet=KEYWORD(commas=True),
    )
