"""Whoosh's private names, one contract each, against the installed Whoosh (whoosh_compat).

Each private name csrnews.search.whoosh_compat lists has a check here that fails, naming it,
when a Whoosh release renames it or changes what it holds; and no other module of the
search package reaches into Whoosh's private names.
"""

from __future__ import annotations

import ast
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.search import update_index, whoosh_compat
from csrnews.search.codec import PackedCodec, PackedLeafMatcher
from csrnews.search.fastmatch import _read_packed, _read_w3
from csrnews.search.schema import build_schema
from whoosh import index as whoosh_index
from whoosh import query
from whoosh.analysis import Token
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import ID, Schema
from whoosh.filedb import compound
from whoosh.filedb.filestore import RamStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.matching import mcore, wrappers
from whoosh.util.numeric import byte_to_length

from csrnews.story import storyfile
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    content = tmp_path_factory.mktemp("compat") / "content"
    for n, title in enumerate(["Supply chain forum", "Audit forum in Suzhou", "Labour report"]):
        story = storyfile.Story()
        story.set("Title", title)
        story.set("Date", f"2024-0{n + 1}-01")
        story.body = f"{title}. " + "Suppliers and buyers met. " * (n + 1)
        storyfile.write_story(storyfile.story_path(content, 2024, f"s{n}"), story)
    index = content.parent / "index"
    update_index(content, index)
    ix = whoosh_index.open_dir(str(index))
    with ix.searcher() as found:
        yield found


def _leaf_reader(searcher: object) -> object:
    return searcher.reader().leaf_readers()[0][0]  # type: ignore[attr-defined]


def check_int_size(searcher: object) -> None:
    assert whoosh_compat.INT_SIZE == struct.calcsize("!i")


def check_lenfield(searcher: object) -> None:
    assert whoosh_compat.length_column_name("body") == "_body_len"
    column = whoosh_compat.segment_lengths_column(_leaf_reader(searcher), "body")
    assert column is not None  # the column of that name holds the lengths (check_column_bytes)


def check_perdoc_and_cached_reader(searcher: object) -> None:
    column = whoosh_compat.segment_lengths_column(_leaf_reader(searcher), "body")
    assert column is not None


def check_column_bytes(searcher: object) -> None:
    reader = _leaf_reader(searcher)
    column = whoosh_compat.segment_lengths_column(reader, "body")
    found = whoosh_compat.fixed_column_bytes(column)
    assert found is not None
    dbfile, basepos, count = found
    raw = dbfile.get(basepos, count)
    lengths = [byte_to_length(b) for b in raw]
    assert lengths == [
        reader.doc_field_length(d, "body")  # type: ignore[attr-defined]
        for d in range(count)
    ]


def _ram_reader(codec: object) -> object:
    """A reader of a small index in memory written with ``codec`` (Whoosh's, or ours)."""
    ix = RamStorage().create_index(build_schema())
    writer = ix.writer(codec=codec)
    for n in range(700):  # more than one block of either codec
        writer.add_document(id=f"d{n}", title="forum", body="supply forum " * (1 + n % 4))
    writer.commit()
    return ix.reader()


def check_w3_postings(searcher: object) -> None:
    reader: Any = _ram_reader(W3Codec())
    matcher = reader.postings("body", "forum")
    assert type(matcher) is W3LeafMatcher
    byteids, postfile, offset = whoosh_compat.w3_postings(matcher)
    assert byteids is False and offset > 0 and hasattr(postfile, "read_int")
    expected = list(matcher.all_ids())
    assert list(_read_w3(reader.postings("body", "forum"), want_values=False).docs) == expected
    packed = _leaf_reader(searcher).postings("body", "forum")  # type: ignore[attr-defined]
    assert type(packed) is PackedLeafMatcher  # the story index: the same header and offsets
    assert list(_read_packed(packed, want_values=False).docs) == [0, 1]


def check_encoded_blocks(searcher: object) -> None:
    """Blocks written by EncodedBlocksWriter and read back hold W3's postings and statistics."""
    want: Any = _ram_reader(W3Codec())
    got: Any = _ram_reader(PackedCodec(blocklimit=128))  # W3's block size: the same blocks
    for term in (b"forum", b"suppli"):
        a, b = want.postings("body", term), got.postings("body", term)
        assert type(b) is PackedLeafMatcher and isinstance(b, whoosh_compat.EncodedBlocksMatcher)
        while a.is_active():
            assert b.is_active()
            assert (a.id(), a.weight(), a.value()) == (b.id(), b.weight(), b.value())
            assert (a.block_max_id(), a.block_max_weight(), a.block_max_length()) == (
                b.block_max_id(),
                b.block_max_weight(),
                b.block_max_length(),
            )
            a.next()
            b.next()
        assert not b.is_active()
        info_a, info_b = want.term_info("body", term), got.term_info("body", term)
        assert (info_a.doc_frequency(), info_a.max_weight()) == (
            info_b.doc_frequency(),
            info_b.max_weight(),
        )


