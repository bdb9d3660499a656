"""The one door to Whoosh's private names: the fast paths read its internals only through here.

Whoosh stays the search engine; its internals are read (posting lists, length columns, matcher
state) and, once, swapped (the compound file class) by csrnews.search.fastmatch, fastwrite,
viewfile and query only through these functions. tests/test_compat_whoosh.py checks each
private name against the installed Whoosh (pyproject.toml pins whoosh-reloaded's range);
nothing here runs on import.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import md5
from typing import Any

from whoosh import collectors
from whoosh.codec import whoosh3
from whoosh.filedb import compound, filetables
from whoosh.filedb.structfile import BufferFile
from whoosh.highlight import Highlighter
from whoosh.system import _INT_SIZE, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

# Every private name used, and what for (tests/test_compat_whoosh.py checks each one).
PRIVATE_NAMES: dict[str, str] = {
    "whoosh.system._INT_SIZE": "the size of a posting block's length prefix",
    "whoosh.codec.whoosh3._lenfield": "the column name of a field's lengths",
    "SegmentReader._perdoc": "a segment's per-document reader (length columns)",
    "W3PerDocReader._cached_reader": "a column reader, cached as Whoosh caches it",
    "column reader ._dbfile, ._basepos, ._count": "a fixed-size column's bytes, at once",
    "W3LeafMatcher._byteids, ._postfile, ._baseoffset": "where a posting list starts",
    "ListMatcher._ids, ._all_weights, ._weights, ._values, ._scorer": "an inlined list",
    "ConstantScoreWrapperMatcher._score": "the constant score",
    "FilterMatcher._exclude, ._ids": "the documents a filter leaves out",
    "TopCollector._collect": "each collected document (every match is listed too)",
    "Highlighter._merge_matched_tokens": "Whoosh's merging of adjacent matched tokens",
    "W3FieldWriter._postwriter": "the current field's postings writer (bulk postings)",
    "W3PostingsWriter._ids, ._weights, ._values, ._maxweight, ._minlength, ._maxlength, "
    "._blocklimit, ._inlinelimit, ._byteids": "a block filled at once (add_postings)",
    "compound.BufferFile": "the class compound storage opens sub-files as (viewfile)",
    "BufferFile._buf, ._name": "what BufferFile.__init__ keeps (viewfile's subclass)",
    "SegmentWriter._added": "a document was added: commit writes a new segment (fastwrite)",
    "W3PostingsWriter._write_block, ._blockcount, ._terminfo, ._format, ._maxweight, "
    "._minlength, ._maxlength, ._compression, ._new_block": "blocks of our own bytes (codec)",
    "W3LeafMatcher._read_data, ._read_ids, ._read_weights, ._read_values, ._data, "
    "._dataoffset, ._nextoffset, ._blocklength, ._fixedsize": "those blocks read back (codec)",
    "W3FieldWriter._tindex, ._fieldid, ._format, ._postfile": "a field's terms written at once",
    "W3TermInfo._struct, filetables._lengths, OrderedHashWriter.index, .buckets, .lastkey, "
    ".dbfile, .hashfn": "the term index's rows written as Whoosh writes them (TermWriter)",
}

INT_SIZE: int = _INT_SIZE


def length_column_name(fieldname: str) -> str:
    """The per-document column holding a field's (quantised) lengths."""
    return str(whoosh3._lenfield(fieldname))


def cached_column(perdoc: Any, name: str, column: Any) -> Any:
    """A per-document reader's column reader (None when the segment has no such column)."""
    return perdoc._cached_reader(name, column)


def segment_lengths_column(reader: Any, fieldname: str) -> Any:
    """A segment reader's lengths column of a field (None: no lengths stored)."""
    return cached_column(reader._perdoc, length_column_name(fieldname), whoosh3.LENGTHS_COLUMN)


def fixed_column_bytes(column: Any) -> tuple[Any, int, int] | None:
    """(file, offset, count) of a fixed-size column's bytes; None for other column readers."""
    if not hasattr(column, "_dbfile"):
        return None
    return column._dbfile, int(column._basepos), int(column._count)


def w3_postings(matcher: Any) -> tuple[bool, Any, int]:
    """(ids are bytes, posting file, offset of the first block) of a whoosh3 leaf matcher."""
    return bool(matcher._byteids), matcher._postfile, int(matcher._baseoffset)


@dataclass
class ListPostings:
    """What a ListMatcher holds (inlined terms and synthetic lists)."""

    ids: Any
    all_weights: Any
    weights: Any
    values: Any
    scorer: Any


def list_postings(matcher: Any) -> ListPostings:
    return ListPostings(
        matcher._ids, matcher._all_weights, matcher._weights, matcher._values, matcher._scorer
    )


def constant_score(matcher: Any) -> float:
    """The score a ConstantScoreWrapperMatcher gives every document."""
    return float(matcher._score)


