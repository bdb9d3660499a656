"""Vectorised (numpy) matching and BM25F scoring that gives the answers of Whoosh's matchers."""

from __future__ import annotations

import logging
import pickle
import threading
import zlib
from bisect import insort_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
from csrnews.search import whoosh_compat
from csrnews.search.codec import PackedLeafMatcher, PackedPositions, block_arrays
from whoosh import formats, query, scoring, sorting
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import binary, mcore, wrappers
from whoosh.util.numeric import byte_to_length

# What Whoosh computes, and how this module computes the same:
#
# * Scores: a term's BM25F score per document, vectorised with the scorer's own idf, average
#   field length, B and K1, and the quantised field lengths Whoosh stores (read once per index
#   generation). And/Or add their children's scores in the order of the matcher tree Whoosh
#   builds (the same weighted or binary tree), so the sums are bit-for-bit the same.
# * Phrases: the documents having every word, then positions checked for those only.
# * Order: relevance as TopCollector (higher score first, then lower docnum), date as the
#   SortingCollector on the reversed date column (then lower docnum).
#
# A query node or matcher this module does not know raises Unsupported: the caller then runs
# Whoosh's own collectors.

logger = logging.getLogger(__name__)
_warned = threading.Event()  # the fast path's first failure is logged, not every one

_EMPTY_DOCS = np.empty(0, dtype=np.int64)
_EMPTY_SCORES = np.empty(0, dtype=np.float64)
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_LAST_BYTE = itemgetter(slice(-1, None))
_PROTO_BYTES = itemgetter(slice(whoosh_compat.INT_SIZE, whoosh_compat.INT_SIZE + 2))
_PICKLE_BODY = itemgetter(slice(whoosh_compat.INT_SIZE + 2, -1))
_PROTO2 = "\x80\x02"
_VALUES_GLOBAL = b"c_codecs\nencode\n"
_SLICE_GLOBAL = b"cbuiltins\nslice\n"
_SLICE_START = attrgetter("start")
_KEY_SPAN = 1 << 32  # phrase keys: document index * span + start position
_POSITION_FORMATS = (formats.Positions, PackedPositions)
_PACKED_POSITION = np.dtype("<u4")


class Unsupported(Exception):
    """A query or matcher shape the fast path does not reproduce exactly."""


@dataclass
class _Hits:
    """Matched segment docnums (ascending, unique) and their scores."""

    docs: np.ndarray
    scores: np.ndarray


@dataclass
class _Leaf:
    """One term's postings in a segment: every docnum, weight and raw value (deleted too).

    Packed positions (csrnews.search.codec) come as arrays instead of ``values``: each
    posting's count of positions and where its positions start in the flat ``positions``.
    """

    docs: np.ndarray
    weights: np.ndarray
    values: list[str] | None  # each posting's value bytes, as a latin-1 string
    counts: np.ndarray | None = None
    starts: np.ndarray | None = None
    positions: np.ndarray | None = None
    packed: bool = False  # ``values`` are PackedPositions values


def _empty() -> _Hits:
    return _Hits(_EMPTY_DOCS, _EMPTY_SCORES)


class FastIndex:
    """What the fast path reads once per index generation: field lengths, live docs, date order.

    Build one per generation (like the facet table); the arrays never change afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lengths: dict[tuple[int, str], np.ndarray] = {}
        self._live: dict[int, np.ndarray] = {}
        self._date_rank: np.ndarray | None = None

    def lengths(self, segment: int, reader: Any, fieldname: str) -> np.ndarray:
        """Each document's field length in one segment, as BM25F reads it (default 1)."""
        key = (segment, fieldname)
        found = self._lengths.get(key)
        if found is None:
            found = self._lengths[key] = _read_lengths(reader, fieldname)
        return found

    def live_docs(self, segment: int, reader: Any) -> np.ndarray:
        """The undeleted docnums of one segment."""
        found = self._live.get(segment)
        if found is None:
            found = np.fromiter(reader.all_doc_ids(), dtype=np.int64)
            self._live[segment] = found
        return found

    def date_rank(self, searcher: Any) -> np.ndarray:
        """Position of every global docnum in the date-descending order (ties: lower docnum)."""
        if self._date_rank is None:
            with self._lock:
                if self._date_rank is None:
                    self._date_rank = _date_rank(searcher)
        return self._date_rank


