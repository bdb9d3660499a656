"""Packed postings (search/codec.py): what Whoosh's blocks and positions hold, read by numpy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from csrnews.search import SearchRequest, SearchService, update_index
from csrnews.search.codec import (
    BLOCK_LIMIT,
    PackedCodec,
    PackedLeafMatcher,
    PackedPositions,
    block_arrays,
    decode_block,
    encode_block,
    pack_text_positions,
)
from csrnews.search.fastmatch import FastIndex, _read_packed, fast_matches
from csrnews.search.indexer import META_FILE, story_document
from csrnews.search.schema import build_schema, schema_version
from whoosh import formats, query
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import TEXT
from whoosh.filedb.filestore import RamStorage

from csrnews.story import storyfile

WORDS = "supply chain audit forum corrective action plans annual sustainability report".split()


def test_packed_positions_round_trip() -> None:
    fmt = PackedPositions(field_boost=2.0)
    for positions in ([0], [3, 4, 70000], list(range(0, 3000, 7)), [2**32 - 1]):
        value = fmt.encode(positions)
        assert value == np.array(positions, dtype="<u4").tobytes()
        assert fmt.decode_positions(value) == positions
        assert fmt.decode_frequency(value) == len(positions)
        assert fmt.decode_weight(value) == 2.0 * len(positions)
        assert fmt.decode_as("positions", value) == positions
    assert fmt.decode_positions(fmt.combine([fmt.encode([5, 9]), fmt.encode([1, 9])])) == [1, 5, 9]


def test_packed_positions_index_like_whoosh_positions() -> None:
    """word_values gives the same words, frequencies and weights; only the value bytes differ."""
    field = TEXT(phrase=True, field_boost=1.5)
    analyzer = field.analyzer
    text = "Supply chain audit: the supply chain forum audits supply chains."
    plain = list(formats.Positions(field_boost=1.5).word_values(text, analyzer))
    packed = list(PackedPositions(field_boost=1.5).word_values(text, analyzer))
    assert [v[:3] for v in packed] == [v[:3] for v in plain]
    for (_, _, _, want), (_, _, _, got) in zip(plain, packed, strict=True):
        assert PackedPositions().decode_positions(got) == formats.Positions().decode_positions(want)


def test_pack_text_positions_changes_only_positions() -> None:
    assert type(pack_text_positions(TEXT(field_boost=3.0)).format) is PackedPositions
    assert pack_text_positions(TEXT(field_boost=3.0)).format.field_boost == 3.0
    unphrased = TEXT(phrase=False)
    assert type(pack_text_positions(unphrased).format) is formats.Frequency
    schema = build_schema()
    assert type(schema["body"].format) is PackedPositions
    assert type(schema["title"].format) is PackedPositions


@pytest.mark.parametrize("fixedsize", [None, 0, 3])
def test_block_round_trip(fixedsize: int | None) -> None:
    ids = [0, 5, 6, 1000, 2**31]
    weights = [1.0, 2.5, 0.1, 3.0, 7.0]
    if fixedsize is None:
        values = [b"", b"a", b"\x00\x01\x02\x03", b"xyz" * 100, b"q"]
    elif fixedsize == 0:
        values = []
    else:
        values = [b"abc", b"def", b"ghi", b"jkl", b"mno"]
    raw = encode_block(ids, np.array(weights, dtype=np.float32), values, fixedsize)
    got_ids, got_weights, got_values = decode_block(raw, len(ids), fixedsize)
    assert list(got_ids) == ids
    assert list(got_weights) == [float(np.float32(w)) for w in weights]
    assert list(got_values) == (values if fixedsize != 0 else [None] * len(ids))
    docs, array_weights, lengths, payload = block_arrays(raw, len(ids), fixedsize is None)
    assert docs.tolist() == ids and array_weights.tolist() == list(got_weights)
    if fixedsize is None:
        assert lengths is not None and payload is not None
        assert lengths.tolist() == [len(v) for v in values]
        assert payload.tobytes() == b"".join(values)


def _documents(count: int) -> list[dict[str, Any]]:
    docs = []
    for n in range(count):
        story = storyfile.Story()
        story.set("Title", f"{WORDS[n % len(WORDS)]} {WORDS[(n * 7) % len(WORDS)]} story {n}")
        story.set("Date", f"20{10 + n % 12}-0{1 + n % 9}-01")
        story.set("Organisations", "amfori, MIIT" if n % 3 else "BSCI")
        story.body = " ".join(WORDS[(n * k) % len(WORDS)] for k in range(1, 40 + n % 300))
        doc = story_document(story, f"s{n}", f"h{n}")
        assert doc is not None
        docs.append(doc)
    return docs


def _ram_index(codec: Any, docs: list[dict[str, Any]], schema: Any = None) -> Any:
    ix = RamStorage().create_index(schema or build_schema())
    writer = ix.writer(codec=codec)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return ix


def _postings(reader: Any, fieldname: str) -> dict[bytes, list[tuple[int, float, Any]]]:
    out = {}
    for term in reader.lexicon(fieldname):
        out[term] = _walk(reader.postings(fieldname, term))
    return out


def _walk(m: Any) -> list[tuple[int, float, Any]]:
    found = []
    while m.is_active():
        found.append((m.id(), m.weight(), m.value()))
        m.next()
    return found


def test_packed_blocks_hold_what_whoosh_blocks_hold() -> None:
    """Every posting of every field, read through Whoosh's matcher interface, is the same."""
    docs = _documents(BLOCK_LIMIT * 2 + 77)  # several blocks for the common words
    w3 = _ram_index(W3Codec(), docs)
    packed = _ram_index(PackedCodec(), docs)
    with w3.reader() as want, packed.reader() as got:
        assert type(got.postings("body", b"suppli")) is PackedLeafMatcher
        assert type(want.postings("body", b"suppli")) is W3LeafMatcher
        for fieldname in want.indexed_field_names():
            if fieldname.startswith("spell_"):
                # Whoosh posts every spelling word as document 0 (the list is only its
                # lexicon), so the order of those equal postings is no contract; the words are.
                assert list(got.lexicon(fieldname)) == list(want.lexicon(fieldname))
                continue
            assert _postings(got, fieldname) == _postings(want, fieldname), fieldname
        # skipping (Whoosh's own intersections) lands on the same postings
        for term in (b"suppli", b"chain", b"report"):
            a, b = want.postings("body", term), got.postings("body", term)
            for target in (3, 500, 511, 512, 513, 1000):
                if a.is_active():
                    a.skip_to(target)
                    b.skip_to(target)
                    assert (a.is_active(), a.is_active() and a.id()) == (
                        b.is_active(),
                        b.is_active() and b.id(),
                    )


