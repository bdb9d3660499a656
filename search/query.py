"""Queries: parse, bound, filter, facet, highlight, suggest and page, in the JSON of DESIGN.md."""

from __future__ import annotations

import html
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import qparser, query, sorting
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.searching import Searcher

from csrnews.vocabulary import event_type_id, event_type_label
from search.analysis import mixed_analyzer
from search.indexer import markdown_to_text

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 500
MAX_EXPANSIONS = 20  # terms a wildcard, prefix or fuzzy term may expand to, per field
MAX_CLAUSES = 400
MAX_PAGE = 1000
# Spelling correction costs a fuzzy scan per word: only for a few plain Latin words.
_SUGGESTIBLE_RE = re.compile(r"\s*(?:[A-Za-z][A-Za-z'-]{1,23}\s*){1,6}")
PER_PAGE = 10
SEARCH_FIELDS = ("title", "summary", "body", "organisations", "standards", "tags")
FILTER_FIELDS = {
    "type": "category",
    "org": "organisations",
    "year": "year",
    "source": "source",
    "lang": "lang",
    "standard": "standards",
    "tag": "tags",
}
FACETS = {
    "type": "category",
    "organisation": "org_facet",
    "year": "year",
    "source": "source",
    "lang": "lang",
}


class QueryError(ValueError):
    """A query or parameter that cannot be answered (shown to the user, HTTP 400)."""


class IndexMissingError(RuntimeError):
    """There is no index to search yet."""


@dataclass
class SearchRequest:
    """One search: the query string, filters by short name, the page and the sort order."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    page: int = 1
    per_page: int = PER_PAGE
    sort: str = "relevance"  # or "date"
    date_from: str = ""
    date_to: str = ""


def _parser(schema: Any) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(SEARCH_FIELDS), schema, group=qparser.AndGroup)
    parser.add_plugin(
        qparser.FieldAliasPlugin(
            {
                "category": ["type"],
                "organisations": ["org", "organisation", "organization"],
                "standards": ["standard", "std"],
                "tags": ["tag"],
            }
        )
    )
    parser.add_plugin(qparser.FuzzyTermPlugin())
    return parser


def _bound(q: query.Query, reader: Any) -> query.Query:
    """Replace expanding queries (wildcard, prefix, fuzzy, range on text) by bounded ORs."""
    if isinstance(q, query.Every):
        return query.Every()  # a field's Every walks all of its terms; the plain one does not
    if isinstance(q, query.FuzzyTerm):
        # A Levenshtein automaton grows fast with the distance: "word~9" would take seconds.
        q = query.FuzzyTerm(
            q.fieldname,
            q.text,
            boost=q.boost,
            maxdist=min(q.maxdist, 2),
            prefixlength=max(q.prefixlength, 1),
        )
    if isinstance(q, query.ExpandingTerm | query.PatternQuery | query.FuzzyTerm):
        terms = []
        for i, (fieldname, text) in enumerate(q.expanded_terms(reader)):
            if i >= MAX_EXPANSIONS:
                break
            terms.append(query.Term(fieldname, text))
        return query.Or(terms) if terms else query.NullQuery
    if isinstance(q, query.TermRange) and q.fieldname not in ("year", "date"):
        terms = [
            query.Term(f, t)
            for i, (f, t) in zip(range(MAX_EXPANSIONS), q.expanded_terms(reader), strict=False)
        ]
        return query.Or(terms) if terms else query.NullQuery
    if q.is_leaf():
        return q
    return q.apply(lambda sub: _bound(sub, reader))


def _words_query(parser: qparser.QueryParser, qstring: str) -> query.Query:
    """The query's words alone, without operators or syntax."""
    words = re.sub(r"[^\w\s]+", " ", qstring)
    words = re.sub(r"\b(AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b", lambda m: m.group().lower(), words)
    try:
        return parser.parse(words)
    except Exception:  # nothing sensible is left to search for
        return query.NullQuery


def _count_leaves(q: query.Query) -> int:
    return 1 if q.is_leaf() else sum(_count_leaves(c) for c in q.children())


def _filter_query(name: str, values: list[str]) -> query.Query:
    fieldname = FILTER_FIELDS[name]
    clauses: list[query.Query] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        if fieldname == "year":
            if not value.isdigit() or len(value) != 4:
                raise QueryError(f"year must be a four-digit year, not {value!r}")
            clauses.append(query.Term("year", int(value)))
        elif fieldname == "standards":
            words = [t.text for t in mixed_analyzer(stem=False)(value)]
            if words:
                clauses.append(
                    query.Phrase(fieldname, words)
                    if len(words) > 1
                    else query.Term(fieldname, words[0])
                )
        elif fieldname in ("organisations", "tags"):
            clauses.append(query.Term(fieldname, value.lower()))
        elif fieldname == "category":
            clauses.append(query.Term(fieldname, event_type_id(value)))
        else:
            clauses.append(query.Term(fieldname, value))
    return query.Or(clauses) if len(clauses) > 1 else clauses[0] if clauses else query.Every()


def _date_bound(value: str, name: str) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise QueryError(f"{name} must be a date like 2018-06-30, not {value!r}")


def _snippet(hit: Any, text: str, searcher: Searcher) -> str:
    """An HTML snippet: escaped text with <mark> around the matched words."""
    snippet = hit.highlights("body", text=text, top=2) or hit.highlights("summary", top=1)
    if snippet:
        return snippet
    return html.escape(text[:240] + ("…" if len(text) > 240 else ""))


