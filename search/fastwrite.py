"""Speed-ups for a Whoosh segment writer: postings kept in memory by term, lengths from memory."""

from __future__ import annotations

import heapq
import struct
import sys
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import accumulate, chain, groupby, islice, pairwise
from operator import itemgetter
from pickle import HIGHEST_PROTOCOL, dump, dumps, load
from struct import pack
from typing import Any

import numpy as np
from csrnews.search import whoosh_compat
from csrnews.search.analysis import MixedAnalyzer
from csrnews.search.codec import PackedPositions
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.fields import DATETIME, NUMERIC, UnknownFieldError
from whoosh.formats import Positions
from whoosh.system import pack_uint
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter


class _CachedLengths:
    """The new segment's field lengths, each length column read once into a list.

    When Whoosh flushes a segment it asks the per-document reader for a field length once per
    posting. Its reader caches a column only when the column exists, so for every posting of a
    field without lengths (IDs, numbers, facets and the spelling fields, which are most of the
    postings) it asks the file system whether the column file exists: an ``os.stat`` and
    several path operations per posting. This answers from memory, with the same values.
    """

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._doccount = reader.doc_count_all()
        self._lengths: dict[str, list[int | None] | None] = {}

    def _column(self, fieldname: str) -> list[int | None] | None:
        column = whoosh_compat.cached_column(
            self._reader, whoosh_compat.length_column_name(fieldname), LENGTHS_COLUMN
        )
        if column is None:
            lengths = None
        else:
            lengths = [byte_to_length(b) if b else None for b in column]
        self._lengths[fieldname] = lengths
        return lengths

    def lengths_of(self, fieldname: str) -> list[int | None] | None:
        """The field's length of every document (None: the field stores no lengths)."""
        try:
            return self._lengths[fieldname]
        except KeyError:
            return self._column(fieldname)

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        try:
            lengths = self._lengths[fieldname]
        except KeyError:
            lengths = self._column(fieldname)
        if lengths is None:
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        return lengths[docnum]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def _spelling_fieldnames(schema: Any) -> frozenset[str]:
    return frozenset(
        field.spelling_fieldname(name)
        for name, field in schema.items()
        if field.separate_spelling()
    )


