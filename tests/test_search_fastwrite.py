"""The index written through fastwrite's memory pool is Whoosh's own, byte for byte."""

from __future__ import annotations

import os
import random
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from csrnews.search import document
from csrnews.search.codec import packed_codec
from csrnews.search.document import content_hash
from csrnews.search.fastwrite import MemoryPostingPool, _position_postings, tune_writer
from csrnews.search.indexer import story_document, update_index
from csrnews.search.schema import build_schema
from whoosh import index as whoosh_index
from whoosh.fields import UnknownFieldError
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage

from bench.corpus import generate_corpus
from csrnews.story.storyfile import parse_story, read_story, write_story


def _whoosh_writer(ix: Any) -> Any:
    """Whoosh's writer with its own sorted pool (small, so that it writes temporary runs).

    Only the spelling words are posted once, as csrnews has done before this pool
    (tests/test_search_index_incremental.py checks that against Whoosh left alone).
    """
    writer = ix.writer(limitmb=1, codec=packed_codec())  # the index's own block format
    spelling = {"spell_title", "spell_body"}
    pool_add = writer.pool.add
    posted: set[tuple[str, bytes]] = set()

    def add(item: tuple[Any, ...]) -> None:
        if item[0] in spelling:
            if (item[0], item[1]) in posted:
                return
            posted.add((item[0], item[1]))
        pool_add(item)

    writer.pool.add = add
    return writer


def _segment_files(folder: Path) -> dict[str, bytes]:
    """Every file inside the index's compound segments, by segment order and extension."""
    storage = FileStorage(str(folder))
    ix = whoosh_index.open_dir(str(folder))
    found = {}
    for number, segment in enumerate(ix._segments()):
        compound = CompoundStorage(storage.open_file(segment.make_filename(".seg")))
        for name in compound.list():
            extension = name.split(".", 1)[1]
            found[f"{number}{extension}"] = compound.open_file(name).read()
        compound.close()
    ix.close()
    return found


def _documents(content: Path) -> list[dict[str, object]]:
    docs = []
    for path in sorted((content / "news").rglob("*.md")):
        story = parse_story(path.read_text(encoding="utf-8"), path=path)
        doc = story_document(story, path.relative_to(content).as_posix(), content_hash(path))
        if doc is not None:
            docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    content = tmp_path_factory.mktemp("fastwrite") / "content"
    generate_corpus(content, 240)
    return _documents(content)


def _note_runs(pool: MemoryPostingPool, spilled: list[int]) -> None:
    """Append to ``spilled`` how often the pool spilled a run, when it is cleaned up (flushed)."""
    cleanup = pool.cleanup

    def note_and_clean() -> None:
        spilled.append(pool.spills)
        cleanup()

    pool.cleanup = note_and_clean


def _build(
    folder: Path, docs: list[dict[str, object]], tuned: bool, limitmb: float = 128, runs: int = 0
) -> dict[str, bytes]:
    """Three commits, with updates and deletes; the last merges all segments into one.

    The tuned writers spill at least ``runs`` runs to temporary files in each commit (16 runs
    are merged into one).
    """
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), build_schema())
    batches = [docs[:150], docs[150:200], docs[200:]]
    for number, batch in enumerate(batches):
        if tuned:
            writer = tune_writer(ix.writer(limitmb=limitmb, codec=packed_codec()))
        else:
            writer = _whoosh_writer(ix)
        for doc in batch:
            writer.add_document(**doc)
        if number:
            changed = dict(docs[number * 7])
            changed["body"] = f"{changed['body']} A later paragraph on wages, twice: wages."
            writer.update_document(**changed)
            writer.delete_by_term("id", str(docs[number * 11 + 1]["id"]))
        spilled: list[int] = []
        if tuned:
            _note_runs(writer.pool, spilled)
        writer.commit(optimize=number == len(batches) - 1)  # the last merges every segment
        if tuned:
            assert min(spilled) >= runs, spilled
    return _segment_files(folder)