def filter_exclusion(matcher: Any) -> tuple[bool, Any]:
    """(exclude, docnums) of a FilterMatcher: the docnums it leaves out, or keeps only."""
    return bool(matcher._exclude), matcher._ids


def merge_matched_tokens(tokens: Any) -> Any:
    """Whoosh's highlighter merging adjacent matched tokens, as its own highlight() does."""
    return Highlighter._merge_matched_tokens(tokens)


class ObservedTopCollector(collectors.TopCollector):
    """Whoosh's top-N collector that calls ``observe(docnum)`` for every document it collects."""

    def _collect(self, global_docnum: int, score: float) -> Any:
        kept = super()._collect(global_docnum, score)
        self.observe(global_docnum)
        return kept

    def observe(self, global_docnum: int) -> None:
        """Called after each document is collected; raise to stop collecting."""


def init_buffer_file(file: Any, buf: Any, name: str | None, raw: Any, onclose: Any) -> None:
    """Set what BufferFile.__init__ sets, with ``raw`` as the file object read from."""
    file._buf = buf
    file._name = name
    file.file = raw
    file.onclose = onclose
    file.is_real = False
    file.is_closed = False


def use_compound_file_class(cls: type[BufferFile]) -> Callable[[], None]:
    """Make compound storage open its sub-files as ``cls`` (process-wide); returns the undo."""
    previous = compound.BufferFile
    compound.BufferFile = cls

    def undo() -> None:
        compound.BufferFile = previous

    return undo


def mark_documents_added(writer: Any) -> None:
    """Tell a SegmentWriter that documents were added (as its add_document does)."""
    writer._added = True


def postings_writer(fieldwriter: Any) -> Any:
    """The postings writer of the field a segment's field writer is in (after start_field)."""
    return fieldwriter._postwriter


def compound_file_class() -> type[BufferFile]:
    return compound.BufferFile


class EncodedBlocksWriter(whoosh3.W3PostingsWriter):
    """W3's postings writer whose blocks hold ``encode_block``'s bytes instead of a pickle.

    The block header (length, pickled info tuple) is W3's, so skipping and block statistics
    work as before; only the data after it (ids, weights, values) is the subclass's own.
    """

    def encode_block(self, ids: Any, weights: Any, values: list[bytes], fixedsize: Any) -> bytes:
        """The bytes of one block's ids, weights and values (``fixedsize``: the format's)."""
        raise NotImplementedError

    _ids: Any  # W3's buffered block (array or list)

    def add_postings(
        self, ids: list[int], weights: list[float], values: list[Any], lengths: list[Any] | None
    ) -> None:
        """``add_posting`` for each posting in turn, a block at a time: the same blocks.

        As ``add_posting``: a full block is written when the next posting comes, the last one is
        left for ``finish_postings``; a value or length that is empty (0, None) is not kept.
        """
        if len(self._ids) or self._byteids or self._inlinelimit > 1:  # not at a term's start
            for n, (docnum, weight, value) in enumerate(zip(ids, weights, values, strict=True)):
                self.add_posting(docnum, weight, value or b"", lengths[n] if lengths else None)
            return
        limit = self._blocklimit
        for start in range(0, len(ids), limit):
            if start:
                self._write_block()
            end = start + limit
            block_weights = weights[start:end]
            self._ids = array("I", ids[start:end])
            self._weights = array("f", block_weights)  # float32, as add_posting keeps them
            self._values = list(filter(None, values[start:end]))
            top = max(block_weights)
            self._maxweight = top if top > 0 else 0
            if lengths is not None:
                kept = list(filter(None, lengths[start:end]))
                if kept:
                    self._minlength = min(kept)
                    self._maxlength = max(kept)

    def _write_block(self, last: bool = False) -> None:
        self._terminfo.add_block(self)
        ids = self._ids
        databytes = self.encode_block(
            ids, self._weights, self._values, self._format.fixed_value_size()
        )
        comp = self._compression
        if comp:
            databytes = zlib.compress(databytes, comp)
        infobytes = pickle.dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        # one write: W3's header before a term's first block, the length, info and data
        self._postfile.write(
            b"".join(
                (
                    b"" if self._blockcount else whoosh3.WHOOSH3_HEADER_MAGIC,
                    pack_int(-blocklength if last else blocklength),
                    infobytes,
                    databytes,
                )
            )
        )
        self._blockcount += 1
        self._new_block()


_HELD_BYTES = 1 << 17  # postings bytes a TermWriter holds before it writes them


