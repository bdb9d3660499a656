"""Search: the Whoosh schema and analyzers, the indexer and the query layer.

The rest of csrnews uses only what this package exports; nothing else imports whoosh, and
Whoosh's private names are used only through csrnews.search.whoosh_compat. Importing it
changes nothing in Whoosh: SearchService installs the shared segment views when it starts.
"""

from __future__ import annotations

from csrnews.search.indexer import IndexLockedError, IndexStats, update_index
from csrnews.search.limits import BudgetExceeded, QueryLimits
from csrnews.search.query import IndexMissingError, QueryError, SearchRequest, SearchService

__all__ = [
    "BudgetExceeded",
    "IndexLockedError",
    "IndexMissingError",
    "IndexStats",
    "QueryError",
    "QueryLimits",
    "SearchRequest",
    "SearchService",
    "update_index",
]