def test_fast_path_reads_packed_positions() -> None:
    docs = _documents(1500)
    packed = _ram_index(PackedCodec(), docs)
    with packed.reader() as reader:
        m = reader.postings("body", b"suppli")
        leaf = _read_packed(m, want_values=True)
        assert leaf.counts is not None and leaf.starts is not None and leaf.positions is not None
        m = reader.postings("body", b"suppli")
        for i, (docnum, weight, value) in enumerate(_walk(m)):
            assert leaf.docs[i] == docnum and leaf.weights[i] == weight
            start, count = int(leaf.starts[i]), int(leaf.counts[i])
            assert leaf.positions[start : start + count].tolist() == (
                PackedPositions().decode_positions(value)
            )


def _phrase_answers(ix: Any) -> list[tuple[list[int], list[int]]]:
    out = []
    with ix.searcher() as searcher:
        for words in (["supply", "chain"], ["correct", "action", "plan"], ["chain", "supply"]):
            for fieldname in ("body", "title"):
                q = query.Phrase(fieldname, words)
                fast = fast_matches(FastIndex(), searcher, q, "relevance", 10_000)
                assert fast is not None
                whoosh = sorted(searcher.search(q, limit=None).docs())
                assert fast.docnums == whoosh
                out.append((fast.docnums, list(fast.top)))
    return out