class _FieldPostings:
    """One field's postings in the order they came: term numbers, documents, weights, values."""

    __slots__ = ("ascending", "docs", "ends", "terms", "text", "tids", "values", "weights")

    def __init__(self, text: bool = False) -> None:
        # term -> its number (in order of first posting); a text field's terms as str, encoded
        # once when the postings are sorted (UTF-8 sorts as str does)
        self.text = text
        self.terms: dict[Any, int] = {}
        self.tids = array("I")
        self.docs = array("I")
        self.weights = array("d")
        self.values = bytearray()  # every posting's value bytes, one after another
        self.ends = array("I")  # where each posting's value ends in ``values`` ("Q" past 4 GB)
        self.ascending = True  # each document's postings came after those of earlier ones

    def _add_terms(self, docnum: int, names: list[Any], weights: list[float]) -> int:
        """Record one document's postings' term numbers, document and weights; their size."""
        terms = self.terms
        tids = list(map(terms.get, names))
        size = _POSTING_SIZE * len(tids)
        if None in tids:  # new terms (rarer as the documents come)
            for n, tid in enumerate(tids):
                if tid is None:
                    tids[n] = terms[names[n]] = len(terms)
                    size += _TERM_SIZE + len(names[n])
        if self.docs and docnum < self.docs[-1]:
            self.ascending = False
        self.tids.extend(tids)  # type: ignore[arg-type]
        self.docs.extend(array("I", (docnum,)) * len(tids))
        self.weights.extend(weights)
        return size

    def add(
        self, docnum: int, tbytes: list[bytes], weights: list[float], values: list[bytes]
    ) -> int:
        """Add one document's postings; return an estimate of the bytes they take in memory."""
        names = [term.decode("utf-8") for term in tbytes] if self.text else tbytes
        size = self._add_terms(docnum, names, weights)
        start = len(self.values)
        if not any(values):  # no values (IDs, keywords, numbers, dates): every one ends here
            self.ends.extend(array(self.ends.typecode, (start,)) * len(names))
            return size
        if self.ends.typecode == "I" and start + sum(map(len, values)) >= 1 << 32:
            self.ends = array("Q", self.ends)
        self.ends.extend(islice(accumulate(map(len, values), initial=start), 1, None))
        self.values += b"".join(values)
        return size + len(self.values) - start

    def add_text(self, docnum: int, text: _TextPostings) -> int:
        """Add one text value's postings (``add`` with its values as one bytes); their size."""
        names = text.terms if self.text else [name.encode("utf-8") for name in text.terms]
        size = self._add_terms(docnum, names, text.weights)
        start = len(self.values)
        if self.ends.typecode == "I" and start + len(text.values) >= 1 << 32:
            self.ends = array("Q", self.ends)
        self.ends.extend(map(start.__add__, text.ends))
        self.values += text.values
        return size + len(text.values)

    def in_order(self) -> Iterator[tuple[bytes, list[int], list[float], list[bytes]]]:
        """(term, docs, weights, values) of each term: terms sorted, documents ascending."""
        keys = sorted(self.terms)
        numbers = np.fromiter(map(self.terms.__getitem__, keys), np.int64, len(keys))
        names = [key.encode("utf-8") for key in keys] if self.text else keys
        del keys
        # 16-bit ranks when they fit: numpy sorts them stably by radix, in linear time
        kind = np.uint16 if len(names) <= 1 << 16 else np.uint32
        rank = np.empty(len(names), dtype=kind)
        rank[numbers] = np.arange(len(names), dtype=kind)
        ranks = rank[np.frombuffer(self.tids, dtype=np.uint32)]
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        if self.ascending:  # documents came in order: a stable sort by term keeps it
            order = np.argsort(ranks, kind="stable")
        else:
            order = np.lexsort((docs, ranks))
        bounds = np.concatenate(([0], np.cumsum(np.bincount(ranks, minlength=len(names))))).tolist()
        del ranks
        ends = np.frombuffer(self.ends, dtype=np.uint64 if self.ends.typecode == "Q" else np.uint32)
        weights = np.frombuffer(self.weights, dtype=np.float64)
        values = np.frombuffer(self.values, dtype=np.uint8)
        first = 0
        while first < len(names):  # a chunk of terms at a time: Python lists of ~64k postings
            last = min(max(bisect_right(bounds, bounds[first] + _CHUNK) - 1, first + 1), len(names))
            base = bounds[first]
            chunk = order[base : bounds[last]]
            chunk_docs = docs[chunk].tolist()
            chunk_weights = weights[chunk].tolist()
            # the chunk's values gathered in its order, then sliced into bytes
            held_at = np.where(chunk > 0, ends[chunk - 1], 0).astype(np.int64)
            sizes = ends[chunk].astype(np.int64) - held_at
            gathered_ends = np.cumsum(sizes)
            gathered_starts = gathered_ends - sizes
            total = int(gathered_ends[-1]) if len(chunk) else 0
            gathered = values[
                np.repeat(held_at - gathered_starts, sizes) + np.arange(total)
            ].tobytes()
            chunk_starts, chunk_ends = gathered_starts.tolist(), gathered_ends.tolist()
            for n in range(first, last):
                low, high = bounds[n] - base, bounds[n + 1] - base
                yield (
                    names[n],
                    chunk_docs[low:high],
                    chunk_weights[low:high],
                    [
                        gathered[a:b]
                        for a, b in zip(chunk_starts[low:high], chunk_ends[low:high], strict=True)
                    ],
                )
            first = last


_CHUNK = 1 << 13
_RUN_CHUNK = 1 << 8  # terms and postings in a record of a run: a merge holds one of each run
_MAX_RUNS = 16  # then the runs are merged into one: the merges hold at most 16 records
_Term = tuple[bytes, list[int], list[float], list[bytes]]  # a term's docs, weights, values
_POSTING_SIZE = 24  # a posting's term number, document, weight and value end (and slack)
_TERM_SIZE = 120  # a new term's dict entry, bytes object and number