def test_the_memory_pool_writes_whooshs_segments(
    tmp_path: Path, corpus: list[dict[str, object]]
) -> None:
    whoosh = _build(tmp_path / "whoosh", corpus, tuned=False)
    tuned = _build(tmp_path / "tuned", corpus, tuned=True)
    assert sorted(whoosh) == sorted(tuned)
    assert {name[0] for name in whoosh} == {"0"}  # merged: the old postings went through the pool
    assert any(name.endswith("pst") for name in whoosh)
    for name, data in whoosh.items():
        assert tuned[name] == data, name  # terms, postings, stored fields, lengths, columns


def test_past_its_limit_the_pool_spills_runs_and_still_writes_whooshs_segments(
    tmp_path: Path, corpus: list[dict[str, object]]
) -> None:
    whoosh = _build(tmp_path / "whoosh", corpus, tuned=False)
    tuned = _build(tmp_path / "tuned", corpus, tuned=True, limitmb=0.1, runs=3)  # 17, 5, 17
    assert sorted(whoosh) == sorted(tuned)
    for name, data in whoosh.items():
        assert tuned[name] == data, name
    assert not list((tmp_path / "tuned").glob("*.tmp"))  # the runs' folder is gone


def test_update_index_writes_whooshs_segment(tmp_path: Path) -> None:
    content = tmp_path / "content"
    generate_corpus(content, 120)
    update_index(content, tmp_path / "ours")
    folder = tmp_path / "whoosh"
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = _whoosh_writer(ix)
    by_id = {str(doc["id"]): doc for doc in _documents(content)}
    for doc_id in sorted(by_id):  # update_index adds the stories in the order of their ids
        writer.add_document(**by_id[doc_id])
    writer.commit()
    assert _segment_files(tmp_path / "ours") == _segment_files(folder)


def test_out_of_order_documents_are_sorted() -> None:
    pool = MemoryPostingPool()
    pool.add_terms("body", 5, [b"b", b"a"], [1.0, 2.0], [b"x", b""])
    pool.add_terms("body", 2, [b"a"], [3.0], [b"yz"])
    pool.add(("body", b"a", 9, 4.0, None))
    assert list(pool.iter_postings()) == [
        ("body", b"a", 2, 3.0, b"yz"),
        ("body", b"a", 5, 2.0, b""),
        ("body", b"a", 9, 4.0, b""),
        ("body", b"b", 5, 1.0, b"x"),
    ]


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "whoosh-positions"])
@pytest.mark.parametrize("name", ["title", "body"])
def test_text_postings_in_one_pass_are_the_fields_own(
    name: str, packed: bool, corpus: list[dict[str, object]]
) -> None:
    from csrnews.search.codec import PackedPositions
    from csrnews.search.fastwrite import _fast_text
    from whoosh.formats import Positions

    field = build_schema()[name]
    assert type(field.format) is PackedPositions  # the schema's own (search/codec.py)
    if not packed:  # Whoosh's format, as an index of an older schema has it
        field.format = Positions(field_boost=field.format.field_boost)
    assert _fast_text(field)
    samples = [str(doc[name]) for doc in corpus[:40]]
    samples += [
        "",
        "the of and",
        "ISO26000 and ISO 26000 audits, audits",
        "供应链 企业社会责任 供应",
    ]
    for value in samples:
        items = list(field.index(value))
        terms, weights, values, length = _position_postings(field, value)
        assert terms == [item[0] for item in items]
        assert weights == [item[2] for item in items]
        assert values == [item[3] for item in items]
        assert length == sum(item[1] for item in items)


_TRICKY_TEXTS = [
    "",
    "the of and",
    "ISO26000 and ISO 26000 audits, audits; Audit AUDITS reports report reported",
    "供应链 企业社会责任 供应",
    "İstanbul ΟΔΟΣ'Β Straße naïve café CAFÉ 2018年 ISO-9001:2015",
]


