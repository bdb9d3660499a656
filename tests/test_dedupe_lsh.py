"""Near-duplicate search: one-permutation MinHash accuracy, LSH bands against a full scan, state."""

from __future__ import annotations

import hashlib
import itertools
import random
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from csrnews.crawler.context import CrawlContext
from csrnews.crawler.dedupe import (
    BINS,
    SignatureIndex,
    band_slices,
    jaccard,
    signature,
    similarity,
    tokens,
)
from csrnews.crawler.extraction.clean import markdown_to_text
from csrnews.crawler.run import index_existing
from csrnews.crawler.settings import SHINGLE_SIZE
from csrnews.crawler.state import CrawlState, StateError
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import make_story
from csrnews.story.storyfile import Story, write_story

THRESHOLD = 0.8


def _brute_force(
    index: SignatureIndex, sig: list[int], threshold: float
) -> tuple[str | None, float]:
    """The scan the index replaces: every stored signature, first of the best wins."""
    best, best_sim = None, 0.0
    for path, other in index.items():
        sim = similarity(sig, other)
        if sim > best_sim:
            best, best_sim = path, sim
    return (best, best_sim) if best is not None and best_sim >= threshold else (None, 0.0)


def _text(index: int) -> str:
    return markdown_to_text(make_story(index, 4242).story.body)


def _variants(rng: random.Random, text: str, other: str) -> list[str]:
    """Reprints and rewrites of `text`, from near-identical to mostly another story."""
    paras = [p for p in text.split("\n\n") if p.strip()]
    others = [p for p in other.split("\n\n") if p.strip()]
    cut = max(1, len(paras) // 2)
    return [
        "This article first appeared in The CSR Herald. " + text,
        text + "\n\nRead more CSR news on our website. Subscribe to the weekly newsletter.",
        "\n\n".join(paras[:-1]) if len(paras) > 3 else text + " Updated.",
        "\n\n".join(p for i, p in enumerate(paras) if i != rng.randrange(len(paras))),
        "\n\n".join(paras[:cut] + others[cut:]),
        "\n\n".join(others[:1] + paras[1:]),
        other,
    ]


@pytest.fixture(scope="module")
def labelled() -> tuple[list[tuple[str, str]], SignatureIndex, list[tuple[str, list[int]]]]:
    """Stored stories, and queries (each a variant of one of them) with their texts."""
    rng = random.Random(7)
    stored = {f"news/{i}.md": _text(i) for i in range(120)}
    index = SignatureIndex(((p, signature(t)) for p, t in stored.items()), threshold=THRESHOLD)
    pairs: list[tuple[str, str]] = []
    queries: list[tuple[str, list[int]]] = []
    paths = list(stored)
    for n, path in enumerate(paths[:60]):
        other = stored[paths[(n + 61) % len(paths)]]
        for variant in _variants(rng, stored[path], other):
            pairs.append((stored[path], variant))
            queries.append((path, signature(variant)))
    return pairs, index, queries


def test_the_estimate_separates_reprints_from_other_stories(labelled: tuple) -> None:
    pairs = labelled[0]
    clear_dup = clear_other = 0
    for original, variant in pairs:
        exact = jaccard(original, variant)
        estimate = similarity(signature(original), signature(variant))
        assert abs(estimate - exact) < 0.2, (exact, estimate)
        if exact >= 0.9:
            clear_dup += 1
            assert estimate >= THRESHOLD, (exact, estimate)
        elif exact <= 0.6:
            clear_other += 1
            assert estimate < THRESHOLD, (exact, estimate)
    assert clear_dup >= 100 and clear_other >= 100  # the set really has both kinds


def _old_signature(text: str) -> list[int]:
    """The 128-permutation MinHash the one-permutation scheme replaced (for reference)."""
    mersenne, size, toks = (1 << 61) - 1, SHINGLE_SIZE, tokens(text)
    runs = [toks[i : i + size] for i in range(max(1, len(toks) - size + 1))]
    values = {
        int.from_bytes(hashlib.blake2b(" ".join(run).encode(), digest_size=4).digest(), "little")
        for run in runs
    }
    out = []
    for i in range(BINS):
        digest = hashlib.sha256(f"minhash-{i}".encode()).digest()
        a, b = struct.unpack("<QQ", digest[:16])
        a, b = a % mersenne or 1, b % mersenne
        out.append(min(((a * v + b) % mersenne) & 0xFFFFFFFF for v in values))
    return out


@pytest.mark.slow
def test_pairs_near_the_threshold_are_judged_as_well_as_by_the_old_scheme(
    labelled: tuple,
) -> None:
    """Labelled by the exact Jaccard similarity: duplicate at or above THRESHOLD."""
    near = [(a, b, jaccard(a, b)) for a, b in labelled[0]]
    near = [(a, b, exact) for a, b, exact in near if 0.65 <= exact < 0.95]
    assert len(near) >= 60  # the set really has pairs on both sides of the threshold
    assert any(exact < THRESHOLD for *_, exact in near)
    assert any(exact >= THRESHOLD for *_, exact in near)
    new_wrong = old_wrong = 0
    for a, b, exact in near:
        is_dup = exact >= THRESHOLD
        new_wrong += (similarity(signature(a), signature(b)) >= THRESHOLD) != is_dup
        old_wrong += (similarity(_old_signature(a), _old_signature(b)) >= THRESHOLD) != is_dup
    assert new_wrong <= old_wrong, (new_wrong, old_wrong)
    assert new_wrong <= len(near) // 10


def test_the_index_finds_what_a_full_scan_finds(labelled: tuple) -> None:
    _, index, queries = labelled
    found = 0
    for _, sig in queries:
        assert index.best_match(sig, THRESHOLD) == _brute_force(index, sig, THRESHOLD)
        found += index.best_match(sig, THRESHOLD)[0] is not None
    assert found >= 150
    # And it compares far fewer signatures than a scan does.
    assert sum(len(index.candidates(sig)) for _, sig in queries) < len(queries) * len(index) / 10


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(st.integers(0, 2**32 - 1), min_size=BINS, max_size=BINS),
    data=st.data(),
)
def test_every_pair_at_the_threshold_shares_a_band(base: list[int], data: st.DataObject) -> None:
    """The pigeonhole: a signature differing in as many positions as the threshold allows."""
    allowed = int(BINS * (1 - THRESHOLD))  # 25 of 128 positions
    positions = data.draw(st.sets(st.integers(0, BINS - 1), max_size=allowed))
    other = list(base)
    for pos in positions:
        other[pos] = (other[pos] + 1) % 2**32
    index = SignatureIndex([("a", other)], threshold=THRESHOLD)
    assert similarity(base, other) >= THRESHOLD
    assert index.best_match(base, THRESHOLD) == ("a", similarity(base, other))