def _read_lengths(reader: Any, fieldname: str) -> np.ndarray:
    count = reader.doc_count_all()
    try:
        column = whoosh_compat.segment_lengths_column(reader, fieldname)
    except AttributeError:
        column = False
    if column is None:  # no lengths stored: Whoosh's doc_field_length gives the default, 1
        return np.ones(count, dtype=np.float64)
    found = whoosh_compat.fixed_column_bytes(column) if column is not False else None
    if found is None:
        return np.array(
            [reader.doc_field_length(d, fieldname, 1) or 0 for d in range(count)],
            dtype=np.float64,
        )
    dbfile, basepos, column_count = found
    stored = min(column_count, count)
    raw = np.zeros(count, dtype=np.uint8)
    if stored:
        raw[:stored] = np.frombuffer(dbfile.get(basepos, stored), dtype=np.uint8)
    return _LENGTHS[raw]


def _date_rank(searcher: Any) -> np.ndarray:
    catter = sorting.FieldFacet("date", reverse=True).categorizer(searcher)
    if type(catter) is not sorting.ColumnCategorizer:
        raise Unsupported("date sort needs a reversible column")
    keys: list[Any] = []
    for subsearcher, offset in searcher.leaf_searchers():
        catter.set_searcher(subsearcher, offset)
        keys.extend(catter.key_for(None, d) for d in range(subsearcher.doc_count_all()))
    count = len(keys)
    try:
        ordered = np.lexsort((np.arange(count), np.array(keys, dtype=np.int64)))
    except (OverflowError, TypeError, ValueError):
        ordered = np.array(sorted(range(count), key=lambda d: (keys[d], d)), dtype=np.int64)
    rank = np.empty(count, dtype=np.int64)
    rank[ordered] = np.arange(count)
    return rank


# Combining children as Whoosh's binary matchers do


# Lists holding together at least 1/_DENSE_SHARE of a segment's documents are merged through
# arrays over the whole segment (linear, no sorting); smaller ones by sorted set operations.
_DENSE_SHARE = 32


def _union(a: _Hits, b: _Hits, size: int = 0) -> _Hits:
    """Documents in either; a document in both scores a's score + b's (as Whoosh adds them)."""
    if not len(a.docs):
        return b
    if not len(b.docs):
        return a
    if size and (len(a.docs) + len(b.docs)) * _DENSE_SHARE >= size:
        in_a = np.zeros(size, dtype=bool)
        in_a[a.docs] = True
        dense = np.zeros(size, dtype=np.float64)
        dense[a.docs] = a.scores
        dense[b.docs] = np.where(in_a[b.docs], dense[b.docs] + b.scores, b.scores)
        in_a[b.docs] = True
        docs = np.flatnonzero(in_a)
        return _Hits(docs, dense[docs])
    docs = np.union1d(a.docs, b.docs)
    scores = np.zeros(len(docs), dtype=np.float64)
    ia = np.searchsorted(docs, a.docs)
    ib = np.searchsorted(docs, b.docs)
    in_a = np.zeros(len(docs), dtype=bool)
    in_a[ia] = True
    scores[ia] = a.scores
    both = in_a[ib]
    scores[ib] = np.where(both, scores[ib] + b.scores, b.scores)
    return _Hits(docs, scores)