def test_phrases_equal_whooshs_in_every_layout() -> None:
    """Packed blocks, W3 blocks holding packed positions (a writer of Whoosh's codec merged
    segments), and the old format (W3 blocks, pickled positions) find the same documents."""
    docs = _documents(1300)
    old_schema = build_schema()
    for name in old_schema.names():
        if type(old_schema[name].format) is PackedPositions:
            old_schema[name].format = formats.Positions(
                field_boost=old_schema[name].format.field_boost
            )
    answers = [
        _phrase_answers(_ram_index(PackedCodec(), docs)),
        _phrase_answers(_ram_index(W3Codec(), docs)),
        _phrase_answers(_ram_index(W3Codec(), docs, old_schema)),
    ]
    assert answers[0] == answers[1] == answers[2]
    assert any(found for found, _ in answers[0])


def _write_stories(content: Path, count: int) -> None:
    for n in range(count):
        story = storyfile.Story()
        story.set("Title", f"Supply chain audit {n}")
        story.set("Date", f"2024-0{1 + n % 9}-01")
        story.body = "The corrective action plans of the supply chain. " * (1 + n % 5)
        storyfile.write_story(storyfile.story_path(content, 2024, f"s{n}"), story)


def test_an_index_of_the_old_format_is_searched_then_rebuilt(tmp_path: Path) -> None:
    """An index written before packed postings answers as before; the next update rebuilds it."""
    content, index = tmp_path / "content", tmp_path / "index"
    _write_stories(content, 30)
    update_index(content, index)
    request = SearchRequest(q='"supply chain" audit')
    want = SearchService(index, cache_size=0).search(request)
    # The same stories in an index of the old layout: Whoosh's codec and pickled positions.
    old = tmp_path / "old"
    old.mkdir()
    schema = build_schema()
    for name in schema.names():
        if type(schema[name].format) is PackedPositions:
            schema[name].format = formats.Positions(field_boost=schema[name].format.field_boost)
    ix = whoosh_index.create_in(str(old), schema)
    writer = ix.writer()
    for path in sorted((content / "news").rglob("*.md")):
        doc_id = path.relative_to(content).as_posix()
        doc = story_document(storyfile.parse_story(path.read_text(encoding="utf-8")), doc_id, "h")
        assert doc is not None
        writer.add_document(**doc)
    writer.commit()
    (old / META_FILE).write_text(json.dumps({"schema_version": "2-old"}), encoding="utf-8")
    with whoosh_index.open_dir(str(old)).searcher() as searcher:
        m = searcher.reader().leaf_readers()[0][0].postings("body", b"suppli")
        assert type(m) is W3LeafMatcher
    got = SearchService(old, cache_size=0).search(request)
    assert got["total"] == want["total"] > 0
    assert [h["title"] for h in got["hits"]] == [h["title"] for h in want["hits"]]
    stats = update_index(content, old)
    assert stats.rebuilt and any("rebuilding" in w for w in stats.warnings)
    assert json.loads((old / META_FILE).read_text())["schema_version"] == schema_version()
    with whoosh_index.open_dir(str(old)).searcher() as searcher:
        assert type(searcher.schema["body"].format) is PackedPositions
        m = searcher.reader().leaf_readers()[0][0].postings("body", b"suppli")
        assert type(m) is PackedLeafMatcher
    assert SearchService(old, cache_size=0).search(request) == want


@pytest.mark.parametrize("seed", range(5))
def test_dense_merges_equal_sorted_merges(seed: int) -> None:
    """Unions and intersections through whole-segment arrays give the sorted ones' answers."""
    from csrnews.search.fastmatch import _Hits, _intersection, _union

    rng = np.random.default_rng(seed)
    size = 5000

    def hits(share: float) -> _Hits:
        docs = np.flatnonzero(rng.random(size) < share)
        return _Hits(docs, rng.random(len(docs)) * 10)

    for a, b in ((hits(0.3), hits(0.6)), (hits(0.001), hits(0.5)), (hits(0.2), hits(0.0))):
        for combine in (_union, _intersection):
            sparse, dense = combine(a, b), combine(a, b, size)
            assert dense.docs.tolist() == sparse.docs.tolist()
            assert dense.scores.tobytes() == sparse.scores.tobytes()  # bit for bit
