"""Search index speed-ups: the side file of stats and hashes, the fused analyzer, the writer."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from csrnews.search import SearchRequest, SearchService, update_index
from csrnews.search.analysis import MixedAnalyzer, mixed_analyzer
from csrnews.search.document import content_hash
from csrnews.search.fastwrite import tune_writer
from csrnews.search.filemap import (
    FILES_FILE,
    FileEntry,
    load_file_map,
    save_file_map,
    scan_story_files,
)
from csrnews.search.indexer import parse_story, story_document
from csrnews.search.schema import build_schema
from whoosh import index as whoosh_index

from csrnews.story.storyfile import iter_story_files, read_story, write_story
from tests.test_search_index import STORIES, _write


def _counts(stats: object) -> tuple[int, int, int, int]:
    return (stats.added, stats.updated, stats.deleted, stats.unchanged)  # type: ignore[attr-defined]


def _doc_ids(index: Path) -> list[str]:
    with whoosh_index.open_dir(str(index)).searcher() as searcher:
        return sorted(fields["id"] for fields in searcher.all_stored_fields())


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    content, index = tmp_path / "content", tmp_path / "index"
    paths = [_write(content, row) for row in STORIES]
    assert _counts(update_index(content, index)) == (len(STORIES), 0, 0, 0)
    return content, index, paths


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_touched_file_without_change_is_not_updated(built: tuple[Path, Path, list[Path]]) -> None:
    content, index, paths = built
    _touch(paths[2])
    stats = update_index(content, index)
    assert _counts(stats) == (0, 0, 0, len(STORIES))
    # the side file now has the new mtime: the next update does not even hash the file
    files = load_file_map(index, whoosh_index.open_dir(str(index)).latest_generation())
    assert files is not None
    doc_id = paths[2].relative_to(content).as_posix()
    assert files[doc_id].stat is not None
    assert files[doc_id].stat[1] == paths[2].stat().st_mtime_ns


def _trust_stats(content: Path, index: Path, *, keep_ctime: Path | None = None) -> None:
    """Save the side file as an update long after the files' last writes would (no stat
    within the racy window); ``keep_ctime`` keeps that file's ctime as the side file had it."""
    generation = whoosh_index.open_dir(str(index)).latest_generation()
    files = load_file_map(index, generation)
    assert files is not None
    trusted = {}
    for scanned in scan_story_files(content):
        stat, was = scanned.stat, files[scanned.doc_id]
        if scanned.path == keep_ctime:
            assert was.stat is not None
            stat = (*stat[:2], was.stat[2], *stat[3:])
        trusted[scanned.doc_id] = FileEntry(stat, was.digest, was.indexed)
    save_file_map(index, generation, trusted, scanned_ns=time.time_ns() + 10**10)