def _intersection(a: _Hits, b: _Hits, size: int = 0) -> _Hits:
    """Documents in both, scoring a's score + b's."""
    if size and (len(a.docs) + len(b.docs)) * _DENSE_SHARE >= size:
        dense = np.zeros(size, dtype=np.float64)
        in_a = np.zeros(size, dtype=bool)
        in_a[a.docs] = True
        dense[a.docs] = a.scores
        keep = in_a[b.docs]
        docs = b.docs[keep]
        return _Hits(docs, dense[docs] + b.scores[keep])
    docs, ia, ib = np.intersect1d(a.docs, b.docs, assume_unique=True, return_indices=True)
    return _Hits(docs, a.scores[ia] + b.scores[ib])


def _boosted(hits: _Hits, boost: float) -> _Hits:
    return hits if boost == 1.0 else _Hits(hits.docs, hits.scores * boost)


def _binary_tree(combine: Callable[[Any, Any], Any], items: Sequence[Any]) -> Any:
    """whoosh.util.make_binary_tree, on already computed children."""
    if len(items) == 1:
        return items[0]
    half = len(items) // 2
    return combine(_binary_tree(combine, items[:half]), _binary_tree(combine, items[half:]))


def _weighted_tree(combine: Callable[[Any, Any], Any], weighted: list[tuple[Any, Any]]) -> Any:
    """whoosh.util.make_weighted_tree: matchers compare as equal, so equal weights keep order."""
    ls = sorted(weighted, key=itemgetter(0))
    while len(ls) > 1:
        (wa, a), (wb, b) = ls.pop(0), ls.pop(0)
        insort_right(ls, (wa + wb, _Node(combine, a, b)), key=itemgetter(0))
    return ls[0][1]


class _Node:
    """A pending combination in a weighted tree (evaluated once the tree is built)."""

    __slots__ = ("a", "b", "combine")

    def __init__(self, combine: Callable[[Any, Any], Any], a: Any, b: Any) -> None:
        self.combine, self.a, self.b = combine, a, b


def _resolve(node: Any) -> _Hits:
    if isinstance(node, _Node):
        return node.combine(_resolve(node.a), _resolve(node.b))
    return node


# Reading postings


def _read_w3(m: Any, want_values: bool) -> _Leaf:
    """All blocks of a whoosh3 posting list, from its start, as arrays."""
    byteids, postfile, position = whoosh_compat.w3_postings(m)
    if byteids:
        raise Unsupported("byte ids")
    deltas: list[int] = []
    weights: list[float] = []
    values: list[str] = []
    starts: list[int] = []
    previous_max: list[int] = []
    last_max = 0
    while True:
        postfile.seek(position)
        length = postfile.read_int()
        last = length < 0
        nextoffset = position + whoosh_compat.INT_SIZE + abs(length)
        info = postfile.read_pickle()
        dataoffset = postfile.tell()
        count, maxid, compression = info[0], info[1], info[3]
        raw = postfile.get(dataoffset, nextoffset - dataoffset)
        if compression:
            raw = zlib.decompress(raw)
        ids, block_weights, block_values = _load_block(raw, want_values)
        if len(ids) != count:
            raise Unsupported("unexpected block")
        starts.append(len(deltas))
        previous_max.append(last_max)
        deltas.extend(ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):  # Whoosh keeps it as a 32-bit float
            weights.extend([float(np.float32(block_weights))] * count)
        else:
            weights.extend(block_weights)
        if want_values:
            if not isinstance(block_values, tuple):
                raise Unsupported("fixed-size values")
            values.extend(block_values)
        last_max = maxid
        if last:
            break
        position = nextoffset
    docs = np.array(deltas, dtype=np.int64)
    # Each block's first id is absolute: make it relative to the previous block's last id.
    docs[starts] -= np.array(previous_max, dtype=np.int64)
    np.cumsum(docs, out=docs)
    return _Leaf(docs, np.array(weights, dtype=np.float64), values if want_values else None)