def test_bands_outnumber_the_mismatches_a_match_can_have() -> None:
    for threshold in (0.5, 0.75, 0.8, 0.9, 0.95):
        slices = band_slices(BINS, threshold)
        assert len(slices) > BINS * (1 - threshold) - 1e-9
        assert slices[0][0] == 0 and slices[-1][1] == BINS * 4
        assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))


def test_a_lower_threshold_than_the_bands_were_cut_for_scans_everything() -> None:
    rng = random.Random(3)
    base = [rng.randrange(2**32) for _ in range(BINS)]
    half = [v if i % 2 else v + 1 for i, v in enumerate(base)]  # similarity 0.5: no band shared
    index = SignatureIndex([("half", half)], threshold=THRESHOLD)
    assert index.best_match(base, THRESHOLD) == (None, 0.0)
    assert index.best_match(base, 0.5) == ("half", 0.5)


def test_replacing_and_deleting_a_signature_updates_the_buckets() -> None:
    first, second = signature(_text(1)), signature(_text(2))
    index = SignatureIndex(threshold=THRESHOLD)
    index["a"] = first
    index["b"] = first  # the same text stored twice: the first stored wins, as in a scan
    assert index.best_match(first, THRESHOLD) == ("a", 1.0)
    index["a"] = second
    assert index.best_match(first, THRESHOLD) == ("b", 1.0)
    assert index.best_match(second, THRESHOLD) == ("a", 1.0)
    del index["b"]
    assert index.best_match(first, THRESHOLD) == (None, 0.0)
    assert list(index) == ["a"] and len(index) == 1


def _write(content: Path, slug: str, body: str, url: str, also: tuple[str, ...] = ()) -> None:
    story = Story()
    story.set("Title", slug)
    story.set("Date", "2024-05-01T08:00:00+00:00")
    story.set("Source_url", url)
    if also:
        story.set_list("Also_reported_by", list(also))
    story.body = body
    write_story(content / "news" / "2024" / f"{slug}.md", story)


@contextmanager
def _opened(state_dir: Path) -> Iterator[CrawlState]:
    state = CrawlState(state_dir)
    try:
        yield state
    finally:
        state.close()


def _load(content: Path, state: CrawlState) -> CrawlContext:
    ctx = CrawlContext(content_dir=content, state=state)
    ctx.load()
    return ctx


def test_a_reprint_of_a_story_stored_in_an_earlier_run_is_found(tmp_path: Path) -> None:
    content, state_dir = tmp_path / "content", tmp_path / "state"
    bodies = [make_story(i, 99).story.body for i in range(30)]
    for i, body in enumerate(bodies):
        _write(content, f"story-{i}", body, f"https://a.example/{i}.html")
    assert index_existing(content, state_dir) == 30
    # A later run: signatures come from the state, the bands are rebuilt from them.
    with _opened(state_dir) as state:
        assert len(state.signatures()) == 30
        ctx = _load(content, state)
        reprint = "This story first appeared in the Herald.\n\n" + markdown_to_text(bodies[17])
        assert ctx.signatures.best_match(signature(reprint), ctx.duplicate_threshold)[0] == (
            "news/2024/story-17.md"
        )
        fresh = markdown_to_text(make_story(500, 99).story.body)
        assert ctx.signatures.best_match(signature(fresh), ctx.duplicate_threshold) == (None, 0.0)