def check_list_postings(searcher: object) -> None:
    matcher = mcore.ListMatcher([1, 4, 9], weights=[1.0, 2.0, 3.0], values=[b"a", b"b", b"c"])
    held = whoosh_compat.list_postings(matcher)
    assert list(held.ids) == [1, 4, 9] and list(held.weights) == [1.0, 2.0, 3.0]
    assert list(held.values) == [b"a", b"b", b"c"] and held.all_weights is None
    assert held.scorer is None


def check_constant_score(searcher: object) -> None:
    child = mcore.ListMatcher([2, 3])
    assert whoosh_compat.constant_score(wrappers.ConstantScoreWrapperMatcher(child, 2.5)) == 2.5


def check_filter(searcher: object) -> None:
    matcher = wrappers.FilterMatcher(mcore.ListMatcher([1, 2, 3]), {2}, exclude=True)
    assert whoosh_compat.filter_exclusion(matcher) == (True, {2})
    assert list(matcher.all_ids()) == [1, 3]


def check_top_collector(searcher: object) -> None:
    seen: list[int] = []

    class Listing(whoosh_compat.ObservedTopCollector):
        def observe(self, global_docnum: int) -> None:
            seen.append(global_docnum)

    collector = Listing(10)
    searcher.search_with_collector(query.Term("body", "forum"), collector)  # type: ignore[attr-defined]
    found = collector.results()
    assert sorted(seen) == sorted(found.docs()) and len(seen) == 2


def check_merge_matched_tokens(searcher: object) -> None:
    tokens = []
    for text, start, matched in (("supply", 0, True), ("chain", 6, True), ("forum", 13, False)):
        token = Token(text=text, startchar=start, endchar=start + len(text))
        token.matched = matched
        tokens.append(token.copy())
    merged = list(whoosh_compat.merge_matched_tokens(tokens))
    assert [(t.startchar, t.endchar, t.matched) for t in merged] == [(0, 11, True), (13, 18, False)]


def check_compound_buffer_file(searcher: object) -> None:
    assert whoosh_compat.compound_file_class() is compound.BufferFile

    class Other(BufferFile):
        pass

    undo = whoosh_compat.use_compound_file_class(Other)
    try:
        assert compound.BufferFile is Other
    finally:
        undo()
    assert compound.BufferFile is not Other


def check_buffer_file_attributes(searcher: object) -> None:
    real = BufferFile(b"abc", name="x")
    made = object.__new__(BufferFile)
    whoosh_compat.init_buffer_file(made, memoryview(b"abc"), "x", real.file, None)
    assert set(vars(made)) == set(vars(real))  # BufferFile.__init__ sets these and no others
    assert made.read(3) == b"abc"


def check_writer_added(searcher: object) -> None:
    ix = RamStorage().create_index(Schema(id=ID(stored=True)))
    writer = ix.writer()
    assert writer._added is False
    whoosh_compat.mark_documents_added(writer)
    writer.perdocwriter.start_doc(0)  # one empty document, as add_document writes it
    writer.perdocwriter.finish_doc()
    writer.docnum += 1
    writer.commit()
    assert ix.doc_count_all() == 1  # commit wrote the segment because of the mark


def check_bulk_postings(searcher: object) -> None:
    import io
    import random

    from csrnews.search.codec import PackedPositions, PackedPostingsWriter, packed_codec
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.fields import TEXT
    from whoosh.filedb.structfile import StructFile

    rng = random.Random(23)
    ids = sorted(rng.sample(range(5000), 1300))  # three blocks, the last one short
    weights = [float(rng.randint(0, 4)) for _ in ids]
    values = [bytes(4 * rng.randint(0, 2)) or rng.choice([b"", None]) for _ in ids]
    lengths = [rng.choice([0, None, 3, 7, 300]) for _ in ids]
    written = []
    for bulk in (False, True):
        out = io.BytesIO()
        postings = PackedPostingsWriter(StructFile(out), blocklimit=512, compression=0)
        postings.start_postings(PackedPositions(), W3TermInfo())
        if bulk:
            postings.add_postings(ids, weights, values, lengths)
        else:
            for posting in zip(ids, weights, values, lengths, strict=True):
                postings.add_posting(posting[0], posting[1], posting[2] or b"", posting[3])
        info = postings.finish_postings()
        written.append((out.getvalue(), info.to_bytes()))
    assert written[0] == written[1]
    ix = RamStorage().create_index(Schema(body=TEXT))
    writer = ix.writer(codec=packed_codec())
    writer.fieldwriter.start_field("body", writer.schema["body"])
    assert isinstance(whoosh_compat.postings_writer(writer.fieldwriter), PackedPostingsWriter)
    writer.cancel()


