"""Speed-ups for a Whoosh segment writer: postings kept in memory by term, lengths from memory."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from pickle import dumps
from typing import Any

from csrnews.search import whoosh_compat
from csrnews.search.analysis import MixedAnalyzer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.fields import UnknownFieldError
from whoosh.formats import Positions
from whoosh.system import pack_uint
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


class MemoryPostingPool:
    """Whoosh's posting pool, kept in memory grouped by field and term instead of sorted runs.

    Whoosh's ``PostingPool`` holds every posting as a tuple ``(fieldname, tbytes, docnum,
    weight, vbytes)`` (about 250 bytes each), sorts them when it passes its memory limit and
    writes each sorted run to a temporary file, then merges the runs when the segment is
    flushed. Here each term keeps its postings in compact arrays (about 30 bytes a posting),
    and the flush yields the same postings in the same order: fields sorted, terms sorted,
    documents ascending. A word of a spelling field keeps its first posting only (see
    ``tune_writer``).
    """

    def __init__(self, spelling: frozenset[str] = frozenset()) -> None:
        self._spelling = spelling
        # field -> term -> [docnums, weights, value bytes, value ends]
        self._fields: dict[str, dict[bytes, list[Any]]] = {}
        self._spelled: dict[str, dict[bytes, tuple[Any, ...]]] = {}
        self._unsorted: set[tuple[str, bytes]] = set()  # a docnum came after a larger one
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[Any, ...]) -> None:
        """Add one posting ``(fieldname, tbytes, docnum, weight, vbytes)`` (merges use this)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        if fieldname in self._spelling:
            self._spelled.setdefault(fieldname, {}).setdefault(tbytes, item)
            self.fieldnames.add(fieldname)
        else:
            self.add_terms(fieldname, docnum, ((tbytes, weight, vbytes),))

    def add_terms(
        self, fieldname: str, docnum: int, items: Iterable[tuple[bytes, float, bytes | None]]
    ) -> None:
        """Add one document's postings ``(tbytes, weight, vbytes)`` of one (non-spelling) field."""
        try:
            terms = self._fields[fieldname]
        except KeyError:
            terms = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        for tbytes, weight, vbytes in items:
            postings = terms.get(tbytes)
            if postings is None:
                postings = terms[tbytes] = [array("I"), array("d"), bytearray(), array("I")]
            elif docnum <= postings[0][-1]:
                self._unsorted.add((fieldname, tbytes))
            postings[0].append(docnum)
            postings[1].append(weight)
            if vbytes:
                postings[2] += vbytes
            postings[3].append(len(postings[2]))

    def add_spelling(self, fieldname: str, words: Iterable[bytes], vbytes: bytes | None) -> None:
        """Add the words of a spelling field as Whoosh does: docnum 0, weight 1 (first kept)."""
        spelled = self._spelled.setdefault(fieldname, {})
        self.fieldnames.add(fieldname)
        for word in words:
            if word not in spelled:
                spelled[word] = (fieldname, word, 0, 1, vbytes)

    def iter_postings(self) -> Iterator[tuple[Any, ...]]:
        """Every posting in Whoosh's order, each term's arrays let go once it is passed."""
        for fieldname in sorted(self.fieldnames):
            spelled = self._spelled.pop(fieldname, None)
            if spelled is not None:
                for tbytes in sorted(spelled):
                    yield spelled[tbytes]
                continue
            terms = self._fields.pop(fieldname)
            for tbytes in sorted(terms):
                docs, weights, values, ends = terms.pop(tbytes)
                items = [
                    (fieldname, tbytes, doc, weight, bytes(values[start:end]))
                    for doc, weight, start, end in zip(
                        docs, weights, [0, *ends[:-1]], ends, strict=True
                    )
                ]
                if (fieldname, tbytes) in self._unsorted:
                    items.sort()
                yield from items

    def items(self) -> Iterator[tuple[Any, ...]]:
        return self.iter_postings()

    def cleanup(self) -> None:
        """Let the postings go (nothing was written to disk)."""
        self._fields.clear()
        self._spelled.clear()
        self._unsorted.clear()


def tune_writer(writer: Any) -> Any:
    """Make ``writer`` (a SegmentWriter) faster without changing what searches and suggestions see.

    * Postings are kept in memory by term (``MemoryPostingPool``), not sorted into temporary
      runs; the segment written is the same.
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
    writer.pool.cleanup()
    writer.pool = MemoryPostingPool(_spelling_fieldnames(writer.schema))
    writer.add_document = _document_adder(writer, writer.pool, writer.add_document)
    return writer


def _position_postings(field: Any, value: str) -> list[tuple[bytes, int, float, bytes]]:
    """``field.index(value)`` for a Positions field analysed by MixedAnalyzer, in one pass.

    The same ``(tbytes, frequency, weight, vbytes)`` items in the same order as Whoosh's
    ``Positions.word_values`` (each word's positions as deltas, pickled after their count).
    """
    first, words = field.analyzer.words(value)
    positions: dict[str, list[int]] = {}
    for pos, word in enumerate(words, first):
        found = positions.get(word)
        if found is None:
            positions[word] = [pos]
        else:
            found.append(pos)
    boost = field.format.field_boost
    items = []
    for word, found in positions.items():
        count = len(found)
        if count == 1:
            deltas = found
        else:
            deltas = [found[0]] + [b - a for a, b in zip(found, found[1:], strict=False)]
        items.append(
            (word.encode("utf-8"), count, float(count) * boost, pack_uint(count) + dumps(deltas, 2))
        )
    return items


def _fast_text(field: Any) -> bool:
    return type(field.format) is Positions and isinstance(field.analyzer, MixedAnalyzer)


def _document_adder(
    writer: Any, pool: MemoryPostingPool, original: Callable[..., None]
) -> Callable[..., None]:
    """Whoosh's ``SegmentWriter.add_document``, writing postings straight into ``pool``.

    The same postings, stored values, lengths and columns as Whoosh's, without a tuple and a
    call per posting; the text fields' postings are made in one pass (``_position_postings``)
    and their spelling words come from the analyzer's last words. Documents with boosts,
    ``_stored_`` values or term vectors go through Whoosh's own method.
    """
    schema = writer.schema
    fast_text = {name for name, field in schema.items() if _fast_text(field)}
    vectors = any(field.vector for _, field in schema.items())

    def add_document(**fields: Any) -> None:
        if writer.is_closed or vectors or any(name.startswith("_") for name in fields):
            original(**fields)
            return
        fieldnames = sorted(fields)
        for name in fieldnames:
            if name not in schema:
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
                field = schema[fieldname]
                length = 0
                fast = fieldname in fast_text and isinstance(value, str)
                if field.indexed:
                    items = _position_postings(field, value) if fast else field.index(value)
                    posted = []
                    for tbytes, freq, weight, vbytes in items:
                        posted.append((tbytes, weight * 1.0, vbytes))  # the field boost
                        length += freq
                    if not field.scorable:
                        length = 0
                    pool.add_terms(fieldname, docnum, posted)
                if field.separate_spelling():
                    if fast:
                        words = sorted(set(field.analyzer.words(value, no_morph=True)[1]))
                    else:
                        words = list(field.spellable_words(value))
                    pool.add_spelling(
                        field.spelling_fieldname(fieldname),
                        [word.encode("utf-8") for word in words],
                        vbytes,
                    )
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        whoosh_compat.mark_documents_added(writer)
        writer.docnum += 1

    return add_document
