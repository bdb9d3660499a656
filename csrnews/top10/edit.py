"""Edit a list file in place: add, move, remove entries, keeping every other byte as it was.

The file is parsed with ruamel.yaml for structure and line numbers; the edit then splices the
text itself, so comments, key order, quoting and blank lines outside the changed entries stay
byte-for-byte. A comment directly above an entry (at the entry's indent or less) travels with
it. The result is parsed again and must hold exactly the expected entries before it is written
atomically; otherwise the file is left alone.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from csrnews.story.storyfile import write_text_atomic
from csrnews.top10.io import build_list, key_line, parse_yaml, yaml_rt
from csrnews.top10.model import STATUSES, Problem, Top10Error, Top10List
from csrnews.top10.validate import check_ranks

logger = logging.getLogger(__name__)

_EMPTY_FLOW_RE = re.compile(r"^(entries:)\s*\[\s*\]\s*(#.*)?$")


@dataclass
class _Layout:
    prefix: list[str]
    blocks: list[list[str]]  # each entry's lines, without trailing blank lines
    gaps: list[list[str]]  # blank lines after each block (position-based)
    suffix: list[str]
    dash_col: int
    key_col: int


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _layout(lines: list[str], data: CommentedMap, path: Path) -> _Layout:
    seq = data["entries"]
    keys = list(data.keys())
    after = keys[keys.index("entries") + 1 :]
    end = min((data.lc.key(k)[0] for k in after), default=len(lines))
    # Blank lines and top-level comments before the next key belong to that key.
    while end > 0 and (
        not lines[end - 1].strip() or (_is_comment(lines[end - 1]) and _indent(lines[end - 1]) == 0)
    ):
        end -= 1
    starts: list[int] = []
    dash_col = key_col = -1
    for item in seq:
        if not isinstance(item, CommentedMap):
            raise Top10Error(
                Problem(
                    path, item_line(seq, len(starts)), "entries must be mappings to edit the list"
                )
            )
        line = item.lc.line
        while line > 0 and not lines[line].lstrip().startswith("-"):
            line -= 1
        if dash_col < 0:
            dash_col = _indent(lines[line])
            key_col = item.lc.col
        start = line
        while (
            start > 0
            and _is_comment(lines[start - 1])
            and (_indent(lines[start - 1]) <= dash_col)
            and (not starts or start - 1 > starts[-1])
        ):
            start -= 1
        starts.append(start)
    blocks: list[list[str]] = []
    gaps: list[list[str]] = []
    bounds = [*starts, end]
    for i, start in enumerate(starts):
        block = lines[start : bounds[i + 1]]
        gap: list[str] = []
        while block and not block[-1].strip():
            gap.insert(0, block.pop())
        blocks.append(block)
        gaps.append(gap)
    return _Layout(
        lines[: starts[0]] if starts else lines[:end], blocks, gaps, lines[end:], dash_col, key_col
    )


def item_line(seq: CommentedSeq, index: int) -> int:
    try:
        return seq.lc.item(index)[0] + 1
    except (KeyError, IndexError, TypeError):
        return 0


def _set_rank(block: list[str], first_line: int, item: CommentedMap, rank: int) -> list[str]:
    """Rewrite the rank value in an entry's lines (first_line: the block's line in the file)."""
    line, col = item.lc.value("rank")
    rel = line - first_line
    text = block[rel]
    new = re.sub(r"^\d+", str(rank), text[col:], count=1)
    return [*block[:rel], text[:col] + new, *block[rel + 1 :]]


def render_entry(values: dict[str, Any], dash_col: int, key_col: int) -> list[str]:
    """An entry's YAML lines at the list's indentation (lists of slugs in flow style)."""
    entry = CommentedMap()
    for key, value in values.items():
        if isinstance(value, list):
            seq = CommentedSeq(value)
            seq.fa.set_flow_style()
            entry[key] = seq
        else:
            entry[key] = value
    buf = io.StringIO()
    yaml = yaml_rt()
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.dump(entry, buf)
    body = buf.getvalue().rstrip("\n").split("\n")
    key_col = max(key_col, dash_col + 2)
    first = " " * dash_col + "-" + " " * (key_col - dash_col - 1) + body[0]
    return [first, *(" " * key_col + line if line else line for line in body[1:])]


class ListEditor:
    """One list file opened for editing; apply() writes the new order and ranks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.text = self.path.read_text(encoding="utf-8")
        self.data = parse_yaml(self.text, self.path)
        self.lst: Top10List = build_list(self.data, self.path)
        problems = [p for p in self.lst.problems if "rank" in p.message]
        problems += check_ranks(self.lst)
        seq = self.data.get("entries")
        if "entries" not in self.data:
            problems.append(Problem(self.path, 1, "missing entries (use `entries: []` for none)"))
        elif seq is not None and not isinstance(seq, list):
            problems.append(
                Problem(self.path, key_line(self.data, "entries"), "entries must be a list")
            )
        elif seq and isinstance(seq, CommentedSeq) and seq.fa.flow_style():
            problems.append(
                Problem(
                    self.path,
                    key_line(self.data, "entries"),
                    "entries are written in [flow style]: write one "
                    "`- rank: N` block per entry to edit the list",
                )
            )
        if problems:
            raise Top10Error(problems)
        self._lines = self.text.split("\n")
        self._trailing_newline = self.text.endswith("\n")
        if self._trailing_newline:
            self._lines.pop()
        seq = self.data.get("entries") or []
        self.layout = _layout(self._lines, self.data, self.path) if seq else None
        # Entry blocks in rank order: (rank, item, lines, first line in file).
        self.order: list[tuple[int, Any, list[str], int]] = []
        if self.layout is not None:
            offset = len(self.layout.prefix)
            for i, (item, block) in enumerate(zip(seq, self.layout.blocks, strict=True)):
                self.order.append((item["rank"], item, block, offset))
                offset += len(block) + len(self.layout.gaps[i])
            self.order.sort(key=lambda t: t[0])

    @property
    def count(self) -> int:
        return len(self.order)

    def headlines(self) -> list[str]:
        return [str(item.get("headline", "")) for _, item, _, _ in self.order]

    def _blocks_in_order(self) -> list[tuple[Any, list[str], int]]:
        return [(item, block, first) for _, item, block, first in self.order]

    def write(
        self, new_order: list[tuple[Any, list[str], int] | list[str]], expected: list[str]
    ) -> str:
        """Assemble the file from entries in their new order, renumber, check, write."""
        blocks: list[list[str]] = []
        for rank, part in enumerate(new_order, start=1):
            if isinstance(part, tuple):
                item, block, first = part
                if item["rank"] != rank:
                    block = _set_rank(block, first, item, rank)
                blocks.append(block)
            else:
                blocks.append(part)
        lines = self._assemble(blocks)
        text = "\n".join(lines) + ("\n" if self._trailing_newline or not lines else "")
        check = build_list(parse_yaml(text, self.path), self.path)
        got = [e.headline for e in sorted(check.entries, key=lambda e: e.rank)]
        ranks = [e.rank for e in check.entries]
        if got != [h.strip() for h in expected] or ranks != list(range(1, len(expected) + 1)):
            raise Top10Error(
                Problem(
                    self.path,
                    0,
                    "the edit did not come out as expected; the file was left unchanged",
                )
            )
        write_text_atomic(self.path, text)
        logger.info("wrote %s (%d entries)", self.path, len(blocks))
        return text

    def _assemble(self, blocks: list[list[str]]) -> list[str]:
        layout = self.layout
        if layout is None:
            return self._assemble_into_empty(blocks)
        inner = layout.gaps[:-1]
        tail = layout.gaps[-1]
        out = list(layout.prefix)
        for i, block in enumerate(blocks):
            out += block
            if i < len(blocks) - 1:
                out += inner[i] if i < len(inner) else (inner[-1] if inner else [])
            else:
                out += tail
        if not blocks and out and out[-1].rstrip().endswith("entries:"):
            out[-1] = out[-1].rstrip() + " []"
        out += layout.suffix
        return out

    def _assemble_into_empty(self, blocks: list[list[str]]) -> list[str]:
        lines = list(self._lines)
        at = self.data.lc.key("entries")[0]
        match = _EMPTY_FLOW_RE.match(lines[at])
        if match:
            lines[at] = match.group(1) + (f"  {match.group(2)}" if match.group(2) else "")
        elif lines[at].strip() != "entries:":
            raise Top10Error(
                Problem(self.path, at + 1, "write `entries: []` on one line to add the first entry")
            )
        return [*lines[: at + 1], *(line for block in blocks for line in block), *lines[at + 1 :]]

    def indentation(self) -> tuple[int, int]:
        if self.layout is not None:
            return self.layout.dash_col, self.layout.key_col
        return 2, 4

    # The three edits -------------------------------------------------------------------

    def add(self, values: dict[str, Any], rank: int | None = None) -> str:
        """Insert a new entry at rank (default: last); the entries from there shift down."""
        rank = self.count + 1 if rank is None else rank
        if not 1 <= rank <= self.count + 1:
            raise Top10Error(f"{self.path}: rank {rank} is outside 1..{self.count + 1}")
        if self.count + 1 > self.lst.max_entries:
            raise Top10Error(
                f"{self.path}: the list already has {self.count} entries "
                f"(max_entries {self.lst.max_entries}); remove one first"
            )
        values = {"rank": rank, **values}
        block = render_entry(values, *self.indentation())
        order: list[Any] = list(self._blocks_in_order())
        order.insert(rank - 1, block)
        expected = self.headlines()
        expected.insert(rank - 1, str(values.get("headline", "")))
        return self.write(order, expected)

    def move(self, src: int, dst: int) -> str:
        """Move the entry ranked src to rank dst; the ones between shift."""
        for rank in (src, dst):
            if not 1 <= rank <= self.count:
                raise Top10Error(f"{self.path}: rank {rank} is outside 1..{self.count}")
        order = self._blocks_in_order()
        order.insert(dst - 1, order.pop(src - 1))
        expected = self.headlines()
        expected.insert(dst - 1, expected.pop(src - 1))
        return self.write(list(order), expected)

    def update(self, rank: int, values: dict[str, Any]) -> str:
        """Change some values of the entry ranked rank (an empty value removes the key).

        The entry is written again from its values (keys in their order, then new ones); the
        comment lines directly above it stay, comments inside it are not kept. Every other
        entry and line stays byte for byte.
        """
        if not 1 <= rank <= self.count:
            raise Top10Error(f"{self.path}: rank {rank} is outside 1..{self.count}")
        order: list[Any] = list(self._blocks_in_order())
        item, block, _ = order[rank - 1]
        merged: dict[str, Any] = {}
        for key, value in item.items():
            merged[str(key)] = [str(v) for v in value] if isinstance(value, list) else value
        for key, value in values.items():
            if value in ("", None, []):
                merged.pop(key, None)
            else:
                merged[key] = value
        merged["rank"] = rank
        merged = {"rank": rank, **{k: v for k, v in merged.items() if k != "rank"}}
        dash = next(i for i, line in enumerate(block) if line.lstrip().startswith("-"))
        order[rank - 1] = [*block[:dash], *render_entry(merged, *self.indentation())]
        expected = self.headlines()
        expected[rank - 1] = str(merged.get("headline", ""))
        return self.write(order, expected)

    def remove(self, rank: int) -> tuple[str, str]:
        """Remove the entry ranked rank; the ones after shift up. Returns (headline, text)."""
        if not 1 <= rank <= self.count:
            raise Top10Error(f"{self.path}: rank {rank} is outside 1..{self.count}")
        order = self._blocks_in_order()
        order.pop(rank - 1)
        expected = self.headlines()
        headline = expected.pop(rank - 1)
        return headline, self.write(list(order), expected)