def test_a_rewrite_keeping_size_and_mtime_is_read_again(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    paths = [_write(content, row) for row in STORIES]
    update_index(content, index)
    _trust_stats(content, index)
    old = paths[4].stat()
    text = paths[4].read_text(encoding="utf-8")
    assert "MoU" in text
    # same size, mtime set back (as a copy keeping times does): only the ctime moves
    paths[4].write_text(text.replace("MoU", "XoU", 1), encoding="utf-8")
    os.utime(paths[4], ns=(old.st_atime_ns, old.st_mtime_ns))
    now = paths[4].stat()
    assert (now.st_size, now.st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    _trust_stats(content, index, keep_ctime=paths[4])
    assert _counts(update_index(content, index)) == (0, 1, 0, len(STORIES) - 1)


def test_stats_of_files_changed_just_before_the_scan_are_not_trusted(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    [_write(content, row) for row in STORIES]
    update_index(content, index)
    generation = whoosh_index.open_dir(str(index)).latest_generation()
    files = load_file_map(index, generation)
    assert files is not None and len(files) == len(STORIES)
    # every file was written within RACY_NS of the scan: a change in the same clock tick after
    # its stat would keep size, mtime and ctime, so the next update reads each of them again
    assert {entry.stat[2] for entry in files.values() if entry.stat} == {-1}
    # saved by a scan long after the writes, the stats are kept whole and trusted
    _trust_stats(content, index)
    scanned = {s.doc_id: s.stat for s in scan_story_files(content)}
    kept = load_file_map(index, generation)
    assert kept is not None and all(e.stat == scanned[d] for d, e in kept.items())


def test_changed_content_is_updated_once(built: tuple[Path, Path, list[Path]]) -> None:
    content, index, paths = built
    story = read_story(paths[4])
    story.body += "\n\nThe quokka clause was added."
    write_story(paths[4], story)
    assert _counts(update_index(content, index)) == (0, 1, 0, len(STORIES) - 1)
    assert _counts(update_index(content, index)) == (0, 0, 0, len(STORIES))
    hits = SearchService(index).search(SearchRequest(q="quokka"))["hits"]
    assert [hit["url"].split("/")[-2] for hit in hits] == ["textile-mou"]
    assert len(_doc_ids(index)) == len(STORIES)


def test_side_file_records_every_story_with_the_generation(
    built: tuple[Path, Path, list[Path]],
) -> None:
    content, index, paths = built
    generation = whoosh_index.open_dir(str(index)).latest_generation()
    files = load_file_map(index, generation)
    assert files is not None
    assert set(files) == {p.relative_to(content).as_posix() for p in paths}
    for path in paths:
        entry = files[path.relative_to(content).as_posix()]
        assert entry.indexed and entry.digest == content_hash(path)
        assert entry.stat is not None and entry.stat[:2] == (
            path.stat().st_size,
            path.stat().st_mtime_ns,
        )
    assert load_file_map(index, generation + 1) is None  # only valid for its own generation


@pytest.mark.parametrize("damage", ["missing", "corrupt", "stale"])
def test_without_a_valid_side_file_the_stored_hashes_are_used(
    built: tuple[Path, Path, list[Path]], damage: str
) -> None:
    content, index, paths = built
    side = index / FILES_FILE
    saved = side.read_text(encoding="utf-8")
    story = read_story(paths[0])
    story.body += "\n\nA walrus appears."
    write_story(paths[0], story)
    if damage == "stale":
        # another commit (here: an update) happened since; put the older side file back
        assert update_index(content, index).updated == 1
        side.write_text(saved, encoding="utf-8")
        story.body += "\n\nAnd a narwhal."
        write_story(paths[0], story)
    elif damage == "missing":
        side.unlink()
    else:
        side.write_text(saved[: len(saved) // 2], encoding="utf-8")
    _touch(paths[1])  # touched only: the stored hash says it is the same
    stats = update_index(content, index)
    assert _counts(stats) == (0, 1, 0, len(STORIES) - 1)
    assert len(_doc_ids(index)) == len(STORIES)  # no duplicates from a stale map
    assert json.loads(side.read_text(encoding="utf-8"))["files"]  # rewritten, valid again
    word = "narwhal" if damage == "stale" else "walrus"
    assert SearchService(index).search(SearchRequest(q=word))["total"] == 1


def test_sidecar_change_updates_and_hidden_stories_come_and_go(
    built: tuple[Path, Path, list[Path]],
) -> None:
    content, index, paths = built
    sidecar = paths[3].with_name(paths[3].stem + ".fulltext.txt")
    sidecar.write_text("The full text speaks of an okapi.\r\nSecond line.", encoding="utf-8")
    assert _counts(update_index(content, index)) == (0, 1, 0, len(STORIES) - 1)
    service = SearchService(index)
    assert service.search(SearchRequest(q="okapi"))["total"] == 1
    with whoosh_index.open_dir(str(index)).searcher() as searcher:
        body = searcher.document(id=paths[3].relative_to(content).as_posix())["body"]
    assert body == "The full text speaks of an okapi.\nSecond line."  # as read_text() gives

    hidden = read_story(paths[5])
    hidden.set("Status", "hidden")
    write_story(paths[5], hidden)
    assert _counts(update_index(content, index)) == (0, 0, 1, len(STORIES) - 1)
    _touch(paths[5])
    assert _counts(update_index(content, index)) == (0, 0, 0, len(STORIES) - 1)
    hidden.set("Status", "published")
    write_story(paths[5], hidden)
    assert _counts(update_index(content, index)) == (1, 0, 0, len(STORIES) - 1)
    paths[2].unlink()
    assert _counts(update_index(content, index)) == (0, 0, 1, len(STORIES) - 1)
    assert len(_doc_ids(index)) == len(STORIES) - 1


def test_scan_finds_the_files_iter_story_files_finds(tmp_path: Path) -> None:
    content = tmp_path / "content"
    paths = [_write(content, row) for row in STORIES]
    (paths[0].parent / ".hidden-temp.md").write_text("Title: x\n\nx", encoding="utf-8")
    deep = content / "news" / "2018" / "sub" / ".dir"
    deep.mkdir(parents=True)
    (deep / "deep.md").write_text("Title: deep\n\nbody", encoding="utf-8")
    paths[1].with_name(paths[1].stem + ".fulltext.txt").write_text("full", encoding="utf-8")
    scanned = scan_story_files(content)
    # a hidden folder is skipped, as Pelican (IGNORE_FILES ".*") and the story checks skip it
    assert [s.path for s in scanned] == sorted(paths)
    assert [s.path for s in scanned] == sorted(iter_story_files(content))
    assert [s.doc_id for s in scanned] == sorted(
        p.relative_to(content).as_posix() for p in iter_story_files(content)
    )
    with_sidecar = [s.path for s in scanned if s.sidecar is not None]
    assert with_sidecar == [paths[1]]


ANALYSER_SAMPLES = [
    "MIIT issues SJ/T 11728-2018 on responsible minerals; ISO26000 and ISO 26000.",
    "The a an of: the Supply-Chain forum, 2019's wages were < the minimum & falling.",
    "第七届中国企业社会责任年会在北京召开。与会代表讨论了电子信息行业社会责任指南的实施情况",
    "the 企业 and 社 a中b İstanbul ΟΔΟΣ'Β naïve x² ½ Ⅻ _under_score_ CO2e 3M",
    "",
    "the",
    "   \n\t",
]


@pytest.mark.parametrize("stem", [True, False])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"positions": True},
        {"chars": True},
        {"positions": True, "chars": True, "start_pos": 4, "start_char": 9},
        {"positions": True, "no_morph": True},
        {"positions": True, "chars": True, "removestops": False},
        {"keeporiginal": True, "positions": True},
        {"mode": "query", "tokenize": False},
    ],
)
def test_fused_analyzer_gives_the_tokens_of_the_filter_chain(
    stem: bool, kwargs: dict[str, object]
) -> None:
    fast = mixed_analyzer(stem=stem)
    reference = MixedAnalyzer(stem=stem).reference()
    assert fast.has_morph() is stem and reference.has_morph() is stem
    for text in ANALYSER_SAMPLES * 2:  # twice: the second pass may use the last-value memo
        got = [dict(vars(token)) for token in fast(text, **kwargs)]
        want = [dict(vars(token)) for token in reference(text, **kwargs)]
        assert got == want, (text, kwargs)


def _postings(reader: object, field: str, term: bytes) -> list[tuple[int, float, bytes]]:
    matcher = reader.postings(field, term)  # type: ignore[attr-defined]
    found = []
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return found


def test_tuned_writer_gives_the_same_words_and_suggestions(tmp_path: Path) -> None:
    content = tmp_path / "content"
    paths = [_write(content, row) for row in STORIES]
    indexes = {}
    for name in ("plain", "tuned"):
        folder = tmp_path / name
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), build_schema())
        writer = ix.writer()
        if name == "tuned":
            tune_writer(writer)
        for path in paths:
            doc_id = path.relative_to(content).as_posix()
            story = parse_story(path.read_text(encoding="utf-8"), path=path)
            doc = story_document(story, doc_id, content_hash(path))
            assert doc is not None
            writer.add_document(**doc)
        writer.commit()
        indexes[name] = ix
    with indexes["plain"].reader() as plain, indexes["tuned"].reader() as tuned:
        assert set(plain.indexed_field_names()) == set(tuned.indexed_field_names())
        for field in plain.indexed_field_names():
            assert list(plain.lexicon(field)) == list(tuned.lexicon(field)), field
            if field.startswith("spell_"):
                continue
            for term in plain.lexicon(field):
                assert _postings(plain, field, term) == _postings(tuned, field, term)
        for field in ("title", "summary", "body"):
            assert [plain.doc_field_length(n, field) for n in range(len(paths))] == [
                tuned.doc_field_length(n, field) for n in range(len(paths))
            ]
    suggestions = {}
    for name, ix in indexes.items():
        with ix.searcher() as searcher:
            corrector = searcher.corrector("body")
            suggestions[name] = [
                corrector.suggest(word, limit=3) for word in ("suply", "memorandom", "wagse")
            ]
    assert suggestions["tuned"] == suggestions["plain"]
    assert "supply" in suggestions["tuned"][0] and suggestions["tuned"][1] == ["memorandum"]


