"""Packed postings: a Whoosh codec whose blocks and positions numpy reads without unpickling."""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any

import numpy as np
from csrnews.search import whoosh_compat
from whoosh import fields, formats
from whoosh.codec.whoosh3 import W3Codec
from whoosh.matching import ListMatcher

# A block of an EncodedBlocksWriter, after W3's header, (zlib-compressed) bytes of:
#   ids      count x uint32, little-endian: the docnums themselves (not deltas)
#   weights  count x float32, little-endian (Whoosh keeps weights as 32-bit floats too)
#   values   variable-size format: count x uint32 byte lengths, then the values one after
#            the other; fixed-size format: the values one after the other; size 0: nothing
# A value of PackedPositions is its positions as uint32, little-endian (absolute, ascending).
# Blocks of 512 postings, not compressed: measured at 20k stories, zlib's inflating took a third
# of a query's CPU time once nothing was unpickled; unpacked, the index is 1.16x the size of
# Whoosh's compressed pickles (104 against 90 MB), and the fast path reads a block per 512.
BLOCK_LIMIT = 512
COMPRESSION = 0
_U4 = np.dtype("<u4")
_F4 = np.dtype("<f4")
_NATIVE_LITTLE = sys.byteorder == "little" and array("I").itemsize == 4


class PackedPositions(formats.Positions):
    """Whoosh's Positions, each posting's positions stored as packed uint32 (not a pickle)."""

    def encode(self, poslist: Any) -> bytes:
        return struct.pack(f"<{len(poslist)}I", *poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(struct.unpack(f"<{len(valuestring) // 4}I", valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4


def pack_text_positions(field: fields.FieldType) -> fields.FieldType:
    """The field with its Positions format (phrases) as PackedPositions; others unchanged."""
    if type(field.format) is formats.Positions:
        field.format = PackedPositions(field_boost=field.format.field_boost)
    return field


def _array(typecode: str, raw: bytes | memoryview) -> array:
    out = array(typecode)
    out.frombytes(raw)
    if not _NATIVE_LITTLE:
        out.byteswap()
    return out


def _packed(typecode: str, numbers: Any) -> bytes:
    """The native bytes of an array of ``typecode`` holding the numbers (as given, if one)."""
    if isinstance(numbers, array) and numbers.typecode == typecode:
        return numbers.tobytes()
    return array(typecode, numbers).tobytes()


def encode_block(ids: Any, weights: Any, values: list[bytes], fixedsize: int | None) -> bytes:
    """The data bytes of one block (see the layout above)."""
    if _NATIVE_LITTLE:  # the arrays' own bytes (numpy costs more than it saves on a block)
        parts = [_packed("I", ids), _packed("f", weights)]
    else:
        parts = [np.asarray(ids, dtype=_U4).tobytes(), np.asarray(weights, dtype=_F4).tobytes()]
    if fixedsize is None or fixedsize < 0:
        if _NATIVE_LITTLE:
            parts.append(array("I", map(len, values)).tobytes())
        else:
            parts.append(np.fromiter(map(len, values), dtype=_U4, count=len(values)).tobytes())
        parts.extend(values)
    elif fixedsize > 0:
        parts.extend(values)
    return b"".join(parts)


def decode_block(raw: bytes, count: int, fixedsize: int | None) -> tuple[Any, Any, Any]:
    """(ids, weights, values) of a block's data bytes, as Whoosh's leaf matcher holds them."""
    view = memoryview(raw)
    ids = _array("I", view[: 4 * count])
    weights = _array("f", view[4 * count : 8 * count])
    values: Any
    if fixedsize is None or fixedsize < 0:
        lengths = np.frombuffer(raw, dtype=_U4, count=count, offset=8 * count).tolist()
        values, position = [], 12 * count
        for length in lengths:
            values.append(raw[position : position + length])
            position += length
        values = tuple(values)
    elif fixedsize == 0:
        values = (None,) * count
    else:
        data = raw[8 * count :]
        values = tuple(data[i : i + fixedsize] for i in range(0, len(data), fixedsize))
    return ids, weights, values


def block_arrays(
    raw: bytes, count: int, want_values: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(docnums, weights, value byte lengths, value bytes) of a variable-size block, as arrays.

    The value arrays are None unless ``want_values``.
    """
    docs = np.frombuffer(raw, dtype=_U4, count=count)
    weights = np.frombuffer(raw, dtype=_F4, count=count, offset=4 * count)
    if not want_values:
        return docs, weights, None, None
    lengths = np.frombuffer(raw, dtype=_U4, count=count, offset=8 * count)
    payload = np.frombuffer(raw, dtype=np.uint8, offset=12 * count)
    return docs, weights, lengths, payload


class PackedPostingsWriter(whoosh_compat.EncodedBlocksWriter):
    """Writes posting blocks in the packed layout."""

    def encode_block(self, ids: Any, weights: Any, values: list[bytes], fixedsize: Any) -> bytes:
        return encode_block(ids, weights, values, fixedsize)


class PackedLeafMatcher(whoosh_compat.EncodedBlocksMatcher):
    """Reads posting blocks in the packed layout (Whoosh's matcher interface)."""

    def decode_block(self, raw: bytes, count: int, fixedsize: Any) -> tuple[Any, Any, Any]:
        return decode_block(raw, count, fixedsize)


class PackedCodec(W3Codec):
    """Whoosh's W3 codec with packed posting blocks (term index, columns, segments: W3's)."""

    def __init__(
        self,
        blocklimit: int = BLOCK_LIMIT,
        compression: int = COMPRESSION,
        inlinelimit: int = 1,
    ) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)
        self.options = {
            "blocklimit": blocklimit,
            "compression": compression,
            "inlinelimit": inlinelimit,
        }

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        if byteids:  # term vectors: W3's own blocks
            return super().postings_writer(dbfile, byteids=byteids)
        return PackedPostingsWriter(dbfile, byteids=False, **self.options)

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> Any:
        if terminfo.is_inlined():
            ids, weights, values = terminfo.inlined_postings()
            return ListMatcher(
                ids, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo
            )
        offset, length = terminfo.extent()
        return PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


def packed_codec() -> PackedCodec:
    """The codec the story index is written with."""
    return PackedCodec()