def _read_packed(m: Any, want_values: bool) -> _Leaf:
    """All blocks of a packed posting list (csrnews.search.codec), from its start, as arrays.

    With ``want_values`` the format must be PackedPositions: the positions come as arrays.
    """
    if want_values and type(m.format) is not PackedPositions:  # W3's matchers keep .format
        raise Unsupported("packed blocks of another format")
    _, postfile, position = whoosh_compat.w3_postings(m)
    docs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    payloads: list[np.ndarray] = []
    while True:
        postfile.seek(position)
        length = postfile.read_int()
        nextoffset = position + whoosh_compat.INT_SIZE + abs(length)
        info = postfile.read_pickle()
        dataoffset = postfile.tell()
        raw = postfile.get(dataoffset, nextoffset - dataoffset)
        if info[3]:
            raw = zlib.decompress(raw)
        block_docs, block_weights, block_lengths, payload = block_arrays(raw, info[0], want_values)
        docs.append(block_docs)
        weights.append(block_weights)
        if block_lengths is not None and payload is not None:
            lengths.append(block_lengths)
            payloads.append(payload)
        if length < 0:
            break
        position = nextoffset
    leaf = _Leaf(
        np.concatenate(docs).astype(np.int64),
        np.concatenate(weights).astype(np.float64),
        None,
    )
    if want_values:
        counts = np.concatenate(lengths).astype(np.int64) // 4
        leaf.counts = counts
        leaf.starts = np.cumsum(counts) - counts
        leaf.positions = np.concatenate(payloads).view(_PACKED_POSITION).astype(np.int64)
    return leaf


def _load_block(raw: bytes, want_values: bool) -> tuple[Any, Any, Any]:
    """A block's (ids, weights, values); without the values when they are not wanted.

    The values come last in the pickled tuple, and they are its only bytes objects (pickled
    through ``_codecs.encode``, the costly part): cutting the pickle where that global starts
    and closing the tuple there reads the ids and weights alone. The global's 16 bytes cannot
    occur inside the ids or weights (their opcodes K/M/J/G come every few bytes).
    """
    if not want_values:
        cut = raw.find(_VALUES_GLOBAL)
        if cut > 0:
            if raw[cut - 1 : cut] == b"(":
                cut -= 1
            try:
                ids, weights, _ = pickle.loads(raw[:cut] + b"N\x87.")
            except Exception:
                pass
            else:
                return ids, weights, None
    # Each value's bytes come as the latin-1 string Whoosh's pickle encodes them from (through
    # slice(text, "latin1") instead of _codecs.encode(text, "latin1"): a third cheaper).
    ids, weights, values = pickle.loads(raw.replace(_VALUES_GLOBAL, _SLICE_GLOBAL, 1))
    if isinstance(values, tuple):
        values = tuple(map(_SLICE_START, values))
    return ids, weights, values


def _read_list(m: Any, want_values: bool) -> _Leaf:
    """A ListMatcher's postings (inlined terms and synthetic lists)."""
    held = whoosh_compat.list_postings(m)
    docs = np.array(held.ids, dtype=np.int64)
    if held.all_weights:
        weights = np.full(len(docs), float(held.all_weights))
    elif held.weights:
        weights = np.array(held.weights, dtype=np.float64)
        if weights.shape != docs.shape:
            raise Unsupported("weights")
    else:
        weights = np.ones(len(docs))
    values = None
    if want_values:
        if not held.values or len(held.values) != len(docs):
            raise Unsupported("list values")
        if any(not isinstance(v, bytes) for v in held.values):
            raise Unsupported("combined values")
        values = [v.decode("latin-1") for v in held.values]
    return _Leaf(docs, weights, values)