def story_entry(
    archive: dict[str, Any],
    year: int,
    slug: str,
    reason: str,
    *,
    headline: str = "",
    account: str = "",
    out_of_year_reason: str = "",
    out_of_year_hint: str = "--out-of-year-reason",
) -> dict[str, Any]:
    """The values of a new entry for an archived story (headline and account default to the
    story's title and summary); Top10Error when the story is missing or not of the year."""
    story = archive.get(slug)
    if story is None:
        raise Top10Error(f"story {slug!r} not found in the archive")
    if story.year != year and not out_of_year_reason:
        raise Top10Error(
            f"story {slug!r} is dated {story.date}, not in {year}; "
            f"give {out_of_year_hint} to list it anyway"
        )
    values: dict[str, Any] = {"headline": headline or story.title, "stories": [slug]}
    if account or story.story.get("Summary"):
        values["account"] = account or story.story.get("Summary")
    values["reason"] = reason
    if out_of_year_reason:
        values["out_of_year_reason"] = out_of_year_reason
    return values


def add_story(
    path: Path,
    archive: dict[str, Any],
    year: int,
    slug: str,
    reason: str,
    *,
    rank: int | None = None,
    headline: str = "",
    account: str = "",
    out_of_year_reason: str = "",
    out_of_year_hint: str = "--out-of-year-reason",
) -> int:
    """Add an archived story to a list file at rank (default last); returns the rank given."""
    values = story_entry(
        archive,
        year,
        slug,
        reason,
        headline=headline,
        account=account,
        out_of_year_reason=out_of_year_reason,
        out_of_year_hint=out_of_year_hint,
    )
    editor = ListEditor(path)
    ranks = editor.lst.story_ranks()
    if slug in ranks:
        raise Top10Error(f"{path}: story {slug!r} is already No. {ranks[slug]}")
    given = editor.count + 1 if rank is None else rank
    editor.add(values, rank)
    return given