def test_a_state_of_the_previous_schema_is_upgraded_once(tmp_path: Path) -> None:
    content, state_dir = tmp_path / "content", tmp_path / "state"
    body = make_story(3, 99).story.body
    _write(content, "old", body, "https://a.example/old.html")
    state_dir.mkdir()
    db = sqlite3.connect(state_dir / "crawl.sqlite3")  # the tables as the previous schema had them
    db.execute(
        "CREATE TABLE stories (key TEXT PRIMARY KEY, url TEXT, path TEXT, source TEXT, "
        "entry_hash TEXT, updated REAL)"
    )
    db.execute("CREATE TABLE signatures (path TEXT PRIMARY KEY, signature TEXT)")
    db.execute("CREATE TABLE links (path TEXT PRIMARY KEY, links TEXT)")
    db.execute(
        "INSERT INTO stories VALUES ('a.example/old.html', 'https://a.example/old.html', "
        "'news/2024/old.md', 'a', 'h1', 0)"
    )
    db.execute("INSERT INTO signatures VALUES ('news/2024/old.md', '[1, 2, 3]')")
    db.execute("""INSERT INTO links VALUES ('news/2024/old.md', '["b.example/x"]')""")
    db.commit()
    db.close()
    with _opened(state_dir) as state:
        assert state.signatures() == {}  # the 128-permutation signatures are not comparable
        # What it knew besides is kept.
        record = state.story("a.example/old.html")
        assert record is not None and record.entry_hash == "h1"
        assert state.links("news/2024/old.md") == {"b.example/x"}
    assert index_existing(content, state_dir) == 1
    for _ in range(2):  # recomputed once, and kept by the next opening
        with _opened(state_dir) as state:
            stored = state.signatures()["news/2024/old.md"]
            assert list(stored) == signature(markdown_to_text(body))


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_state_is_a_clear_error_and_left_as_it_is(tmp_path: Path, damage: str) -> None:
    state_dir = tmp_path / "state"
    with _opened(state_dir) as state:
        state.save_story("a.example/1", "https://a.example/1", "news/2024/one.md", "a", None)
    db_file = state_dir / "crawl.sqlite3"
    if damage == "garbage":
        db_file.write_bytes(b"not a database, an editor's stray file\n" * 200)
    else:
        db_file.write_bytes(db_file.read_bytes()[:100] + b"\xff" * 4000)
    before = db_file.read_bytes()
    with pytest.raises(StateError, match=r"crawl\.sqlite3: not a readable crawl state"):
        CrawlState(state_dir)
    assert db_file.read_bytes() == before


def test_a_story_file_changed_since_the_last_run_is_read_again(tmp_path: Path) -> None:
    content, state_dir = tmp_path / "content", tmp_path / "state"
    body = make_story(5, 99).story.body
    _write(content, "five", body, "https://a.example/five.html")
    with _opened(state_dir) as state:
        assert _load(content, state).owners == {"news/2024/five.md": "a.example/five.html"}
        # An editor adds a reprint URL: the next run must know it, though the file was indexed.
        _write(content, "five", body, "https://a.example/five.html", also=("https://b.example/5",))
        assert _load(content, state).lookup("b.example/5") == "news/2024/five.md"
        # A file that is gone is forgotten.
        (content / "news" / "2024" / "five.md").unlink()
        assert _load(content, state).owners == {} and state.file_index() == {}


def test_an_unchanged_story_file_is_not_read_again(tmp_path: Path) -> None:
    content, state_dir = tmp_path / "content", tmp_path / "state"
    _write(content, "six", make_story(6, 99).story.body, "https://a.example/six.html")
    with _opened(state_dir) as state:
        _load(content, state)
        ((rel, (mtime, size, owner, _)),) = state.file_index().items()
        assert owner == "a.example/six.html"
        # What the state recorded for the unchanged file is what the next run uses.
        state.update_file_index([(rel, mtime, size, "recorded.example/six", [])], set())
        assert _load(content, state).owners == {rel: "recorded.example/six"}


def test_csrnews_crawl_on_a_corrupt_state_exits_1_with_the_message(tmp_path: Path) -> None:
    from csrnews.demo.server import render_sources
    from tests.conftest import run_cli

    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "crawl.sqlite3").write_bytes(b"not a database\n" * 300)
    sources = tmp_path / "sources.yaml"
    sources.write_text(render_sources("http://127.0.0.1:9"), encoding="utf-8")
    done = run_cli(
        "crawl",
        "--sources",
        str(sources),
        "--content",
        str(tmp_path / "content"),
        "--state",
        str(state_dir),
        "--delay",
        "0",
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not a readable crawl state" in done.stderr
    assert "Traceback" not in done.stderr