def _positions(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Positions per posting (Whoosh's Positions format): lengths and the flat positions."""
    count = len(values)
    lists: Any = None
    if (
        "".join(map(_LAST_BYTE, values)) == "." * count
        and "".join(map(_PROTO_BYTES, values)) == _PROTO2 * count
    ):
        # One unpickling for all: each value is "count + PROTO 2 + list + STOP"; their bodies
        # in one stream between a MARK and a LIST give the list of their lists.
        stream = "\x80\x02(" + "".join(map(_PICKLE_BODY, values)) + "l."
        try:
            lists = pickle.loads(stream.encode("latin-1"))
        except Exception:
            lists = None
        if not isinstance(lists, list) or len(lists) != count:
            lists = None
    if lists is None:  # one value at a time, as Whoosh decodes them (absolute positions)
        decode = formats.Positions().decode_positions
        absolute = [decode(v.encode("latin-1")) for v in values]
        lengths = np.fromiter(map(len, absolute), dtype=np.int64, count=count)
        flat = np.fromiter(chain.from_iterable(absolute), dtype=np.int64)
        return lengths, flat
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=count)
    deltas = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(lengths.sum()))
    sums = np.cumsum(deltas)
    before = np.concatenate(([0], sums))[np.cumsum(lengths) - lengths]
    return lengths, sums - np.repeat(before, lengths)


