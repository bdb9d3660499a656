"""Search: the Whoosh schema and analyzers, the indexer and the query layer.

The rest of csrnews uses only what this package exports; nothing else imports whoosh, and
Whoosh's private names are used only through csrnews.search.whoosh_compat. Importing it
changes nothing in Whoosh: SearchService installs the shared segment views when it starts.

The exports are imported when first used: a process that needs only a module of the
package that does without Whoosh (the static search, csrnews.search.staticsearch) does not
load Whoosh and numpy by importing the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csrnews.search.indexer import IndexLockedError, IndexStats, update_index
    from csrnews.search.limits import BudgetExceeded, QueryLimits
    from csrnews.search.query import (
        IndexMissingError,
        QueryError,
        SearchRequest,
        SearchService,
    )

# each export: the module it comes from
_EXPORTS = {
    "BudgetExceeded": "csrnews.search.limits",
    "IndexLockedError": "csrnews.search.indexer",
    "IndexMissingError": "csrnews.search.query",
    "IndexStats": "csrnews.search.indexer",
    "QueryError": "csrnews.search.query",
    "QueryLimits": "csrnews.search.limits",
    "SearchRequest": "csrnews.search.query",
    "SearchService": "csrnews.search.query",
    "update_index": "csrnews.search.indexer",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