class SearchService:
    """Answers searches on one index folder; reopens the index when a build has changed it."""

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._ix: Any = None
        self._key: tuple[str, int] | None = None

    def _current(self) -> Any:
        real = os.path.realpath(self.index_dir)
        if not whoosh_index.exists_in(real):
            raise IndexMissingError(f"no search index in {self.index_dir}; run `csrnews build`")
        with self._lock:
            generation = _generation(real)
            key = (real, generation)
            if key != self._key:
                self._ix = whoosh_index.open_dir(real)
                self._key = key
            return self._ix

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """Run one search and return the JSON-ready answer."""
        if len(request.q) > MAX_QUERY_LENGTH:
            raise QueryError(f"query is longer than {MAX_QUERY_LENGTH} characters")
        if not 1 <= request.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if request.sort not in ("relevance", "date"):
            raise QueryError("sort must be 'relevance' or 'date'")
        for name in request.filters:
            if name not in FILTER_FIELDS:
                raise QueryError(f"unknown filter {name!r}; use one of {sorted(FILTER_FIELDS)}")
        ix = self._current()
        with ix.searcher() as searcher:
            return self._search(searcher, request)

    def _search(self, searcher: Searcher, request: SearchRequest) -> dict[str, Any]:
        parser = _parser(searcher.schema)
        qstring = " ".join(request.q.split())
        if qstring:
            try:
                parsed = parser.parse(qstring)
            except Exception:  # the parser trips on some syntax: search the words instead
                logger.debug("query syntax not understood, searching words: %r", qstring)
                parsed = _words_query(parser, qstring)
            parsed = _bound(parsed, searcher.reader())
            if _count_leaves(parsed) > MAX_CLAUSES:
                raise QueryError(f"query has more than {MAX_CLAUSES} terms")
        else:
            parsed = query.Every()
        clauses = [parsed] + [_filter_query(n, v) for n, v in request.filters.items() if v]
        start, end = (_date_bound(request.date_from, "from"), _date_bound(request.date_to, "to"))
        if start or end:
            clauses.append(query.DateRange("date", start, end))
        final = query.And(clauses) if len(clauses) > 1 else parsed
        facets = sorting.Facets()
        for name, fieldname in FACETS.items():
            facets.add_facet(
                name, sorting.FieldFacet(fieldname, allow_overlap=fieldname == "org_facet")
            )
        sortedby = None if request.sort == "relevance" else sorting.FieldFacet("date", reverse=True)
        results = searcher.search_page(
            final,
            request.page,
            pagelen=request.per_page,
            groupedby=facets,
            sortedby=sortedby,
            terms=True,
        )
        results.results.fragmenter = ContextFragmenter(maxchars=220, surround=60)
        results.results.formatter = HtmlFormatter(tagname="mark", classname="hl", between=" … ")
        hits = []
        for hit in results:
            body = hit.get("body") or markdown_to_text(hit.get("summary") or "")
            date = hit.get("date")
            hits.append(
                {
                    "title": hit["title"],
                    "url": hit["url"],
                    "date": date.date().isoformat() if date else None,
                    "category": hit.get("category"),
                    "category_label": event_type_label(hit.get("category") or "other"),
                    "source": hit.get("source"),
                    "lang": hit.get("lang"),
                    "organisations": [o for o in (hit.get("organisations") or "").split(",") if o],
                    "snippet": _snippet(hit, body, searcher),
                }
            )
        answer: dict[str, Any] = {
            "query": request.q,
            "total": len(results),
            "page": request.page,
            "pages": max(1, -(-len(results) // request.per_page)),
            "hits": hits,
            "facets": self._facets(results.results),
            "suggestion": None,
        }
        if qstring and len(results) < 3 and _SUGGESTIBLE_RE.fullmatch(qstring):
            answer["suggestion"] = self._suggest(searcher, qstring)
        return answer

    @staticmethod
    def _facets(results: Any) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name in FACETS:
            groups = results.groups(name)
            counts = sorted(
                ((k, len(v)) for k, v in groups.items() if k is not None),
                key=lambda kv: (-kv[1], str(kv[0])),
            )
            out[name] = [
                {
                    "value": str(k),
                    "count": c,
                    "label": event_type_label(str(k)) if name == "type" else str(k),
                }
                for k, c in counts[:30]
            ]
        return out

    @staticmethod
    def _suggest(searcher: Searcher, qstring: str) -> str | None:
        """ "Did you mean": Whoosh's spelling correction of the words, against the body."""
        try:
            plain = qparser.QueryParser("body", searcher.schema).parse(qstring)
            corrected = searcher.correct_query(plain, qstring, maxdist=2, prefix=1)
        except Exception:  # correction is a nicety; never fail a search for it
            logger.debug("spelling correction failed for %r", qstring, exc_info=True)
            return None
        suggestion = corrected.string
        if suggestion and "".join(suggestion.lower().split()) != "".join(qstring.lower().split()):
            return suggestion
        return None


def _generation(index_path: str) -> int:
    """The latest TOC generation in an index folder (changes with every commit)."""
    best = -1
    for name in os.listdir(index_path):
        if name.startswith("_MAIN_") and name.endswith(".toc"):
            try:
                best = max(best, int(name[len("_MAIN_") : -len(".toc")]))
            except ValueError:
                continue
    return best