def _leaf_positions(leaf: _Leaf, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the postings at ``where``: their counts and the flat positions."""
    if leaf.positions is not None and leaf.counts is not None and leaf.starts is not None:
        counts = leaf.counts[where]
        if not len(counts):
            return counts, counts
        # For each chosen posting, its run of positions: start + 0, 1, ... count - 1.
        ends = np.cumsum(counts)
        index = np.arange(int(ends[-1]), dtype=np.int64)
        index += np.repeat(leaf.starts[where] - (ends - counts), counts)
        return counts, leaf.positions[index]
    if leaf.values is None:
        raise Unsupported("postings without positions")
    chosen = list(map(leaf.values.__getitem__, where.tolist()))
    if leaf.packed:  # PackedPositions values in W3 blocks or an inlined list
        counts = np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen)) // 4
        flat = "".join(chosen).encode("latin-1")
        return counts, np.frombuffer(flat, dtype=_PACKED_POSITION).astype(np.int64)
    return _positions(chosen)


class _Segment:
    """Evaluates a query on one segment as Whoosh's matcher tree would score it."""

    def __init__(self, index: FastIndex, number: int, subsearcher: Any, context: Any) -> None:
        self.index = index
        self.number = number
        self.searcher = subsearcher
        self.reader = subsearcher.reader()
        self.context = context
        self.size = self.reader.doc_count_all()

    def _union(self, a: _Hits, b: _Hits) -> _Hits:
        return _union(a, b, self.size)

    def _intersection(self, a: _Hits, b: _Hits) -> _Hits:
        return _intersection(a, b, self.size)

    # Query nodes

    def query(self, q: Any) -> _Hits:
        kind = type(q)
        if kind is query.And or kind is query.Or:
            return self._compound(q)
        if kind is query.Phrase:
            return self._phrase(q)
        if kind is query.Every:
            return self._every(q)
        if kind is query.Term or kind in (query.DateRange, query.NumericRange):
            return self.matcher(q.matcher(self.searcher, self.context))
        if q is query.NullQuery:
            return _empty()
        raise Unsupported(kind.__name__)

    def _compound(self, q: Any) -> _Hits:
        subs = q.subqueries
        if not subs:
            return _empty()
        if len(subs) == 1:
            return self.query(subs[0])
        if type(q) is query.Or:
            if q.scale or len(subs) >= query.Or.TOO_MANY_CLAUSES:
                raise Unsupported("Or variant")
            combine, sign = self._union, 1
        else:
            combine, sign = self._intersection, -1
        weights = [sign * s.estimate_size(self.reader) for s in subs]
        children: list[_Hits | None] = [None] * len(subs)
        # Smallest first: an And with an empty child matches nothing, the rest is not read.
        for i in sorted(range(len(subs)), key=lambda i: -weights[i] * sign):
            children[i] = hits = self.query(subs[i])
            if sign < 0 and not len(hits.docs):
                return _empty()
        weighted = list(zip(weights, children, strict=True))
        return _boosted(_resolve(_weighted_tree(combine, weighted)), q.boost)

    def _every(self, q: Any) -> _Hits:
        if q.fieldname not in (None, "", "*") or not q.boost:
            raise Unsupported("Every on a field")
        docs = self.index.live_docs(self.number, self.reader)
        return _Hits(docs, np.full(len(docs), float(q.boost)))

    def _phrase(self, q: Any) -> _Hits:
        fieldname = q.fieldname
        schema = self.searcher.schema
        if fieldname not in schema:
            return _empty()
        field = schema[fieldname]
        if type(field.format) not in _POSITION_FORMATS or q.slop != 1 or not q.words:
            raise Unsupported("phrase shape")
        words = []
        for word in q.words:
            try:
                word = field.to_bytes(word)
            except ValueError:
                return _empty()
            if (fieldname, word) not in self.reader:
                return _empty()
            words.append(word)
        leaves: list[_Leaf] = []
        children: list[_Hits] = []
        for word in words:
            m = query.Term(fieldname, word).matcher(self.searcher, self.context)
            hits, leaf = self._leaf_matcher(m, want_values=True)
            leaf.packed = type(field.format) is PackedPositions
            children.append(hits)
            leaves.append(leaf)
        hits = _binary_tree(self._intersection, children)
        keep = _phrase_starts(hits.docs, leaves)
        return _boosted(_Hits(hits.docs[keep], hits.scores[keep]), q.boost)

    # Matchers (terms and ranges: built by Whoosh, read here)

    def matcher(self, m: Any) -> _Hits:
        kind = type(m)
        if kind is binary.UnionMatcher:
            return self._union(self.matcher(m.a), self.matcher(m.b))
        if kind is binary.IntersectionMatcher:
            return self._intersection(self.matcher(m.a), self.matcher(m.b))
        if kind is wrappers.WrappingMatcher:
            return _boosted(self.matcher(m.child), m.boost)
        if kind is wrappers.ConstantScoreWrapperMatcher:
            hits = self.matcher(m.child)
            score = whoosh_compat.constant_score(m)
            return _Hits(hits.docs, np.full(len(hits.docs), score))
        if isinstance(m, mcore.NullMatcherClass):
            return _empty()
        return self._leaf_matcher(m, want_values=False)[0]

    def _leaf_matcher(self, m: Any, want_values: bool) -> tuple[_Hits, _Leaf]:
        """A term's matcher (optionally filtered by deletions): scored hits and raw postings."""
        excluded = None
        boost = 1.0
        if type(m) is wrappers.FilterMatcher:
            exclude, excluded = whoosh_compat.filter_exclusion(m)
            if not exclude:
                raise Unsupported("inclusive filter")
            boost, m = m.boost, m.child
        if type(m) is PackedLeafMatcher:
            leaf, scorer = _read_packed(m, want_values), m.scorer
        elif type(m) is W3LeafMatcher:
            leaf, scorer = _read_w3(m, want_values), m.scorer
        elif type(m) is mcore.ListMatcher:
            leaf = _read_list(m, want_values)
            scorer = whoosh_compat.list_postings(m).scorer
        else:
            raise Unsupported(type(m).__name__)
        scores = self._scores(m, leaf, scorer)
        docs = leaf.docs
        if excluded:
            keep = ~np.isin(docs, np.fromiter(excluded, dtype=np.int64, count=len(excluded)))
            docs, scores = docs[keep], scores[keep]
        return _boosted(_Hits(docs, scores), boost), leaf

    def _scores(self, m: Any, leaf: _Leaf, scorer: Any) -> np.ndarray:
        kind = type(scorer)
        if scorer is None or kind is scoring.WeightScorer:
            return leaf.weights
        if kind is not scoring.BM25FScorer:
            raise Unsupported(kind.__name__)
        lengths = self.index.lengths(self.number, self.reader, m.term()[0])[leaf.docs]
        tf = leaf.weights
        idf, b, k1, avgfl = scorer.idf, scorer.B, scorer.K1, scorer.avgfl
        # whoosh.scoring.bm25, operation for operation
        return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / avgfl)))


