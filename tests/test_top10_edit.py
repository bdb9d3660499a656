"""add/move/remove keep the editor's comments, key order and bytes outside the changed entries."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csrnews.top10 import Top10Error
from csrnews.top10.edit import ListEditor
from csrnews.top10.io import read_list

FIXTURE = Path(__file__).parent / "fixtures" / "top10" / "content" / "top10" / "2018.yaml"
ORIGINAL = FIXTURE.read_text(encoding="utf-8")

# The fixture's parts, as the editor wrote them.
HEAD = ORIGINAL[: ORIGINAL.index("  # Agreed unanimously.")]
E1 = ORIGINAL[ORIGINAL.index("  # Agreed unanimously.") : ORIGINAL.index("  - rank: 2")]
E2 = ORIGINAL[ORIGINAL.index("  - rank: 2") : ORIGINAL.index("  - rank: 3")]
E3 = ORIGINAL[ORIGINAL.index("  - rank: 3") : ORIGINAL.index("# Panel members")]
TAIL = ORIGINAL[ORIGINAL.index("# Panel members") :]


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    target = tmp_path / "2018.yaml"
    shutil.copy(FIXTURE, target)
    return target


def _rerank(block: str, rank: int) -> str:
    return re.sub(r"- rank: \d+", f"- rank: {rank}", block, count=1)


def _block(block: str) -> str:
    """An entry without its trailing blank line (blank lines belong to positions)."""
    return block.rstrip("\n") + "\n"


def test_the_parts_cover_the_file() -> None:
    assert HEAD + E1 + E2 + E3 + TAIL == ORIGINAL


def test_move_keeps_every_byte_but_the_ranks(path: Path) -> None:
    ListEditor(path).move(1, 3)
    expected = HEAD + _rerank(E2, 1) + _rerank(_block(E3), 2) + "\n" + _rerank(_block(E1), 3) + TAIL
    assert path.read_text(encoding="utf-8") == expected
    assert "  # Agreed unanimously.\n  - rank: 3\n" in expected  # the comment moved with it
    assert "# check the MEE press release" in expected


def test_move_there_and_back_is_byte_for_byte(path: Path) -> None:
    ListEditor(path).move(3, 1)
    ListEditor(path).move(1, 3)
    assert path.read_text(encoding="utf-8") == ORIGINAL


def test_remove_shifts_up_and_keeps_the_rest(path: Path) -> None:
    headline, _ = ListEditor(path).remove(2)
    assert headline == "Dyeing mills need discharge permits"
    assert path.read_text(encoding="utf-8") == HEAD + E1 + _rerank(E3, 2) + TAIL


def test_add_shifts_down_and_keeps_the_rest(path: Path) -> None:
    ListEditor(path).add(
        {
            "headline": "Shenzhen forum: join up audits",
            "stories": ["shenzhen-forum"],
            "reason": "Audit fatigue.",
        },
        2,
    )
    new = (
        "  - rank: 2\n    headline: 'Shenzhen forum: join up audits'\n"
        "    stories: [shenzhen-forum]\n    reason: Audit fatigue.\n\n"
    )
    text = path.read_text(encoding="utf-8")
    assert text == HEAD + E1 + new + _rerank(E2, 3) + _rerank(E3, 4) + TAIL
    entries = read_list(path).entries
    assert [(e.rank, e.headline) for e in entries][1] == (2, "Shenzhen forum: join up audits")


def test_add_last_by_default_and_remove_again(path: Path) -> None:
    editor = ListEditor(path)
    editor.add({"headline": "Fourth", "url": "https://example.org/4", "reason": "R."})
    assert [e.rank for e in read_list(path).entries] == [1, 2, 3, 4]
    ListEditor(path).remove(4)
    assert path.read_text(encoding="utf-8") == ORIGINAL


def test_remove_all_then_add_into_empty_list(path: Path) -> None:
    for _ in range(3):
        ListEditor(path).remove(1)
    text = path.read_text(encoding="utf-8")
    assert "entries: []\n# Panel members: see the minutes.\nregion: China\n" in text
    assert text.startswith(HEAD.rstrip("\n").removesuffix("entries:"))
    ListEditor(path).add({"headline": "Only", "url": "https://example.org/", "reason": "R."})
    lst = read_list(path)
    assert [(e.rank, e.headline) for e in lst.entries] == [(1, "Only")]
    assert lst.region == "China" and "# Panel members" in path.read_text(encoding="utf-8")


def test_add_into_new_list_with_flow_empty_entries(tmp_path: Path) -> None:
    path = tmp_path / "2019.yaml"
    path.write_text(
        "year: 2019  # the year\ntitle: T\nstatus: draft\nentries: []  # none yet\n",
        encoding="utf-8",
    )
    ListEditor(path).add({"headline": "H", "url": "https://example.org/", "reason": "R."})
    assert path.read_text(encoding="utf-8") == (
        "year: 2019  # the year\ntitle: T\nstatus: draft\nentries:  # none yet\n"
        "  - rank: 1\n    headline: H\n    url: https://example.org/\n    reason: R.\n"
    )


def test_other_indentation_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "2018.yaml"
    text = (
        "year: 2018\ntitle: T\nentries:\n- rank: 1\n  headline: A\n  url: https://a.org/\n"
        "- rank: 2\n  headline: B\n  url: https://b.org/\n"
    )
    path.write_text(text, encoding="utf-8")
    ListEditor(path).add({"headline": "C", "url": "https://c.org/"}, 1)
    assert path.read_text(encoding="utf-8") == (
        "year: 2018\ntitle: T\nentries:\n- rank: 1\n  headline: C\n  url: https://c.org/\n"
        "- rank: 2\n  headline: A\n  url: https://a.org/\n"
        "- rank: 3\n  headline: B\n  url: https://b.org/\n"
    )


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda e: e.move(1, 4), "rank 4 is outside 1..3"),
        (lambda e: e.remove(0), "rank 0 is outside 1..3"),
        (lambda e: e.add({"headline": "X", "url": "https://x.org/"}, 0), "rank 0 is outside 1..4"),
        (lambda e: e.add({"headline": "X", "url": "https://x.org/"}, 5), "rank 5 is outside 1..4"),
    ],
)
def test_out_of_range_ranks_are_refused(path: Path, action, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Top10Error, match=re.escape(message)):
        action(ListEditor(path))
    assert path.read_text(encoding="utf-8") == ORIGINAL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2018\ntitle: T\n", ":1: missing entries"),
        ("year: 2018\ntitle: T\nentries: {a: 1}\n", ":3: entries must be a list"),
        (
            "year: 2018\ntitle: T\nentries: [{rank: 1, headline: A, url: 'https://a.org/'}]\n",
            ":3: entries are written in [flow style]",
        ),
    ],
)
def test_unusable_entries_stop_the_edit(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "2018.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Top10Error, match=re.escape(message)):
        ListEditor(path).add({"headline": "X", "url": "https://x.org/"})
    assert path.read_text(encoding="utf-8") == text


def test_a_full_list_refuses_another_entry(path: Path) -> None:
    path.write_text(ORIGINAL.replace("region: China", "max_entries: 3"), encoding="utf-8")
    with pytest.raises(Top10Error, match="already has 3 entries"):
        ListEditor(path).add({"headline": "X", "url": "https://x.org/"})


def test_broken_ranks_stop_the_edit(path: Path) -> None:
    path.write_text(ORIGINAL.replace("  - rank: 3", "  - rank: 2"), encoding="utf-8")
    with pytest.raises(Top10Error, match=r"2018\.yaml:27: .*rank 2 is used twice"):
        ListEditor(path)


def test_syntax_error_stops_the_edit(path: Path) -> None:
    path.write_text(ORIGINAL.replace("headline: ISO", "headline: [ISO"), encoding="utf-8")
    with pytest.raises(Top10Error, match=r"2018\.yaml:\d+: YAML syntax error"):
        ListEditor(path)


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["move", "remove", "add"]), st.integers(1, 4), st.integers(1, 4)),
        max_size=6,
    )
)
def test_edits_never_lose_an_entry_or_a_comment(
    tmp_path: Path, ops: list[tuple[str, int, int]]
) -> None:
    path = tmp_path / "2018.yaml"
    path.write_text(ORIGINAL, encoding="utf-8")
    model = [
        "MIIT issues an electronics CSR standard",
        "Dyeing mills need discharge permits",
        "ISO 45001 is published",
    ]
    added = 0
    for op, a, b in ops:
        editor = ListEditor(path)
        if op == "move" and a <= len(model) and b <= len(model):
            editor.move(a, b)
            model.insert(b - 1, model.pop(a - 1))
        elif op == "remove" and a <= len(model):
            editor.remove(a)
            model.pop(a - 1)
        elif op == "add" and a <= len(model) + 1:
            added += 1
            editor.add({"headline": f"Added {added}", "url": "https://example.org/"}, a)
            model.insert(a - 1, f"Added {added}")
    lst = read_list(path)
    assert [(e.rank, e.headline) for e in lst.entries] == list(enumerate(model, start=1))
    text = path.read_text(encoding="utf-8")
    for comment in (
        "# Top 10 CSR Events of 2018 (test fixture)",
        "# draft | published",
        "# Panel members: see the minutes.",
    ):
        assert comment in text
    # A comment directly above an entry lives and goes with that entry.
    kept = "MIIT issues an electronics CSR standard" in model
    assert text.count("# Agreed unanimously.") == (1 if kept else 0)