@pytest.mark.parametrize("name", ["title", "summary", "body", "standards"])
def test_text_postings_from_one_analysis_are_the_fields_own(
    name: str, corpus: list[dict[str, object]]
) -> None:
    from csrnews.search.fastwrite import _TextPostings

    field = build_schema()[name]
    samples = [str(doc[name]) for doc in corpus[:40]] + _TRICKY_TEXTS
    for value in samples:
        items = list(field.index(value))  # Whoosh's own, terms in the order they first come
        text = _TextPostings(field, value)
        ends = [0, *text.ends]
        got = {
            term.encode("utf-8"): (weight, text.values[ends[n] : ends[n + 1]])
            for n, (term, weight) in enumerate(zip(text.terms, text.weights, strict=True))
        }
        assert got == {item[0]: (item[2], item[3]) for item in items}, value
        assert text.length == sum(item[1] for item in items)
        assert text.last == (items[-1][3] if items else b"")
        if field.separate_spelling():
            assert sorted(text.words) == sorted(set(field.spellable_words(value)))


def test_ascii_text_is_split_as_the_tokenizer_splits_it() -> None:
    from csrnews.search.analysis import _lowered_pieces, _raw_pieces

    rng = random.Random(23)
    alphabet = [chr(c) for c in range(128)] + list("aeiouAEIOU0123     ")
    samples = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 600))) for _ in range(3000)
    ]
    samples += ["Supply chains " * 30, "ISO26000 audit " * 20, "2018 report " * 30]
    for value in samples:
        assert _lowered_pieces(value) == [piece.lower() for piece in _raw_pieces(value)]


def test_other_fields_are_analysed_once_per_value_with_the_same_postings() -> None:
    from datetime import datetime, timedelta

    from csrnews.search.fastwrite import _IndexedValues

    schema = build_schema()
    indexed = _IndexedValues()
    values = {
        "category": ["csr-report", "award", "csr-report"],
        "tags": ["Supply chain,Audit", "Supply chain,Audit", ""],
        "year": [2018, 2019, 2018],
        "date": [datetime(2018, 6, 1, 9, 30), datetime(2018, 6, 1, 9, 30)],
    }
    for name, samples in values.items():
        for value in samples * 3:
            assert indexed(name, schema[name], value) == _IndexedValues.index(schema[name], value)
    rng = random.Random(23)
    for _ in range(2000):  # numbers and dates: every shift's term made from one sortable form
        when = datetime(1970, 1, 1) + timedelta(seconds=rng.randint(-(10**10), 10**10))
        year = rng.randint(-(2**31), 2**31 - 1)
        for name, value in (("date", when), ("year", year), ("year", rng.randint(0, 3000))):
            assert _IndexedValues.index(schema[name], value) == (
                [item[0] for item in schema[name].index(value)],
                [1.0] * (len(terms := list(schema[name].index(value)))),
                [b""] * len(terms),
                len(terms),
                b"",
            )
    for n in range(_IndexedValues.TRIAL + 5):  # values that never repeat: not remembered
        expected = ([f"news/{n}".encode()], [1.0], [b""], 1, b"")
        assert indexed("id", schema["id"], f"news/{n}") == expected
    assert "id" in indexed._alone


def test_the_faster_markdown_marks_match_the_plain_pattern(
    corpus: list[dict[str, object]],
) -> None:
    plain = re.compile(document._MD_MARK, re.MULTILINE)
    rng = random.Random(20)
    alphabet = " \t\n\r#>*_`-+|.0123456789ab\u3000\u0661\u00a0"
    samples = [str(doc["body"]) for doc in corpus]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20000)
    ]
    for text in samples:
        assert document._MD_MARK_RE.sub(" ", text) == plain.sub(" ", text), repr(text)


