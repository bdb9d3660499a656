"""Queries: parse, bound, filter, facet, highlight, suggest and page; the API's JSON answer."""

from __future__ import annotations

import html
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from csrnews.search import viewfile, whoosh_compat
from csrnews.search.analysis import mixed_analyzer
from csrnews.search.document import markdown_to_text
from csrnews.search.facets import FACETS, FacetTable, facet_answer  # noqa: F401 (FACETS: kept here)
from csrnews.search.fastmatch import FastIndex, fast_matches
from csrnews.search.highlight import (
    FastHighlighter,
    chinese_runs,
    snippet_formatter,
    snippet_fragmenter,
)
from csrnews.search.limits import Budget, BudgetExceeded, ExpensiveGate, QueryLimits
from csrnews.search.suggest import Speller
from csrnews.search.syntax import plain_words, syntax_problem
from whoosh import collectors, qparser, query, sorting
from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from csrnews.story import schema
from csrnews.story.vocabulary import event_type_id, event_type_label, language_name

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 500
MAX_CLAUSES = 400
MAX_PAGE = 1000
PER_PAGE = 10
# The words of a query are looked for in these fields, in this order (the order of the matcher
# tree, which the fast path reproduces); text and keyword fields the story schema adds follow.
SEARCH_FIELDS = ("title", "summary", "body", "organisations", "standards", "tags")
_SEARCHED = (schema.TEXT, schema.TEXT_UNSTEMMED, schema.KEYWORD)
# Query filter name -> index field, from the story schema's table (plus `year`).
FILTER_FIELDS = schema.filters()


def search_fields() -> list[str]:
    """The fields a query's words are looked for in."""
    extra = [
        str(f.index)
        for f in schema.indexed()
        if f.analyzer in _SEARCHED and f.index not in SEARCH_FIELDS
    ]
    return [*SEARCH_FIELDS, *extra]


RESULT_CACHE_DEPTH = 50  # the best docs ranked (and kept) per query: five pages of ten
MAX_CACHED_TOP = 1000  # ranked docnums kept in the cache for one query, at most


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


def _parser(index_schema: Any) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(search_fields(), index_schema, group=qparser.AndGroup)
    parser.add_plugin(qparser.FieldAliasPlugin(schema.aliases()))
    parser.add_plugin(qparser.FuzzyTermPlugin())
    return parser


_EXPANDING = (query.ExpandingTerm, query.PatternQuery, query.FuzzyTerm)


def _expanding_leaves(q: query.Query) -> list[query.Query]:
    """The terms of a parsed query that expand to many index terms (fuzzy, wildcard, range)."""
    if isinstance(q, query.Every):
        return []
    if isinstance(q, _EXPANDING) or (
        isinstance(q, query.TermRange) and q.fieldname not in ("year", "date")
    ):
        return [q]
    if q.is_leaf():
        return []
    return [leaf for child in q.children() for leaf in _expanding_leaves(child)]


def check_expanding(parsed: query.Query, limits: QueryLimits) -> int:
    """Refuse a query whose fuzzy and wildcard terms break the limits; returns how many.

    The parser gives one such term per search field, so a word counts once however many
    fields it is searched in.
    """
    words: set[tuple[str, str]] = set()
    for leaf in _expanding_leaves(parsed):
        text = str(getattr(leaf, "text", "") or "")
        if isinstance(leaf, query.Wildcard):
            if len(text) > limits.wildcard_max_length:
                raise QueryError(
                    f"a wildcard term may have at most {limits.wildcard_max_length} characters"
                )
            if sum(text.count(c) for c in "*?") > limits.wildcard_max_stars:
                raise QueryError(
                    f"a wildcard term may have at most {limits.wildcard_max_stars} * or ?"
                )
        words.add((type(leaf).__name__, text or repr(leaf)))
    if len(words) > limits.max_expanding_terms:
        raise QueryError(
            f"query has more than {limits.max_expanding_terms} wildcard, fuzzy or range terms"
        )
    return len(words)