class _Run:
    """Postings spilled to a temporary file: each field's terms in order, a chunk per pickle.

    The file holds ``(fieldname, [(term, docs, weights, values), ...])`` records, fields in
    sorted order and terms sorted within each field, then ``None``. ``terms`` reads it back
    one record at a time, so the fields must be asked for in sorted order (as they are written).
    """

    def __init__(self, tempstore: Any, fields: Iterable[tuple[str, Iterator[_Term]]]) -> None:
        self._tempstore = tempstore
        self._name = f"{random_name()}.run"
        self._file: Any = None
        self._next: tuple[str, list[_Term]] | None = None
        with tempstore.create_file(self._name).raw_file() as out:
            for fieldname, terms in fields:  # fields in sorted order
                chunk: list[_Term] = []
                count = 0
                for term in terms:
                    chunk.append(term)
                    count += 4 + len(term[1])  # the term's objects and its postings
                    if count >= _RUN_CHUNK:
                        dump((fieldname, chunk), out, HIGHEST_PROTOCOL)
                        chunk, count = [], 0
                if chunk:
                    dump((fieldname, chunk), out, HIGHEST_PROTOCOL)
            dump(None, out, HIGHEST_PROTOCOL)

    def terms(self, fieldname: str) -> Iterator[_Term]:
        """The run's (term, docs, weights, values) of ``fieldname``, terms sorted."""
        if self._file is None:
            self._file = self._tempstore.open_file(self._name).raw_file()
            self._next = load(self._file)
        while self._next is not None and self._next[0] < fieldname:  # a field nobody asked for
            self._next = load(self._file)
        while self._next is not None and self._next[0] == fieldname:
            yield from self._next[1]
            self._next = load(self._file)

    def remove(self) -> None:
        """Close and delete the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tempstore.delete_file(self._name)


def _merged(runs: list[Iterator[_Term]]) -> Iterator[_Term]:
    """The terms of several runs in order, a term's postings from each run one after another.

    A term's postings come in document order (documents are numbered as they are added, and
    a merged segment's postings come term by term, documents ascending), so an earlier run
    holds a term's earlier documents: chaining the runs' lists keeps the documents ascending.
    """
    if len(runs) == 1:
        yield from runs[0]
        return
    for tbytes, group in groupby(heapq.merge(*runs, key=itemgetter(0)), key=itemgetter(0)):
        parts = list(group)
        if len(parts) == 1:
            yield parts[0]
        else:
            yield (
                tbytes,
                [doc for part in parts for doc in part[1]],
                [weight for part in parts for weight in part[2]],
                [value for part in parts for value in part[3]],
            )


class MemoryPostingPool:
    """Whoosh's posting pool, kept in memory by field in flat arrays instead of sorted runs.

    Whoosh's ``PostingPool`` holds every posting as a tuple ``(fieldname, tbytes, docnum,
    weight, vbytes)`` (about 250 bytes each), sorts them when it passes its memory limit and
    writes each sorted run to a temporary file, then merges the runs when the segment is
    flushed. Here each field keeps its postings in flat arrays (about 30 bytes a posting),
    sorted once at the flush (numpy), and the segment gets the same postings in the same
    order: fields sorted, terms sorted, documents ascending (``write_segment``). A word of a
    spelling field keeps its first posting only (see ``tune_writer``).

    With a ``limit`` (bytes, the writer's ``limitmb``) the pool stays bounded as Whoosh's does:
    when the postings held pass it (an estimate of the arrays' size), they are sorted and
    written to a temporary file in ``tempstore`` (a ``_Run``), and the flush merges the runs
    with the postings still in memory; 16 runs are merged into one, so that a merge reads a
    record (~256 postings) from at most 16 runs at a time. The spelling words stay in memory
    (one posting a word).
    """

    def __init__(
        self,
        spelling: frozenset[str] = frozenset(),
        *,
        limit: float | None = None,
        tempstore: Any = None,
    ) -> None:
        self._spelling = spelling
        self._fields: dict[str, _FieldPostings] = {}
        self._spelled: dict[str, dict[str, tuple[Any, ...]]] = {}  # word -> its one posting
        if limit is not None and tempstore is None:
            raise ValueError("a limit needs a tempstore to spill to")
        self._limit = limit
        self._tempstore = tempstore
        self._size = 0
        self._runs: list[_Run] = []
        self._spills = 0
        self._run_fields: set[str] = set()

    @property
    def fieldnames(self) -> set[str]:
        return set(self._fields) | set(self._spelled) | self._run_fields

    @property
    def spills(self) -> int:
        """How many times the postings held were sorted into a run (a temporary file)."""
        return self._spills

    def _spill(self) -> None:
        fields = self._fields
        self._runs.append(
            _Run(self._tempstore, ((name, fields[name].in_order()) for name in sorted(fields)))
        )
        self._run_fields.update(fields)
        self._fields = {}
        self._size = 0
        self._spills += 1
        if len(self._runs) >= _MAX_RUNS:
            runs = self._runs
            names = sorted(self._run_fields)
            merged = _Run(
                self._tempstore,
                ((name, _merged([run.terms(name) for run in runs])) for name in names),
            )
            for run in runs:
                run.remove()
            self._runs = [merged]

    def add(self, item: tuple[Any, ...]) -> None:
        """Add one posting ``(fieldname, tbytes, docnum, weight, vbytes)`` (merges use this)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        if fieldname in self._spelling:
            spelled = self._spelled.setdefault(fieldname, {})
            spelled.setdefault(tbytes.decode("utf-8"), (docnum, weight, vbytes))
        else:
            self.add_terms(fieldname, docnum, [tbytes], [weight], [vbytes or b""])

    def add_terms(
        self,
        fieldname: str,
        docnum: int,
        tbytes: list[bytes],
        weights: list[float],
        values: list[bytes],
    ) -> None:
        """Add one document's postings of one (non-spelling) field: terms, weights, values."""
        if not tbytes:
            return
        postings = self._fields.get(fieldname)
        if postings is None:
            postings = self._fields[fieldname] = _FieldPostings()
        self._size += postings.add(docnum, tbytes, weights, values)
        if self._limit is not None and self._size > self._limit:
            self._spill()

    def add_text(self, fieldname: str, docnum: int, text: _TextPostings) -> None:
        """Add one document's postings of one text field (``_TextPostings``)."""
        if not text.terms:
            return
        postings = self._fields.get(fieldname)
        if postings is None:
            postings = self._fields[fieldname] = _FieldPostings(text=True)
        self._size += postings.add_text(docnum, text)
        if self._limit is not None and self._size > self._limit:
            self._spill()

    def add_spelling(self, fieldname: str, words: Iterable[str], vbytes: bytes | None) -> None:
        """Add the words of a spelling field as Whoosh does: docnum 0, weight 1 (first kept)."""
        spelled = self._spelled.setdefault(fieldname, {})
        new = set(words).difference(spelled)  # most words were seen before
        if new:
            posting = (0, 1, vbytes)
            spelled.update(dict.fromkeys(new, posting))

    def _terms(self, fieldname: str) -> Iterator[tuple[bytes, list[int], list[Any], list[Any]]]:
        spelled = self._spelled.pop(fieldname, None)
        if spelled is not None:
            for word in sorted(spelled):  # UTF-8 sorts as str does
                docnum, weight, vbytes = spelled[word]
                yield word.encode("utf-8"), [docnum], [weight], [vbytes]
            return
        held = self._fields.pop(fieldname, None)
        if not self._runs:
            if held is not None:
                yield from held.in_order()
            return
        sources = [run.terms(fieldname) for run in self._runs]
        if held is not None:
            sources.append(held.in_order())
        yield from _merged(sources)

    def iter_postings(self) -> _PoolPostings:
        """Every posting in Whoosh's order (``write_segment`` writes them without the tuples)."""
        return _PoolPostings(self)

    def items(self) -> _PoolPostings:
        return self.iter_postings()

    def write_segment(self, fieldwriter: Any, schema: Any, lengths: Any) -> None:
        """Write every posting through the codec's field writer, fields and terms in order.

        What ``FieldWriter.add_postings`` does with the sorted postings, one call per term
        and posting instead of a tuple and several checks per posting.
        """
        for fieldname in sorted(self.fieldnames):
            column = lengths.lengths_of(fieldname) if lengths is not None else None
            fieldwriter.start_field(fieldname, schema[fieldname])
            add = fieldwriter.add
            bulk = getattr(whoosh_compat.postings_writer(fieldwriter), "add_postings", None)
            terms = whoosh_compat.TermWriter.of(fieldwriter)
            limit = terms.limit if terms is not None else 0
            for tbytes, docs, weights, values in self._terms(fieldname):
                if len(docs) <= limit:  # one block (most terms): written at once
                    doc_lengths = None if column is None else [column[doc] for doc in docs]
                    terms.write(tbytes, docs, weights, values, doc_lengths)  # type: ignore[union-attr]
                    continue
                if terms is not None:
                    terms.flush()
                fieldwriter.start_term(tbytes)
                if bulk is not None:  # the project's codec: a block at a time
                    doc_lengths = None if column is None else [column[doc] for doc in docs]
                    bulk(docs, weights, values, doc_lengths)
                elif column is None:
                    for doc, weight, value in zip(docs, weights, values, strict=True):
                        add(doc, weight, value or b"", 0)
                else:
                    for doc, weight, value in zip(docs, weights, values, strict=True):
                        add(doc, weight, value or b"", column[doc])
                fieldwriter.finish_term()
                if terms is not None:
                    terms.flush()  # takes up the files where finish_term left them
            if terms is not None:
                terms.flush()
            fieldwriter.finish_field()

    def cleanup(self) -> None:
        """Let the postings go and delete the runs' temporary files."""
        self._fields.clear()
        self._spelled.clear()
        for run in self._runs:
            run.remove()
        self._runs.clear()
        self._run_fields.clear()
        self._size = 0


class _PoolPostings:
    """The pool's postings as Whoosh's flush asks for them: an iterable of posting tuples."""

    def __init__(self, pool: MemoryPostingPool) -> None:
        self.pool = pool

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        pool = self.pool
        for fieldname in sorted(pool.fieldnames):
            for tbytes, docs, weights, values in pool._terms(fieldname):
                for doc, weight, value in zip(docs, weights, values, strict=True):
                    yield fieldname, tbytes, doc, weight, value


def tune_writer(writer: Any) -> Any:
    """Make ``writer`` (a SegmentWriter) faster without changing what searches and suggestions see.

    * Postings are kept in memory by term (``MemoryPostingPool``), sorted into temporary runs
      only past the writer's ``limitmb`` (about 40 bytes a posting instead of Whoosh's 250, so
      much later); the segment written is the same.
    * Field lengths are looked up from memory when the segment is flushed (``_CachedLengths``).
    * A word of a spelling field (``spell_title``, ``spell_body``: the unstemmed words behind
      "did you mean") is posted once per segment instead of once per document that has it.
      Whoosh posts each such word as a posting of document 0 with weight 1 for every document,
      so a common word got thousands of identical postings (40% of all postings here), which
      were sorted, compared and written for nothing: the corrector reads only the spelling
      field's word list (``terms_within``), and ranks by frequencies in the field itself.
    """
    if not isinstance(writer, SegmentWriter):
        return writer
    original = writer.per_document_reader

    def per_document_reader() -> Any:
        return _CachedLengths(original())

    writer.per_document_reader = per_document_reader
    whooshs = writer.pool  # Whoosh's PostingPool: its limit (limitmb) and temporary folder
    whooshs.cleanup()
    writer.pool = MemoryPostingPool(
        _spelling_fieldnames(writer.schema), limit=whooshs.limit, tempstore=whooshs.tempstore
    )
    writer.add_document = _document_adder(writer, writer.pool, writer.add_document)
    writer.fieldwriter.add_postings = _postings_adder(writer.fieldwriter)
    return writer


def _postings_adder(fieldwriter: Any) -> Callable[[Any, Any, Any], None]:
    """The field writer's ``add_postings``, writing a memory pool's postings directly."""
    original = fieldwriter.add_postings

    def add_postings(schema: Any, lengths: Any, items: Any) -> None:
        if isinstance(items, _PoolPostings) and (
            lengths is None or isinstance(lengths, _CachedLengths)
        ):
            items.pool.write_segment(fieldwriter, schema, lengths)
        else:
            original(schema, lengths, items)

    return add_postings


def _positions_by_word(words: list[str], first: int) -> dict[str, list[int]]:
    """Each word's positions (the first word at ``first``), words in the order they come."""
    positions: dict[str, list[int]] = {}
    for pos, word in enumerate(words, first):
        found = positions.get(word)
        if found is None:
            positions[word] = [pos]
        else:
            found.append(pos)
    return positions


def _position_postings(field: Any, value: str) -> tuple[list[bytes], list[float], list[bytes], int]:
    """``field.index(value)`` for a Positions field analysed by MixedAnalyzer, in one pass.

    The terms, weights and values of Whoosh's ``Positions.word_values`` items, in the same
    order (each word's positions as deltas, pickled after their count), and the field length.
    """
    first, words = field.analyzer.words(value)
    positions = _positions_by_word(words, first)
    boost = field.format.field_boost
    packed = type(field.format) is PackedPositions
    terms, weights, values = [], [], []
    for word, found in positions.items():
        count = len(found)
        terms.append(word.encode("utf-8"))
        weights.append(float(count) * boost * 1.0)  # * the field boost of add_document
        if packed:  # the project's codec: absolute positions as packed uint32
            values.append(pack(f"<{count}I", *found))
            continue
        if count == 1:
            deltas = found
        else:
            deltas = [found[0]] + [b - a for a, b in pairwise(found)]
        values.append(pack_uint(count) + dumps(deltas, 2))
    return terms, weights, values, len(words)


class _TextPostings:
    """One text value's postings (PackedPositions), made from one analysis of the value.

    ``terms`` (str, in no particular order), ``weights`` their counts times the field boost,
    ``values`` every term's absolute positions as packed uint32 one after another, ``ends``
    where each term's positions end in ``values`` (bytes), ``length`` the tokens kept,
    ``words`` the value's distinct unstemmed words (the spelling words), and ``last``
    the value of the term that comes first last in the text (Whoosh's last posting).
    """

    __slots__ = ("ends", "last", "length", "terms", "values", "weights", "words")

    def __init__(self, field: Any, value: str) -> None:
        analyzer = field.analyzer
        first, kept = analyzer.words(value, no_morph=True)
        self.length = len(kept)
        found = _positions_by_word(kept, first)
        self.words = words = list(found)
        stems = analyzer.stems(words)  # each distinct word stemmed once
        lists: list[list[int]] = list(found.values())
        if stems is not words:
            by_term: dict[str, list[int]] = dict(zip(stems, lists, strict=True))
            if len(by_term) < len(stems):  # words with the same stem: their positions merged
                by_term = {}
                for stem, positions in zip(stems, lists, strict=True):
                    seen = by_term.get(stem)
                    by_term[stem] = positions if seen is None else sorted(seen + positions)
            words, lists = list(by_term), list(by_term.values())
        self.terms = words
        boost = float(field.format.field_boost)
        counts = list(map(len, lists))
        self.weights = [count * boost for count in counts]  # float(count) * boost
        self.values = _uint32s(chain.from_iterable(lists))
        self.ends = list(accumulate(map((4).__mul__, counts)))
        # Whoosh's postings come in the order each term first appears: the last one's value,
        # the last list (words and stems are kept in the order they first appear).
        self.last = _uint32s(lists[-1] if lists else ())


def _uint32s(numbers: Iterable[int]) -> bytes:
    """The numbers as packed little-endian uint32, as PackedPositions encodes positions."""
    packed = array("I", numbers)
    if packed.itemsize != 4 or sys.byteorder != "little":
        return struct.pack(f"<{len(packed)}I", *packed)
    return packed.tobytes()


def _fast_text(field: Any) -> bool:
    return type(field.format) in (Positions, PackedPositions) and isinstance(
        field.analyzer, MixedAnalyzer
    )


_Indexed = tuple[list[bytes], list[float], list[bytes], int, Any]


class _IndexedValues:
    """``field.index(value)`` of the other fields, each distinct value analysed once.

    Categories, sources, languages, years, dates and keyword lists repeat from story to story;
    a field whose values hardly repeat (IDs, addresses) stops being remembered.
    """

    LIMIT = 1 << 11  # values remembered per field (then forgotten, all at once)
    TRIAL = 1 << 10  # values seen before a field whose values hardly repeat is left alone

    def __init__(self) -> None:
        self._seen: dict[str, dict[tuple[type, Any], _Indexed]] = {}
        self._tries: dict[str, list[int]] = {}  # field -> [lookups, hits]
        self._alone: set[str] = set()

    @staticmethod
    def index(field: Any, value: Any) -> _Indexed:
        """The terms, weights, values, length and last raw value of ``field.index(value)``."""
        if (
            type(field) in (NUMERIC, DATETIME)
            and field.shift_step
            and isinstance(value, (int, datetime))
        ):
            # A number's terms at each shift: its sortable form made once (to_bytes at shift
            # 0, big-endian after the shift byte), not once a shift as Whoosh makes them.
            sortable = int.from_bytes(field.to_bytes(value)[1:], "big")
            shifts = range(0, field.bits, field.shift_step)
            terms = [field.sortable_to_bytes(sortable, shift) for shift in shifts]
            return terms, [1.0] * len(terms), [b""] * len(terms), len(terms), b""
        terms, weights, values, length, last = [], [], [], 0, None
        for tbytes, freq, weight, vbytes in field.index(value):
            terms.append(tbytes)
            weights.append(weight * 1.0)  # the field boost of add_document
            values.append(vbytes or b"")
            length += freq
            last = vbytes
        return terms, weights, values, length, last

    def __call__(self, fieldname: str, field: Any, value: Any) -> _Indexed:
        if fieldname in self._alone:
            return self.index(field, value)
        seen = self._seen.setdefault(fieldname, {})
        key = (type(value), value)
        found = seen.get(key)
        tries = self._tries.setdefault(fieldname, [0, 0])
        tries[0] += 1
        if found is not None:
            tries[1] += 1
            return found
        if tries[0] == self.TRIAL and tries[1] * 4 < tries[0]:  # fewer than 1 in 4 repeat
            self._alone.add(fieldname)
            del self._seen[fieldname]
        elif len(seen) >= self.LIMIT:
            seen.clear()
        found = self.index(field, value)
        if fieldname not in self._alone:
            seen[key] = found
        return found


def _document_adder(
    writer: Any, pool: MemoryPostingPool, original: Callable[..., None]
) -> Callable[..., None]:
    """Whoosh's ``SegmentWriter.add_document``, writing postings straight into ``pool``.

    The same postings, stored values, lengths and columns as Whoosh's, without a tuple and a
    call per posting; a text field's postings and spelling words come from one analysis of
    its value (``_TextPostings``; ``_position_postings`` for Whoosh's own Positions format),
    the other fields' from one analysis of each distinct value (``_IndexedValues``).
    Documents with boosts, ``_stored_`` values or term vectors go through Whoosh's own method.
    """
    schema = writer.schema
    fast_text = {name for name, field in schema.items() if _fast_text(field)}
    vectors = any(field.vector for _, field in schema.items())

    indexed = _IndexedValues()
    # each field's object and what add_document asks of it, looked up once
    plans = {
        name: (
            field,
            field.indexed,
            name in fast_text,
            type(field.format) is PackedPositions,
            field.scorable,
            field.spelling_fieldname(name) if field.separate_spelling() else None,
            field.stored,
            field.column_type,
        )
        for name, field in schema.items()
    }

    def add_document(**fields: Any) -> None:
        if writer.is_closed or vectors or any(name.startswith("_") for name in fields):
            original(**fields)
            return
        fieldnames = sorted(fields)
        for name in fieldnames:
            if name not in plans:
                if name in schema:  # a dynamic field: Whoosh's own method
                    original(**fields)
                    return
                raise UnknownFieldError(f"No field named {name!r} in {schema}")
        perdocwriter = writer.perdocwriter
        docnum = writer.docnum
        perdocwriter.start_doc(docnum)
        vbytes = None  # as in Whoosh: a spelling word's value is the field's last posting's
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field, is_indexed, fast, packed, scorable, spelling, stored, column = plans[
                    fieldname
                ]
                length = 0
                fast = fast and isinstance(value, str)
                text = None
                if is_indexed:
                    if fast and packed:
                        text = _TextPostings(field, value)
                        length = text.length
                        if text.terms:
                            vbytes = text.last
                    elif fast:
                        terms, weights, values, length = _position_postings(field, value)
                        if values:
                            vbytes = values[-1]
                    else:
                        terms, weights, values, length, last = indexed(fieldname, field, value)
                        if terms:
                            vbytes = last
                    if not scorable:
                        length = 0
                    if text is not None:
                        pool.add_text(fieldname, docnum, text)
                    else:
                        pool.add_terms(fieldname, docnum, terms, weights, values)
                if spelling is not None:
                    if text is not None:
                        words = text.words
                    elif fast:
                        words = sorted(set(field.analyzer.words(value, no_morph=True)[1]))
                    else:
                        words = list(field.spellable_words(value))
                    pool.add_spelling(spelling, words, vbytes)
                perdocwriter.add_field(fieldname, field, value if stored else None, length)
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        whoosh_compat.mark_documents_added(writer)
        writer.docnum += 1

    return add_document
