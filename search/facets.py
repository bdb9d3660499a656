"""Facet values per document, read once per index generation, counted over the matched docs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from whoosh import sorting

from csrnews.story import schema

# Facet name -> field, as the search answer names them (from the story schema's table).
FACETS: dict[str, str] = schema.facets()
MAX_FACET_VALUES = 30
ORDERED_FACETS = {"year"}  # listed in their own order (newest first), not by count


def facet_objects(facets: Mapping[str, str] | None = None) -> sorting.Facets:
    """The Whoosh facets the answer is grouped by (organisations may overlap)."""
    facets = schema.facets() if facets is None else facets
    out = sorting.Facets()
    for name, fieldname in facets.items():
        out.add_facet(name, sorting.FieldFacet(fieldname, allow_overlap=_is_list(fieldname)))
    return out


def _is_list(fieldname: str) -> bool:
    """Whether an index field holds several values a document (a story may name many orgs)."""
    return fieldname == "org_facet" or any(f.index == fieldname and f.list for f in schema.fields())


class FacetTable:
    """For each facet, the group names of every document (by global docnum) in one reader.

    The names are exactly those Whoosh's ``groupedby`` gives (the same categorizers are asked,
    once for every document), so counting over a set of docnums gives the same groups and
    counts as a grouped search over the same documents, without reading postings per query.
    Each document's names are kept as codes in numpy arrays, so a count is one ``bincount``.
    Build one per index generation (reader); it never changes afterwards.
    """

    def __init__(self, searcher: Any, facets: Mapping[str, str] | None = None) -> None:
        self.doc_count_all = searcher.doc_count_all()
        self.names: dict[str, list[Any]] = {}  # facet -> group name per code
        self.single: dict[str, np.ndarray] = {}  # facet -> code per docnum
        # overlapping facet -> (docnum of each entry, code of each entry)
        self.multi: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, facet in facet_objects(facets).items():
            catter = facet.categorizer(searcher)
            overlap = catter.allow_overlap
            codes: dict[Any, int] = {}
            entry_docs: list[int] = []
            entry_codes: list[int] = []
            for subsearcher, offset in searcher.leaf_searchers():
                catter.set_searcher(subsearcher, offset)
                to_name = catter.key_to_name
                count = subsearcher.doc_count_all()
                if overlap:
                    keys_for = catter.keys_for
                    for docnum in range(count):
                        for key in keys_for(None, docnum):
                            entry_docs.append(offset + docnum)
                            entry_codes.append(codes.setdefault(to_name(key), len(codes)))
                else:
                    key_for = catter.key_for
                    entry_codes.extend(
                        codes.setdefault(to_name(key_for(None, docnum)), len(codes))
                        for docnum in range(count)
                    )
            self.names[name] = list(codes)
            if overlap:
                self.multi[name] = (
                    np.array(entry_docs, dtype=np.int64),
                    np.array(entry_codes, dtype=np.int64),
                )
            else:
                self.single[name] = np.array(entry_codes, dtype=np.int64)

    def counts(self, docnums: Iterable[int] | np.ndarray) -> dict[str, Counter[Any]]:
        """Documents per group name, for each facet, over the given (matched) docnums."""
        if isinstance(docnums, np.ndarray):
            docs = docnums.astype(np.int64, copy=False)
        else:
            docs = np.fromiter(docnums, dtype=np.int64)
        out: dict[str, Counter[Any]] = {}
        for name, codes in self.single.items():
            out[name] = self._named(name, np.bincount(codes[docs], minlength=1))
        if self.multi:
            chosen = np.zeros(self.doc_count_all, dtype=bool)
            chosen[docs] = True
            for name, (entry_docs, entry_codes) in self.multi.items():
                picked = entry_codes[chosen[entry_docs]]
                out[name] = self._named(name, np.bincount(picked, minlength=1))
        return out

    def _named(self, facet: str, counted: np.ndarray) -> Counter[Any]:
        names = self.names[facet]
        return Counter({names[code]: int(counted[code]) for code in np.flatnonzero(counted)})


def facet_answer(
    counts: Mapping[str, Counter[Any]], label: Any, limit: int = MAX_FACET_VALUES
) -> dict[str, list[dict[str, Any]]]:
    """The answer's facets: the ``limit`` largest groups, most documents first, then by name;
    years newest first (every year: there are not that many).

    ``label(facet, value)`` gives the display label of a value.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for name in schema.facets():
        groups = [(k, c) for k, c in counts.get(name, Counter()).items() if k is not None]
        if name in ORDERED_FACETS:
            out[name] = [
                {"value": str(k), "count": c, "label": label(name, str(k))}
                for k, c in sorted(groups, key=lambda kv: str(kv[0]), reverse=True)
            ]
            continue
        ranked = sorted(groups, key=lambda kv: (-kv[1], str(kv[0])))
        out[name] = [
            {"value": str(k), "count": c, "label": label(name, str(k))} for k, c in ranked[:limit]
        ]
    return out