def _phrase_starts(docs: np.ndarray, leaves: list[_Leaf]) -> np.ndarray:
    """Indexes into ``docs`` of the documents where the words follow each other."""
    alive = np.arange(len(docs))
    if len(leaves) < 2 or not len(docs):
        return alive
    keys: np.ndarray | None = None
    # Rarest word first: fewer documents are left to decode for the others.
    for offset in sorted(range(len(leaves)), key=lambda i: len(leaves[i].docs)):
        leaf = leaves[offset]
        where = np.searchsorted(leaf.docs, docs[alive])
        lengths, positions = _leaf_positions(leaf, where)
        starts = positions - offset
        owner = np.repeat(alive, lengths)
        valid = starts >= 0
        found = owner[valid] * _KEY_SPAN + starts[valid]
        keys = found if keys is None else np.intersect1d(keys, found, assume_unique=True)
        owners = keys // _KEY_SPAN  # ascending: keep the first of each run
        alive = (
            owners[np.concatenate(([True], owners[1:] != owners[:-1]))] if len(owners) else owners
        )
        if not len(alive):
            break
    return alive


@dataclass(frozen=True)
class FastResult:
    """The matched docnums (ascending) and the best ``limit`` of them in answer order."""

    docs: np.ndarray
    top: tuple[int, ...]

    @property
    def docnums(self) -> list[int]:
        """The matched docnums as a list."""
        return self.docs.tolist()


def fast_matches(
    index: FastIndex, searcher: Any, q: Any, sort: str, limit: int
) -> FastResult | None:
    """What ``SearchService._matches`` collects with Whoosh, or None for an unsupported query.

    ``sort`` is "relevance" (TopCollector order) or "date" (newest first, as the sorting
    collector on the reversed date column); ties go to the lower docnum in both.
    """
    try:
        docs, scores = _match_all(index, searcher, q)
        if sort == "relevance":
            top = _top_by_score(docs, scores, limit)
        elif sort == "date":
            top = _top_by_rank(docs, index.date_rank(searcher), limit)
        else:
            return None
    except Unsupported:
        return None
    except Exception:  # an index or Whoosh this path does not know: Whoosh answers instead
        if not _warned.is_set():
            _warned.set()
            logger.warning("search fast path failed; using Whoosh's collectors", exc_info=True)
        return None
    return FastResult(docs, tuple(top.tolist()))


def _match_all(index: FastIndex, searcher: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    context = searcher.context(needs_current=True)
    all_docs: list[np.ndarray] = []
    all_scores: list[np.ndarray] = []
    for number, (subsearcher, offset) in enumerate(searcher.leaf_searchers()):
        hits = _Segment(index, number, subsearcher, context).query(q)
        all_docs.append(hits.docs + offset)
        all_scores.append(hits.scores)
    if not all_docs:
        return _EMPTY_DOCS, _EMPTY_SCORES
    return np.concatenate(all_docs), np.concatenate(all_scores)


def _top_by_score(docs: np.ndarray, scores: np.ndarray, limit: int) -> np.ndarray:
    count = len(docs)
    if limit < count:
        threshold = np.partition(scores, count - limit)[count - limit]
        chosen = np.flatnonzero(scores >= threshold)
        docs, scores = docs[chosen], scores[chosen]
    order = np.lexsort((docs, -scores))
    return docs[order[:limit]]


def _top_by_rank(docs: np.ndarray, rank: np.ndarray, limit: int) -> np.ndarray:
    ranks = rank[docs]
    if limit < len(docs):
        chosen = np.argpartition(ranks, limit)[:limit]
        docs, ranks = docs[chosen], ranks[chosen]
    return docs[np.argsort(ranks, kind="stable")]
