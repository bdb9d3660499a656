"""Index segment files are read from the shared memory map, not copied for every searcher."""

from __future__ import annotations

import mmap
import pickle
import random
import struct
import tracemalloc
from pathlib import Path

import pytest
from csrnews.search import SearchRequest, SearchService, update_index
from csrnews.search.viewfile import ViewBufferFile
from whoosh import index as whoosh_index
from whoosh.filedb import compound
from whoosh.filedb.structfile import BufferFile

from bench.corpus import generate_corpus


def _payload() -> bytes:
    rng = random.Random(5)
    parts = [struct.pack("!i", -7), struct.pack("!I", 123456), pickle.dumps((1, "x", [2, 3]), 2)]
    parts.append(bytes(rng.randrange(256) for _ in range(20_000)))
    parts.append(b"line one\nline two\n")
    return b"".join(parts)


def test_installed_for_whooshs_compound_storage() -> None:
    assert compound.BufferFile is ViewBufferFile


def test_reads_as_whooshs_buffer_file(tmp_path: Path) -> None:
    data = _payload()
    path = tmp_path / "blob"
    path.write_bytes(b"pad" + data)
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mapped)[3:]
        theirs, ours = BufferFile(view), ViewBufferFile(view)
        for f in (theirs, ours):
            f.seek(0)
        assert ours.read_int() == theirs.read_int() == -7
        assert ours.read_uint() == theirs.read_uint() == 123456
        assert ours.read_pickle() == theirs.read_pickle() == (1, "x", [2, 3])
        assert ours.tell() == theirs.tell()
        for position, length in ((0, 4), (17, 300), (len(data) - 10, 10), (5000, 8192 + 5)):
            assert ours.get(position, length) == theirs.get(position, length)
            ours.seek(position)
            theirs.seek(position)
            assert ours.read(length) == theirs.read(length)
            assert ours.tell() == theirs.tell()
            assert list(ours.get_array(position, "i", 2)) == list(
                theirs.get_array(position, "i", 2)
            )
        ours.seek(-18, 2)
        theirs.seek(-18, 2)
        assert ours.readline() == theirs.readline() == b"line one\n"
        ours.seek(len(data) + 5)
        assert ours.read(4) == b""  # past the end, as BytesIO
        ours.close()
        theirs.close()
        del view, ours, theirs


def test_a_negative_seek_is_refused() -> None:
    with pytest.raises(ValueError):
        ViewBufferFile(b"abc").seek(-1)


@pytest.mark.slow
def test_searchers_share_the_segment_instead_of_copying_it(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    generate_corpus(content, 400, seed=11)
    update_index(content, index)
    segment_bytes = sum(p.stat().st_size for p in index.glob("*.seg"))
    assert segment_bytes > 1_000_000
    ix = whoosh_index.open_dir(str(index))
    warm = ix.searcher()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        searchers = [ix.searcher() for _ in range(4)]
        for searcher in searchers:
            assert searcher.postings("body", "audit").is_active()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    for searcher in [warm, *searchers]:
        searcher.close()
    # A private copy would be the whole segment per searcher; the views take a few buffers.
    assert grown < segment_bytes / 4, (grown, segment_bytes)
    answer = SearchService(index, cache_size=0).search(SearchRequest(q='"supply chain"'))
    assert answer["total"] > 0 and answer["hits"]
