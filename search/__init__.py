"""Search: the Whoosh schema and analyzers, indexer, query layer and WSGI search API.

The rest of csrnews uses only what this package exports; nothing else imports whoosh.
"""

from __future__ import annotations

from search import viewfile
from search.indexer import IndexLockedError, IndexStats, update_index
from search.limits import BudgetExceeded, QueryLimits
from search.query import IndexMissingError, QueryError, SearchRequest, SearchService
from search.wsgi import make_app

viewfile.install()  # before any index is opened: segment files shared, not copied per searcher

__all__ = [
    "BudgetExceeded",
    "IndexLockedError",
    "IndexMissingError",
    "IndexStats",
    "QueryError",
    "QueryLimits",
    "SearchRequest",
    "SearchService",
    "make_app",
    "update_index",
]