def test_an_edit_of_the_same_size_is_noticed(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    path = generate_corpus(content, 3)[1]
    update_index(content, index)
    story = read_story(path)
    size = path.stat().st_size
    title = story.title[:-1] + ("x" if story.title[-1] != "x" else "y")
    story.set("Title", title)
    write_story(path, story)
    stat = path.stat()
    assert stat.st_size == size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    stats = update_index(content, index)
    assert (stats.updated, stats.unchanged) == (1, 2)
    with whoosh_index.open_dir(str(index)).searcher() as searcher:
        titles = {fields["title"] for fields in searcher.all_stored_fields()}
    assert title in titles


def _fill(pool: MemoryPostingPool, documents: int) -> None:
    """Postings of ``documents`` documents of two fields, 60 words of 4,000 each."""
    rng = random.Random(20)
    words = [f"word{n}".encode() for n in range(4000)]
    for docnum in range(documents):
        for fieldname in ("body", "title"):
            terms = rng.sample(words, 60)
            values = [rng.randbytes(rng.randint(0, 12)) for _ in terms]
            pool.add_terms(fieldname, docnum, terms, [float(len(v)) for v in values], values)


def _checksum(pool: MemoryPostingPool) -> int:
    """A checksum of the postings the pool gives, in their order."""
    checksum = 0
    for posting in pool.iter_postings():
        checksum = hash((checksum, posting))
    return checksum


def _peak_of_filling(pool: MemoryPostingPool, documents: int) -> int:
    """The peak traced bytes while the pool fills."""
    tracemalloc.start()
    try:
        _fill(pool, documents)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_of_filling_and_reading(pool: MemoryPostingPool, documents: int) -> tuple[int, int]:
    """(peak traced bytes while the pool fills and is read back, a checksum of the postings)."""
    tracemalloc.start()
    try:
        _fill(pool, documents)
        checksum = _checksum(pool)
        return tracemalloc.get_traced_memory()[1], checksum
    finally:
        tracemalloc.stop()
        pool.cleanup()


def test_the_pool_past_its_limit_stays_within_it(tmp_path: Path) -> None:
    tempstore = FileStorage(str(tmp_path)).temp_storage("runs.tmp")
    limit = 1 << 18
    # The unbounded pool's figure is what it holds once filled (a lower bound of its peak when
    # read back as well, which is left untraced: tracing makes it 20 times slower).
    whole = MemoryPostingPool()
    unbounded = _peak_of_filling(whole, 1200)
    expected = _checksum(whole)
    whole.cleanup()
    pool = MemoryPostingPool(limit=limit, tempstore=tempstore)
    bounded, checksum = _peak_of_filling_and_reading(pool, 1200)
    assert pool.spills > 16  # and 16 runs were merged into one
    assert checksum == expected  # the same postings in the same order
    assert unbounded > 12 * limit  # 144,000 postings: about 5 MB held
    assert bounded < 4.5 * limit  # a run, its sorting, chunks of 8,192 postings (about 0.9 MB)
    assert not tempstore.list()  # the runs were deleted


def test_a_dynamic_field_goes_through_whooshs_own_method(tmp_path: Path) -> None:
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import QueryParser

    schema = Schema(id=ID(stored=True))
    schema.add("*_note", TEXT(stored=True), glob=True)  # not one of the tuned writer's fields
    ix = whoosh_index.create_in(str(tmp_path), schema)
    writer = tune_writer(ix.writer(codec=packed_codec()))
    writer.add_document(id="a", first_note="wages paid late")
    writer.add_document(id="b")
    with pytest.raises(UnknownFieldError):
        writer.add_document(id="c", other="x")
    writer.commit()
    with ix.searcher() as searcher:
        found = searcher.search(QueryParser("first_note", ix.schema).parse("wages"))
        assert [hit["id"] for hit in found] == ["a"]
        assert searcher.doc_count() == 2