_STATUS_LINE_RE = re.compile(r"^(status:[ \t]*)([\"']?)([A-Za-z]*)\2")


def set_status(path: Path, status: str) -> str:
    """Set a list's `status:` (draft or published), changing only that value; returns the text.

    A list without a `status:` line gets one after its `title:`. The result is read back and
    must be the same list with the new status before it is written atomically.
    """
    if status not in STATUSES:
        raise Top10Error(f"status {status!r} must be one of: {', '.join(STATUSES)}")
    text = path.read_text(encoding="utf-8")
    data = parse_yaml(text, path)
    before = build_list(data, path)
    lines = text.split("\n")
    if "status" in data:
        at = data.lc.key("status")[0]
        match = _STATUS_LINE_RE.match(lines[at])
        if match is None:
            raise Top10Error(
                Problem(path, at + 1, "write the status on one line (status: draft) to change it")
            )
        lines[at] = match.group(1) + status + lines[at][match.end() :]
    else:
        after = data.lc.key("title")[0] + 1 if "title" in data else 0
        lines.insert(after, f"status: {status}")
    new_text = "\n".join(lines)
    check = build_list(parse_yaml(new_text, path), path)
    same = [(e.rank, e.headline) for e in check.entries] == [
        (e.rank, e.headline) for e in before.entries
    ]
    if check.status != status or not same or check.title != before.title:
        raise Top10Error(
            Problem(path, 0, "the status change did not come out as expected; file unchanged")
        )
    write_text_atomic(path, new_text)
    logger.info("set %s to %s", path, status)
    return new_text