def _md5_hash(key: bytes) -> int:
    """filetables.md5_hash (the low 32 bits of the key's MD5) without a hex string."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")


class TermWriter:
    """Writes a field's one-block terms as W3's field writer does, without its calls per term.

    For the field a segment's field writer is in (after ``start_field``), when its postings
    writer is an ``EncodedBlocksWriter`` without byte ids or inlining: ``write`` does what
    ``start_term``, ``add_postings`` and ``finish_term`` do for a term of at most one block
    (the postings bytes, the term info and its row of the term index: the same bytes), held
    and written at once by ``flush`` (itself past 128 kB held). Call ``flush`` before anything
    else writes to the field writer's files, and at the field's end. ``TermWriter.of`` is None
    for other writers.
    """

    def __init__(self, fieldwriter: Any, postings: EncodedBlocksWriter) -> None:
        self._fieldwriter = fieldwriter
        self._postings = postings
        self._tindex = fieldwriter._tindex
        self._prefix = pack_ushort(fieldwriter._fieldid)
        self._fixedsize = fieldwriter._format.fixed_value_size()
        hashfn = self._tindex.hashfn
        self._hash = _md5_hash if hashfn is filetables.md5_hash else hashfn
        self.limit = int(postings._blocklimit)  # the most postings ``write`` takes
        self._blocks: list[bytes] = []
        self._rows: list[bytes] = []
        self._places: list[int] = []
        self._sync()

    @classmethod
    def of(cls, fieldwriter: Any) -> TermWriter | None:
        """The term writer of the field ``fieldwriter`` is in; None when it cannot be used."""
        postings = getattr(fieldwriter, "_postwriter", None)
        tindex = getattr(fieldwriter, "_tindex", None)
        if (
            not isinstance(postings, EncodedBlocksWriter)
            or postings._byteids
            or postings._inlinelimit > 1
            or postings._terminfo is not None
            or type(tindex) is not filetables.OrderedHashWriter
        ):
            return None
        return cls(fieldwriter, postings)

    def _sync(self) -> None:
        self._post_at = self._post_from = self._postings._postfile.tell()
        self._row_at = self._tindex.dbfile.tell()
        self._lastkey = self._tindex.lastkey

    def write(
        self,
        tbytes: bytes,
        ids: list[int],
        weights: list[float],
        values: list[Any],
        lengths: list[Any] | None,
    ) -> None:
        """One term of 1 to ``limit`` postings (docnums ascending; empty values not kept)."""
        block_weights = array("f", weights)  # float32, as add_posting keeps them
        top = max(weights)
        maxweight = top if top > 0 else 0
        minlength, maxlength = None, 0
        if lengths is not None:
            kept = list(filter(None, lengths))
            if kept:
                minlength, maxlength = min(kept), max(kept)
        postings = self._postings
        data = postings.encode_block(
            array("I", ids), block_weights, list(filter(None, values)), self._fixedsize
        )
        comp = postings._compression
        if comp:
            data = zlib.compress(data, comp)
        low, high = length_to_byte(minlength), length_to_byte(maxlength)
        info = pickle.dumps((len(ids), ids[-1], maxweight, comp, low, high), 2)
        block = b"".join(
            (whoosh3.WHOOSH3_HEADER_MAGIC, pack_int(-(len(info) + len(data))), info, data)
        )
        offset = self._post_at
        self._post_at += len(block)
        self._blocks.append(block)
        # W3TermInfo.to_bytes of the term's one block (add_block, set_extent)
        row = (
            whoosh3.W3TermInfo._struct.pack(
                False,
                0 + sum(block_weights),
                len(ids),
                0 if minlength is None else low,
                high,
                maxweight,
                ids[0],
                ids[-1],
            )
            + pack_long(offset)
            + pack_int(len(block))
        )
        # OrderedHashWriter.add
        key = self._prefix + tbytes
        if key <= self._lastkey:
            raise ValueError(f"Keys must increase: {self._lastkey!r}..{key!r}")
        self._lastkey = key
        tindex = self._tindex
        at = self._row_at
        self._places.append(at)
        entry = b"".join((filetables._lengths.pack(len(key), len(row)), key, row))
        self._rows.append(entry)
        self._row_at = at + len(entry)
        h = self._hash(key)
        tindex.buckets[h & 255].append((h, at))
        if self._post_at - self._post_from > _HELD_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the terms held; take up the files where other writes leave them."""
        if self._blocks:
            self._postings._postfile.write(b"".join(self._blocks))
            tindex = self._tindex
            tindex.dbfile.write(b"".join(self._rows))
            tindex.index.extend(self._places)
            tindex.lastkey = self._lastkey
            self._blocks.clear()
            self._rows.clear()
            self._places.clear()
        self._sync()


class EncodedBlocksMatcher(whoosh3.W3LeafMatcher):
    """W3's leaf matcher for the blocks of an ``EncodedBlocksWriter`` (``decode_block``)."""

    def decode_block(self, raw: bytes, count: int, fixedsize: Any) -> tuple[Any, Any, Any]:
        """(ids, weights, values) of one block's (decompressed) bytes."""
        raise NotImplementedError

    def _read_data(self) -> None:
        raw = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        if self._compression:
            raw = zlib.decompress(raw)
        self._data = self.decode_block(raw, self._blocklength, self._fixedsize)

    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        self._ids = self._data[0]

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        self._weights = self._data[1]

    def _read_values(self) -> None:
        if self._data is None:
            self._read_data()
        self._values = self._data[2]