def _segment_bytes(folder: Path, tuned: bool) -> dict[str, bytes]:
    """The segment files of 700 small documents, by a tuned writer (TermWriter) or Whoosh's."""
    from csrnews.search.analysis import mixed_analyzer
    from csrnews.search.codec import pack_text_positions
    from csrnews.search.fastwrite import tune_writer
    from whoosh.fields import TEXT
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.filestore import FileStorage

    folder.mkdir()
    schema = Schema(
        id=ID(stored=True, sortable=True),
        title=pack_text_positions(TEXT(analyzer=mixed_analyzer(), stored=True)),
        body=pack_text_positions(TEXT(analyzer=mixed_analyzer(), field_boost=1.5)),
    )
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer(codec=PackedCodec(blocklimit=16))  # terms of one block and of many
    if tuned:
        writer = tune_writer(writer)
    for n in range(700):
        writer.add_document(
            id=f"d{n:03}", title=f"forum {n % 97} of {n % 3}", body="supply forum " * (n % 4)
        )
    writer.commit()
    storage = FileStorage(str(folder))
    found = {}
    for segment in whoosh_index.open_dir(str(folder))._segments():
        compound = CompoundStorage(storage.open_file(segment.make_filename(".seg")))
        for name in compound.list():
            found[name.split(".", 1)[1]] = compound.open_file(name).read()
        compound.close()
    return found


def check_term_writer(searcher: object) -> None:
    """Terms written by TermWriter: the postings and term index bytes W3's field writer writes."""
    import tempfile

    from whoosh.filedb import filetables

    assert whoosh_compat._md5_hash(b"\x00\x03forum") == filetables.md5_hash(b"\x00\x03forum")
    assert filetables._lengths.size == 8
    held = whoosh_compat._HELD_BYTES
    with tempfile.TemporaryDirectory() as folder:
        whooshs = _segment_bytes(Path(folder) / "whoosh", tuned=False)
        ours = _segment_bytes(Path(folder) / "ours", tuned=True)
        try:
            whoosh_compat._HELD_BYTES = 100  # written every few terms
            often = _segment_bytes(Path(folder) / "often", tuned=True)
        finally:
            whoosh_compat._HELD_BYTES = held
    assert sorted(ours) == sorted(whooshs) and "trm" in ours and "pst" in ours
    for name, data in whooshs.items():
        assert ours[name] == data == often[name], name


CHECKS: dict[str, Callable[[object], None]] = {
    "whoosh.system._INT_SIZE": check_int_size,
    "whoosh.codec.whoosh3._lenfield": check_lenfield,
    "SegmentReader._perdoc": check_perdoc_and_cached_reader,
    "W3PerDocReader._cached_reader": check_perdoc_and_cached_reader,
    "column reader ._dbfile, ._basepos, ._count": check_column_bytes,
    "W3LeafMatcher._byteids, ._postfile, ._baseoffset": check_w3_postings,
    "ListMatcher._ids, ._all_weights, ._weights, ._values, ._scorer": check_list_postings,
    "ConstantScoreWrapperMatcher._score": check_constant_score,
    "FilterMatcher._exclude, ._ids": check_filter,
    "TopCollector._collect": check_top_collector,
    "Highlighter._merge_matched_tokens": check_merge_matched_tokens,
    "compound.BufferFile": check_compound_buffer_file,
    "BufferFile._buf, ._name": check_buffer_file_attributes,
    "SegmentWriter._added": check_writer_added,
    "W3FieldWriter._postwriter": check_bulk_postings,
    "W3PostingsWriter._ids, ._weights, ._values, ._maxweight, ._minlength, ._maxlength, "
    "._blocklimit, ._inlinelimit, ._byteids": check_bulk_postings,
    "W3PostingsWriter._write_block, ._blockcount, ._terminfo, ._format, ._maxweight, "
    "._minlength, ._maxlength, ._compression, ._new_block": check_encoded_blocks,
    "W3LeafMatcher._read_data, ._read_ids, ._read_weights, ._read_values, ._data, "
    "._dataoffset, ._nextoffset, ._blocklength, ._fixedsize": check_encoded_blocks,
    "W3FieldWriter._tindex, ._fieldid, ._format, ._postfile": check_term_writer,
    "W3TermInfo._struct, filetables._lengths, OrderedHashWriter.index, .buckets, .lastkey, "
    ".dbfile, .hashfn": check_term_writer,
}


def test_every_private_name_has_a_contract() -> None:
    assert set(CHECKS) == set(whoosh_compat.PRIVATE_NAMES)


@pytest.mark.parametrize("name", sorted(whoosh_compat.PRIVATE_NAMES))
def test_private_name_contract(name: str, searcher: object) -> None:
    CHECKS[name](searcher)


def _private_uses(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in names:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    return found


def test_only_the_door_uses_whooshs_private_names() -> None:
    names = {
        part.strip().lstrip(".").split(".")[-1]
        for key in whoosh_compat.PRIVATE_NAMES
        for part in key.replace(" ", ",").split(",")
        if part.strip().lstrip(".").split(".")[-1].startswith("_")
    }
    assert {"_perdoc", "_cached_reader", "_dbfile", "_byteids", "_collect"} <= names
    # also our own methods' and attributes' names
    names -= {"_collect", "_count", "_name", "_data", "_lengths"}
    found = []
    for path in sorted((ROOT / "search").glob("*.py")):
        if path.name != "whoosh_compat.py":
            found += _private_uses(path, names)
    assert not found, found