def _bound(q: query.Query, reader: Any, budget: Budget | None = None) -> query.Query:
    """Replace expanding queries (wildcard, prefix, fuzzy, range on text) by bounded ORs.

    A fuzzy term's edit distance depends on its length (QueryLimits.fuzzy_distance); each
    term expands to at most ``max_expansions`` index terms, all of them together to at most
    ``max_total_expansions``, and nothing more is expanded once the budget's time is up
    (``budget.cut`` then says the answer may miss matches).
    """
    budget = budget or Budget(QueryLimits())
    limits = budget.limits
    if isinstance(q, query.Every):
        return query.Every()  # a field's Every walks all of its terms; the plain one does not
    if isinstance(q, query.FuzzyTerm):
        # A Levenshtein automaton grows fast with the distance and the word's length.
        distance = limits.fuzzy_distance(q.text, q.maxdist)
        if distance == 0:
            return query.Term(q.fieldname, q.text, boost=q.boost)
        q = query.FuzzyTerm(
            q.fieldname,
            q.text,
            boost=q.boost,
            maxdist=distance,
            prefixlength=max(q.prefixlength, 1),
        )
    expanding = isinstance(q, _EXPANDING)
    if expanding or (isinstance(q, query.TermRange) and q.fieldname not in ("year", "date")):
        terms: list[query.Query] = []
        allowed = min(limits.max_expansions, budget.expansions_left)
        if allowed <= 0 or budget.expired():
            budget.cut = True
            return query.NullQuery
        for fieldname, text in q.expanded_terms(reader):
            if len(terms) >= allowed:
                budget.cut = budget.cut or allowed < limits.max_expansions
                break
            terms.append(query.Term(fieldname, text))
            if budget.expired():
                budget.cut = True
                break
        budget.expansions_left -= len(terms)
        return query.Or(terms) if terms else query.NullQuery
    if q.is_leaf():
        return q
    return q.apply(lambda sub: _bound(sub, reader, budget))


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
    fieldname = schema.filters()[name]
    analyzer = next((f.analyzer for f in schema.indexed() if f.index == fieldname), None)
    clauses: list[query.Query] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        if fieldname == "year":
            if not value.isdigit() or len(value) != 4:
                raise QueryError(f"year must be a four-digit year, not {value!r}")
            clauses.append(query.Term("year", int(value)))
        elif analyzer in (schema.TEXT, schema.TEXT_UNSTEMMED):
            words = [t.text for t in mixed_analyzer(stem=False)(value)]
            if words:
                clauses.append(
                    query.Phrase(fieldname, words)
                    if len(words) > 1
                    else query.Term(fieldname, words[0])
                )
        elif analyzer == schema.KEYWORD:
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


RESULT_CACHE_SIZE = 256  # matched-set summaries kept per index generation
SUGGESTION_CACHE_SIZE = 1024


