"""Speed-ups for a Whoosh segment writer: lengths from memory, one posting a spelling word."""

from __future__ import annotations

from typing import Any

from csrnews.search import whoosh_compat
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
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


def tune_writer(writer: Any) -> Any:
    """Make ``writer`` (a SegmentWriter) faster without changing what searches and suggestions see.

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

    spelling = _spelling_fieldnames(writer.schema)
    if spelling:
        pool_add = writer.pool.add
        posted: set[tuple[str, bytes]] = set()

        def add(item: tuple[Any, ...]) -> None:
            # item = (fieldname, tbytes, docnum, weight, vbytes)
            if item[0] in spelling:
                key = (item[0], item[1])
                if key in posted:
                    return
                posted.add(key)
            pool_add(item)

        writer.pool.add = add
    return writer