def test_a_second_update_without_changes_is_cheap(built: tuple[Path, Path, list[Path]]) -> None:
    content, index, _ = built
    _trust_stats(content, index)  # else the files just written are read again (racy)
    side = index / FILES_FILE
    before = side.stat().st_mtime_ns
    time.sleep(0.01)
    assert _counts(update_index(content, index)) == (0, 0, 0, len(STORIES))
    assert side.stat().st_mtime_ns == before  # nothing changed: the side file is not rewritten


def test_a_story_file_removed_during_the_update_is_left_out(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    paths = [_write(content, row) for row in STORIES]
    last = max(paths, key=lambda p: p.relative_to(content).as_posix())

    def remove_the_last(done: int, total: int) -> None:
        if done == 1:
            last.unlink()

    stats = update_index(content, index, progress=remove_the_last)
    assert _counts(stats) == (len(STORIES) - 1, 0, 0, 0)
    assert last.relative_to(content).as_posix() not in _doc_ids(index)
    assert _counts(update_index(content, index)) == (0, 0, 0, len(STORIES) - 1)


def test_a_story_file_that_is_not_utf8_is_left_out_until_fixed(
    built: tuple[Path, Path, list[Path]],
) -> None:
    """Quarantine: the site build leaves such a file out, and so does the index."""
    content, index, paths = built
    good = paths[1].read_bytes()
    paths[1].write_bytes(good + b"\n\xff\xfe broken\n")
    stats = update_index(content, index)
    assert _counts(stats) == (0, 0, 1, len(STORIES) - 1)
    assert any("not UTF-8" in warning for warning in stats.warnings)
    assert [q["path"] for q in stats.quarantined] == [paths[1].relative_to(content).as_posix()]
    assert len(_doc_ids(index)) == len(STORIES) - 1
    # still unreadable: left out again, nothing else changes
    assert _counts(update_index(content, index)) == (0, 0, 0, len(STORIES) - 1)
    paths[1].write_bytes(good + b"\nThe pangolin paragraph.\n")
    assert _counts(update_index(content, index)) == (1, 0, 0, len(STORIES) - 1)
    assert len(_doc_ids(index)) == len(STORIES)  # back, once
    assert SearchService(index).search(SearchRequest(q="pangolin"))["total"] == 1
