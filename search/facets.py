"""Facet values per document, read once per index generation, counted over the matched docs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import chain
from typing import Any

from whoosh import sorting

# Facet name -> field, as the search answer names them.
FACETS: dict[str, str] = {
    "type": "category",
    "organisation": "org_facet",
    "year": "year",
    "source": "source",
    "lang": "lang",
}
MAX_FACET_VALUES = 30


def facet_objects(facets: Mapping[str, str] = FACETS) -> sorting.Facets:
    """The Whoosh facets the answer is grouped by (organisations may overlap)."""
    out = sorting.Facets()
    for name, fieldname in facets.items():
        out.add_facet(name, sorting.FieldFacet(fieldname, allow_overlap=fieldname == "org_facet"))
    return out


class FacetTable:
    """For each facet, the group names of every document (by global docnum) in one reader.

    The names are exactly those Whoosh's ``groupedby`` gives (the same categorizers are asked,
    once for every document), so counting over a set of docnums gives the same groups and
    counts as a grouped search over the same documents, without reading postings per query.
    Build one per index generation (reader); it never changes afterwards.
    """

    def __init__(self, searcher: Any, facets: Mapping[str, str] = FACETS) -> None:
        self.doc_count_all = searcher.doc_count_all()
        self.single: dict[str, list[Any]] = {}  # facet -> name per docnum
        self.multi: dict[str, list[tuple[Any, ...]]] = {}  # overlapping facet -> names per doc
        for name, facet in facet_objects(facets).items():
            catter = facet.categorizer(searcher)
            overlap = catter.allow_overlap
            values: list[Any] = []
            for subsearcher, offset in searcher.leaf_searchers():
                catter.set_searcher(subsearcher, offset)
                to_name = catter.key_to_name
                count = subsearcher.doc_count_all()
                if overlap:
                    keys_for = catter.keys_for
                    values.extend(
                        tuple(to_name(key) for key in keys_for(None, docnum))
                        for docnum in range(count)
                    )
                else:
                    key_for = catter.key_for
                    values.extend(to_name(key_for(None, docnum)) for docnum in range(count))
            (self.multi if overlap else self.single)[name] = values

    def counts(self, docnums: Iterable[int]) -> dict[str, Counter[Any]]:
        """Documents per group name, for each facet, over the given (matched) docnums."""
        docs = docnums if isinstance(docnums, list | tuple) else list(docnums)
        out: dict[str, Counter[Any]] = {}
        for name, values in self.single.items():
            out[name] = Counter(map(values.__getitem__, docs))
        for name, lists in self.multi.items():
            out[name] = Counter(chain.from_iterable(map(lists.__getitem__, docs)))
        return out


def facet_answer(
    counts: Mapping[str, Counter[Any]], label: Any, limit: int = MAX_FACET_VALUES
) -> dict[str, list[dict[str, Any]]]:
    """The answer's facets: the ``limit`` largest groups, most documents first, then by name.

    ``label(facet, value)`` gives the display label of a value.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for name in FACETS:
        ranked = sorted(
            ((k, c) for k, c in counts.get(name, Counter()).items() if k is not None),
            key=lambda kv: (-kv[1], str(kv[0])),
        )
        out[name] = [
            {"value": str(k), "count": c, "label": label(name, str(k))} for k, c in ranked[:limit]
        ]
    return out