class _LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            try:
                self._data.move_to_end(key)
            except KeyError:
                return default
            return self._data[key]

    def put(self, key: Any, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class _Matches:
    """What a query matches, independent of the page: total, facet counts, the best docnums."""

    total: int
    facets: dict[str, list[dict[str, Any]]]
    top: tuple[int, ...]  # docnums in answer order; all of them when len(top) == total


class _OutOfTime(Exception):
    """A collector's deadline passed; what it has collected is the answer."""


_CLOCK_EVERY = 256  # documents collected between two looks at the clock


class _AllDocsTop(whoosh_compat.ObservedTopCollector):
    """Whoosh's top-N collector that also lists every matched docnum.

    Block-quality skipping and matcher "replacement" are off: every match is visited anyway
    (for the total and the facets), and with replacement an AND of ORs loses some of its best
    documents. Past ``deadline`` (time.monotonic()) it stops with _OutOfTime.
    """

    def __init__(self, limit: int, deadline: float = float("inf")) -> None:
        super().__init__(limit, usequality=False, replace=0)
        self.all_docnums: list[int] = []
        self.deadline = deadline

    def observe(self, global_docnum: int) -> None:
        self.all_docnums.append(global_docnum)
        if len(self.all_docnums) % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise _OutOfTime


class _AllDocsSorted(collectors.SortingCollector):
    """Whoosh's sorting collector (keeps the first ``limit``) that lists every matched docnum."""

    def __init__(self, sortedby: Any, limit: int, deadline: float = float("inf")) -> None:
        super().__init__(sortedby, limit=limit)
        self.all_docnums: list[int] = []
        self.deadline = deadline

    def collect(self, sub_docnum: int) -> Any:
        self.all_docnums.append(self.offset + sub_docnum)
        kept = super().collect(sub_docnum)
        if len(self.all_docnums) % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise _OutOfTime
        return kept


class _StaleSnapshot(Exception):
    """The index changed under a snapshot while a searcher was being opened."""


class _Snapshot:
    """One generation of the index: idle searchers to reuse, and what is cached for it.

    Every searcher handed out reads exactly this generation, so docnums, facet values and
    cached results agree. A thread takes a searcher for the length of a request (a Whoosh
    searcher is not shared between threads); a retired snapshot closes them as they come back.
    """

    def __init__(self, ix: Any, key: tuple[Any, ...], generation: int, cache_size: int) -> None:
        self.ix = ix
        self.key = key
        self.generation = generation
        self.retired = False
        self._lock = threading.Lock()
        self._idle: list[Searcher] = []
        self._facet_lock = threading.Lock()
        self._facets: FacetTable | None = None
        self._fast: FastIndex | None = None
        self.results = _LRU(cache_size)
        self.suggestions = _LRU(SUGGESTION_CACHE_SIZE if cache_size > 0 else 0)
        self._highlighters: dict[str, FastHighlighter] = {}
        self._speller: Speller | None = None

    def acquire(self) -> Searcher:
        with self._lock:
            if self.retired:
                raise _StaleSnapshot
            if self._idle:
                return self._idle.pop()
        searcher = self.ix.searcher()
        if searcher.reader().generation() != self.generation:
            searcher.close()
            raise _StaleSnapshot
        return searcher

    def release(self, searcher: Searcher) -> None:
        with self._lock:
            if not self.retired:
                self._idle.append(searcher)
                return
        searcher.close()

    def retire(self) -> None:
        with self._lock:
            self.retired = True
            idle, self._idle = self._idle, []
        for searcher in idle:
            searcher.close()

    def facet_table(self, searcher: Searcher) -> FacetTable:
        if self._facets is None:
            with self._facet_lock:
                if self._facets is None:
                    self._facets = FacetTable(searcher)
        return self._facets

    def fast_index(self) -> FastIndex:
        if self._fast is None:
            with self._facet_lock:
                if self._fast is None:
                    self._fast = FastIndex()
        return self._fast

    def speller(self, searcher: Searcher) -> Speller:
        if self._speller is None:
            with self._facet_lock:
                if self._speller is None:
                    self._speller = Speller(searcher.schema["body"].analyzer)
        return self._speller

    def highlighter(self, schema: Any, fieldname: str) -> FastHighlighter:
        found = self._highlighters.get(fieldname)
        if found is None:
            found = self._highlighters[fieldname] = FastHighlighter(schema[fieldname].analyzer)
        return found


def _facet_label(name: str, value: str) -> str:
    if name == "type":
        return event_type_label(value)
    if name == "lang":
        return language_name(value)
    return value


def _field_words(q: query.Query, reader: Any, fieldname: str) -> frozenset[str]:
    """The query's terms in one field that exist in the index (what a hit may have matched)."""
    from_bytes = reader.schema[fieldname].from_bytes
    words = set()
    for name, text in q.iter_all_terms(phrases=True):
        if name != fieldname:
            continue
        if isinstance(text, bytes):  # bounded wildcards and fuzzy terms come as bytes
            text = from_bytes(text)
        if isinstance(text, str) and (name, text) in reader:
            words.add(text)
    return frozenset(words)


class SearchService:
    """Answers searches on one index folder; reopens the index when a build has changed it.

    Searchers and per-generation caches (facet values of every document, the matched set of
    recent queries, spelling suggestions) are kept between searches and dropped when a commit
    or a swapped folder gives a new generation. Safe to share between threads.

    Matching runs on a vectorised fast path (search/fastmatch.py) that gives Whoosh's exact
    answers for the query shapes searches produce, and on Whoosh's collectors for any other.
    ``fastpath=False`` always uses Whoosh's collectors (to compare the two). The environment
    (CSRNEWS_SEARCH_*) is read by the command line and the WSGI entry points, which pass
    ``service_options(os.environ)`` here.
    """

    def __init__(
        self,
        index_dir: str | os.PathLike[str],
        cache_size: int = RESULT_CACHE_SIZE,
        fastpath: bool = True,
        limits: QueryLimits | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        viewfile.install()  # before any index is opened: segment files shared, not copied
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self.cache_size = cache_size
        self.fastpath = fastpath
        self.limits = QueryLimits() if limits is None else limits
        self._gate = ExpensiveGate(self.limits)

    def _current(self) -> _Snapshot:
        real = os.path.realpath(self.index_dir)
        key = _index_key(real)
        if key is None:
            raise IndexMissingError(f"no search index in {self.index_dir}; run `csrnews build`")
        snapshot = self._snapshot
        if snapshot is not None and snapshot.key == key:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.key != key:
                old = snapshot
                try:
                    ix = whoosh_index.open_dir(real)
                except Exception as exc:  # whoosh raises many kinds on damaged files
                    raise IndexMissingError(
                        f"the search index in {self.index_dir} cannot be read "
                        f"({exc.__class__.__name__}: {exc}); run `csrnews build` to rebuild it"
                    ) from exc
                snapshot = _Snapshot(ix, key, key[1], self.cache_size)
                self._snapshot = snapshot
                if old is not None:
                    old.retire()
            return snapshot

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """Run one search and return the JSON-ready answer."""
        if len(request.q) > MAX_QUERY_LENGTH:
            raise QueryError(f"query is longer than {MAX_QUERY_LENGTH} characters")
        if not 1 <= request.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if request.per_page < 1:
            raise QueryError("per_page must be at least 1")
        if request.sort not in ("relevance", "date"):
            raise QueryError("sort must be 'relevance' or 'date'")
        known = schema.filters()
        for name in request.filters:
            if name not in known:
                raise QueryError(f"unknown filter {name!r}; use one of {sorted(known)}")
        budget = Budget(self.limits)
        for attempt in range(3):
            snapshot = self._current()
            try:
                searcher = snapshot.acquire()
            except _StaleSnapshot:
                if attempt == 2:
                    raise
                continue
            try:
                return self._search(snapshot, searcher, request, budget)
            finally:
                snapshot.release(searcher)
        raise AssertionError("unreachable")

    def _parse(self, searcher: Searcher, request: SearchRequest) -> tuple[query.Query, str]:
        """The query string parsed (not yet bounded), and the string as searched.

        A query whose syntax would be misread (csrnews.search.syntax) is searched as its plain
        words.
        """
        qstring = " ".join(request.q.split())
        if qstring and syntax_problem(qstring):
            qstring = plain_words(qstring)
        if not qstring:
            return query.Every(), qstring
        parser = _parser(searcher.schema)
        try:
            parsed = parser.parse(qstring)
        except Exception:  # the parser trips on some syntax: search the words instead
            logger.debug("query syntax not understood, searching words: %r", qstring)
            parsed = _words_query(parser, qstring)
        return parsed, qstring

    def _query(
        self,
        searcher: Searcher,
        request: SearchRequest,
        budget: Budget | None = None,
        parsed: tuple[query.Query, str] | None = None,
    ) -> tuple[query.Query, str]:
        budget = budget or Budget(self.limits)
        words, qstring = parsed or self._parse(searcher, request)
        if qstring:
            if parsed is None:
                check_expanding(words, self.limits)
            words = _bound(words, searcher.reader(), budget)
            if _count_leaves(words) > MAX_CLAUSES:
                raise QueryError(f"query has more than {MAX_CLAUSES} terms")
        clauses = [words] + [_filter_query(n, v) for n, v in request.filters.items() if v]
        start, end = (_date_bound(request.date_from, "from"), _date_bound(request.date_to, "to"))
        if start or end:
            clauses.append(query.DateRange("date", start, end))
        final = query.And(clauses) if len(clauses) > 1 else words
        return final, qstring

    def _matches(
        self,
        snapshot: _Snapshot,
        searcher: Searcher,
        final: query.Query,
        sort: str,
        needed: int,
        budget: Budget | None = None,
    ) -> _Matches:
        """The matched set's summary, from the cache when it holds the ``needed`` best docs."""
        key = (repr(final), sort)
        cached: _Matches | None = snapshot.results.get(key)
        if cached is not None and (len(cached.top) >= needed or len(cached.top) == cached.total):
            return cached
        # Every matched docnum (for the total and the facets) and the best `limit`: from the
        # vectorised fast path, or one pass of Whoosh's collectors for the queries it declines.
        limit = max(needed, RESULT_CACHE_DEPTH)
        fast = (
            fast_matches(snapshot.fast_index(), searcher, final, sort, limit)
            if self.fastpath
            else None
        )
        docnums: list[int] | np.ndarray
        if fast is not None:
            top, docnums = fast.top, fast.docs
        else:
            top, docnums = self._whoosh_matches(searcher, final, sort, limit, budget)
        counts = snapshot.facet_table(searcher).counts(docnums)
        matches = _Matches(
            total=len(docnums),
            facets=facet_answer(counts, _facet_label),
            top=top,
        )
        if budget is not None and budget.cut:
            return matches  # an answer cut short by the clock is not kept
        if len(top) > MAX_CACHED_TOP:  # a deeper page than that is ranked again
            snapshot.results.put(key, _Matches(matches.total, matches.facets, top[:MAX_CACHED_TOP]))
        else:
            snapshot.results.put(key, matches)
        return matches

    @staticmethod
    def _whoosh_matches(
        searcher: Searcher,
        final: query.Query,
        sort: str,
        limit: int,
        budget: Budget | None = None,
    ) -> tuple[tuple[int, ...], list[int]]:
        """The ``limit`` best docnums and every matched docnum, by Whoosh's collectors.

        With a budget, collecting stops when its time is up: the documents found so far are
        the answer (and ``budget.cut`` is set).
        """
        collector: _AllDocsTop | _AllDocsSorted
        deadline = budget.deadline if budget is not None else float("inf")
        if sort == "relevance":
            collector = _AllDocsTop(limit, deadline)
        else:
            collector = _AllDocsSorted(sorting.FieldFacet("date", reverse=True), limit, deadline)
        # needs_current as under a grouped search: the same matchers, so the same scores.
        context = searcher.context(needs_current=True)
        try:
            searcher.search_with_collector(final, collector, context=context)
        except _OutOfTime:
            collector.finish()
            assert budget is not None
            budget.cut = True
        results = collector.results()
        top = tuple(results.docnum(i) for i in range(results.scored_length()))
        return top, collector.all_docnums

    def _search(
        self,
        snapshot: _Snapshot,
        searcher: Searcher,
        request: SearchRequest,
        budget: Budget | None = None,
    ) -> dict[str, Any]:
        budget = budget or Budget(self.limits)
        parsed = self._parse(searcher, request)
        expensive = check_expanding(parsed[0], self.limits) if parsed[1] else 0
        if expensive and not self._gate.enter(budget):
            raise BudgetExceeded(
                "too many wildcard or fuzzy searches at once; try again shortly",
                self.limits.retry_after,
            )
        try:
            final, qstring = self._query(searcher, request, budget, parsed)
            per_page = request.per_page
            matches = self._matches(
                snapshot, searcher, final, request.sort, request.page * per_page, budget
            )
        finally:
            if expensive:
                self._gate.leave()
        total = matches.total
        pagecount = max(1, -(-total // per_page))
        # A page past the last is answered as such: no hits, and a notice naming the last page.
        offset = (request.page - 1) * per_page
        page_docs = matches.top[offset : offset + per_page] if request.page <= pagecount else ()
        hits = self._hits(snapshot, searcher, final, page_docs, chinese_runs(qstring))
        given = " ".join(request.q.split())
        problem = syntax_problem(given) if given else None
        notice = None
        if problem:
            notice = (
                f"The query could not be read as written ({problem}); "
                f"searched for {qstring or 'everything'} instead."
            )
        elif request.page > pagecount:
            notice = (
                f"There is no page {request.page}: the results end on page {pagecount}."
                if total
                else f"There is no page {request.page}: nothing was found."
            )
        answer: dict[str, Any] = {
            "query": request.q,
            "searched": qstring,
            "total": total,
            "page": request.page,
            "pages": pagecount,
            "hits": hits,
            "facets": {name: [dict(v) for v in values] for name, values in matches.facets.items()},
            "suggestion": None,
            "notice": notice,
        }
        if qstring and not budget.expired():
            answer["suggestion"] = self._suggest(snapshot, searcher, request, qstring, total)
        if budget.cut:
            # Over its budget: the best answer found in the time (documented in operations.md).
            answer["partial"] = True
        return answer

    def _hits(
        self,
        snapshot: _Snapshot,
        searcher: Searcher,
        final: query.Query,
        docnums: Iterable[int],
        runs: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        """The page's hits, each with its snippet: a passage of the body (else the summary)
        with the query's terms marked (``runs``: the query's Chinese runs, marked whole)."""
        docnums = list(docnums)
        if not docnums:
            return []
        reader = searcher.reader()
        index_schema = searcher.schema
        # One formatter for the page: like Whoosh's, it numbers terms across the page's hits.
        formatter = snippet_formatter()
        fragmenter = snippet_fragmenter()
        body_words = _field_words(final, reader, "body")
        summary_words: frozenset[str] | None = None
        hits = []
        for docnum in docnums:
            stored = searcher.stored_fields(docnum)
            text = stored.get("body") or markdown_to_text(stored.get("summary") or "")
            snippet = snapshot.highlighter(index_schema, "body").highlight(
                text, body_words, formatter, fragmenter, top=2, runs=runs
            )
            if not snippet and stored.get("summary"):
                if summary_words is None:
                    summary_words = _field_words(final, reader, "summary")
                snippet = snapshot.highlighter(index_schema, "summary").highlight(
                    stored["summary"], summary_words, formatter, fragmenter, top=1, runs=runs
                )
            if not snippet:
                snippet = html.escape(text[:240] + ("…" if len(text) > 240 else ""))
            hits.append({**hit_fields(stored), "snippet": snippet})
        return hits

    def _suggest(
        self,
        snapshot: _Snapshot,
        searcher: Searcher,
        request: SearchRequest,
        qstring: str,
        total: int,
    ) -> str | None:
        """ "Did you mean": the query with its misspelt words corrected (csrnews.search.suggest).

        Of the likeliest corrections (fewest edits first), the one that finds the most stories
        with the same filters is offered, and only when it finds more than the query itself:
        never a suggestion that leads to no results.
        """
        key = (qstring, tuple(sorted((k, tuple(v)) for k, v in request.filters.items())))
        missing = object()
        found = snapshot.suggestions.get(key, missing)
        if found is not missing:
            return found
        tried: list[tuple[int, int, int, str]] = []  # (edits, -stories, rank, suggestion)
        try:
            speller = snapshot.speller(searcher)
            reader = searcher.reader()
            for rank, candidate in enumerate(speller.corrections(reader, qstring)):
                edits = speller.edits(qstring, candidate)
                if tried and edits > tried[0][0]:
                    break  # only the fewest edits that find stories
                request_tried = SearchRequest(
                    q=candidate,
                    filters=request.filters,
                    date_from=request.date_from,
                    date_to=request.date_to,
                )
                final, _ = self._query(searcher, request_tried)
                found = self._matches(snapshot, searcher, final, "relevance", 1).total
                if found > total:
                    tried.append((edits, -found, rank, candidate))
        except (QueryError, BudgetExceeded):
            tried = []
        except Exception:  # correction is a nicety; never fail a search for it
            logger.debug("spelling correction failed for %r", qstring, exc_info=True)
            tried = []
        suggestion = min(tried)[3] if tried else None
        snapshot.suggestions.put(key, suggestion)
        return suggestion


def service_options(env: Mapping[str, str]) -> dict[str, Any]:
    """SearchService's options from an environment the caller read (CLI, WSGI entry points).

    CSRNEWS_SEARCH_CACHE (matched sets kept per index generation; 0: none),
    CSRNEWS_SEARCH_FASTPATH=0 (always Whoosh's collectors) and the limits of QueryLimits.
    """
    raw = env.get("CSRNEWS_SEARCH_CACHE", "").strip()
    return {
        "cache_size": int(raw) if raw.isdigit() else RESULT_CACHE_SIZE,
        "fastpath": env.get("CSRNEWS_SEARCH_FASTPATH", "1").strip() != "0",
        "limits": QueryLimits.from_env(env),
    }


# The hit's keys in the API's order; fields the story schema adds follow.
_HIT_ORDER = (
    "title",
    "url",
    "date",
    "category",
    "category_label",
    "source",
    "lang",
    "organisations",
)


def hit_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A hit's fields (without the snippet) from a document's stored fields, by the schema."""
    hit: dict[str, Any] = {"title": stored["title"], "url": stored["url"]}
    for item in schema.json_fields():
        value = stored.get(str(item.index))
        if item.index == "date":
            value = value.date().isoformat() if value else None
        elif item.list:
            value = [v for v in (value or "").split(",") if v]
        elif item.index == "title":
            continue
        hit[str(item.json)] = value
        if item.index == "category":
            hit["category_label"] = event_type_label(value or "other")
    return {
        **{key: hit[key] for key in _HIT_ORDER if key in hit},
        **{key: value for key, value in hit.items() if key not in _HIT_ORDER},
    }


def _index_key(index_path: str) -> tuple[Any, ...] | None:
    """What identifies the index's current state: folder, TOC generation, the TOC file's identity.

    None when there is no index there. The file identity catches an index rebuilt from scratch
    in the same folder, whose generation starts again.
    """
    generation = _generation(index_path)
    if generation < 0:
        return None
    try:
        stat = os.stat(os.path.join(index_path, f"_MAIN_{generation}.toc"))
    except OSError:
        return None
    return (index_path, generation, stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _generation(index_path: str) -> int:
    """The latest TOC generation in an index folder (changes with every commit); -1 if none."""
    best = -1
    try:
        names = os.listdir(index_path)
    except OSError:
        return -1
    for name in names:
        if name.startswith("_MAIN_") and name.endswith(".toc"):
            try:
                best = max(best, int(name[len("_MAIN_") : -len(".toc")]))
            except ValueError:
                continue
    return best
