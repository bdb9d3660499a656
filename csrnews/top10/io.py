"""Read list files with ruamel.yaml (round trip, line numbers) into the model; find list files."""

from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from csrnews.story import settings
from csrnews.top10.model import DEFAULT_MAX_ENTRIES, STATUSES, Entry, Problem, Top10Error, Top10List

logger = logging.getLogger(__name__)

LIST_KEYS = ("year", "title", "introduction", "status", "region", "topic", "max_entries", "entries")
ENTRY_KEYS = (
    "rank",
    "headline",
    "stories",
    "url",
    "account",
    "reason",
    "related",
    "out_of_year_reason",
)
_NAME_RE = re.compile(r"^(\d{4})(?:-[a-z0-9][a-z0-9-]*)?$")
WEIGHTS_NAME = "weights.yaml"


def yaml_rt() -> YAML:
    """The round-trip YAML instance: comments, key order and quoting are kept."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def top10_dir(content_dir: str | os.PathLike[str]) -> Path:
    return Path(content_dir) / settings.TOP10_SUBDIR


def unknown_files(content_dir: str | os.PathLike[str]) -> list[Path]:
    """Files in <content>/top10 that are neither lists (<year>[-<topic>].yaml) nor weights.yaml.

    A list saved under another name (latest.yaml, 2019.yml) would be ignored in silence.
    """
    folder = top10_dir(content_dir)
    if not folder.is_dir():
        return []
    known = set(list_files(content_dir))
    return sorted(
        p
        for p in folder.iterdir()
        if p not in known and p.name != WEIGHTS_NAME and not p.name.startswith(".")
    )


def unknown_file_warning(path: Path) -> str:
    """The warning about one unknown file in content/top10."""
    return (
        f"{path}: not a top-10 list file and ignored (a list is named <year>.yaml or "
        "<year>-<topic>.yaml, e.g. 2019.yaml)"
    )


def list_files(content_dir: str | os.PathLike[str]) -> list[Path]:
    """Every list file in <content>/top10 (<year>.yaml, <year>-<topic>.yaml), sorted."""
    folder = top10_dir(content_dir)
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.glob("*.yaml") if _NAME_RE.match(p.stem) and not p.name.startswith(".")
    )


def parse_yaml(text: str, path: Path) -> Any:
    """Parse YAML text; a syntax error becomes Top10Error with the parser's line."""
    try:
        return yaml_rt().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise Top10Error(Problem(path, line, f"YAML syntax error: {what}")) from None
    except YAMLError as exc:
        raise Top10Error(Problem(path, 0, f"YAML error: {exc}")) from None
    except RecursionError:
        raise Top10Error(Problem(path, 0, "nested too deeply to be a top-10 list")) from None


def key_line(node: Any, key: str | int, default: int = 0) -> int:
    """The 1-based line of a key in a mapping (or an item in a sequence), from ruamel."""
    try:
        if isinstance(node, CommentedMap):
            return node.lc.key(key)[0] + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return default


def node_line(node: Any, default: int = 0) -> int:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else default


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _str_list(value: Any, where: str, path: Path, line: int, problems: list[Problem]) -> list[str]:
    """A list of strings; a single string is accepted as a one-item list."""
    if value is None:
        return []
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [str(value).strip()] if str(value).strip() else []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, str | int) and not isinstance(item, bool) and str(item).strip():
                out.append(str(item).strip())
            else:
                problems.append(Problem(path, line, f"{where}: {item!r} is not a slug or URL"))
        return out
    problems.append(Problem(path, line, f"{where} must be a list of slugs or URLs"))
    return []


def _entry(item: Any, index: int, seq: Any, path: Path, problems: list[Problem]) -> Entry | None:
    line = key_line(seq, index, node_line(item))
    if not isinstance(item, dict):
        problems.append(Problem(path, line, f"entry {index + 1} is not a mapping of keys"))
        return None
    line = node_line(item, line)
    rank_raw = item.get("rank")
    rank = rank_raw if isinstance(rank_raw, int) and not isinstance(rank_raw, bool) else 0
    entry = Entry(rank=rank, headline=_text(item.get("headline")), line=line)
    label = entry.label() if rank else f"entry {index + 1}"
    if rank_raw is None:
        problems.append(Problem(path, line, f"{label}: missing rank"))
    elif not rank:
        problems.append(
            Problem(
                path,
                key_line(item, "rank", line),
                f"{label}: rank {rank_raw!r} is not a whole number",
            )
        )
    for key in item:
        if key not in ENTRY_KEYS:
            problems.append(
                Problem(
                    path,
                    key_line(item, key, line),
                    f"{label}: unknown key {key!r} (known: {', '.join(ENTRY_KEYS)})",
                )
            )
    entry.stories = _str_list(
        item.get("stories"), f"{label}: stories", path, key_line(item, "stories", line), problems
    )
    entry.related = _str_list(
        item.get("related"), f"{label}: related", path, key_line(item, "related", line), problems
    )
    entry.url = _text(item.get("url"))
    entry.account = _text(item.get("account"))
    entry.reason = _text(item.get("reason"))
    entry.out_of_year_reason = _text(item.get("out_of_year_reason"))
    return entry


def build_list(data: Any, path: Path) -> Top10List:
    """Turn a parsed file into a Top10List; structural problems go to .problems."""
    if not isinstance(data, dict):
        raise Top10Error(
            Problem(path, 1, "a list file must be a YAML mapping (year:, title:, ...)")
        )
    problems: list[Problem] = []
    year_raw = data.get("year")
    year = year_raw if isinstance(year_raw, int) and not isinstance(year_raw, bool) else 0
    if year_raw is None:
        problems.append(Problem(path, 1, "missing year"))
    elif not 1900 <= year <= 2999:
        problems.append(Problem(path, key_line(data, "year"), f"year {year_raw!r} is not a year"))
    match = _NAME_RE.match(path.stem)
    if year and match and int(match.group(1)) != year:
        problems.append(
            Problem(
                path,
                key_line(data, "year"),
                f"year {year} does not match the file name {path.name}",
            )
        )
    status = _text(data.get("status")) or "draft"
    if status not in STATUSES:
        problems.append(
            Problem(
                path,
                key_line(data, "status"),
                f"status {status!r} must be one of: {', '.join(STATUSES)}",
            )
        )
        status = "draft"  # an unknown status is never published
    title = _text(data.get("title"))
    if not title:
        problems.append(Problem(path, key_line(data, "title", 1), "missing title"))
    max_raw = data.get("max_entries", DEFAULT_MAX_ENTRIES)
    max_entries = DEFAULT_MAX_ENTRIES
    if isinstance(max_raw, int) and not isinstance(max_raw, bool) and max_raw > 0:
        max_entries = max_raw
    else:
        problems.append(
            Problem(
                path,
                key_line(data, "max_entries"),
                f"max_entries {max_raw!r} must be a positive whole number",
            )
        )
    for key in data:
        if key not in LIST_KEYS:
            problems.append(
                Problem(
                    path,
                    key_line(data, key),
                    f"unknown key {key!r} (known: {', '.join(LIST_KEYS)})",
                )
            )
    entries: list[Entry] = []
    raw_entries = data.get("entries")
    if raw_entries is None:
        if "entries" not in data:
            problems.append(Problem(path, 1, "missing entries (use `entries: []` for none yet)"))
    elif not isinstance(raw_entries, list):
        problems.append(Problem(path, key_line(data, "entries"), "entries must be a list"))
    else:
        for index, item in enumerate(raw_entries):
            entry = _entry(item, index, raw_entries, path, problems)
            if entry is not None:
                entries.append(entry)
    return Top10List(
        year=year,
        title=title,
        introduction=_text(data.get("introduction")),
        status=status,
        path=path,
        region=_text(data.get("region")),
        topic=_text(data.get("topic")),
        max_entries=max_entries,
        entries=entries,
        problems=problems,
        data=data,
    )


def read_list(path: str | os.PathLike[str]) -> Top10List:
    """Read one list file; Top10Error for a syntax error or a file that is not a mapping."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Top10Error(Problem(path, 0, f"cannot read: {exc}")) from None
    return build_list(parse_yaml(text, path), path)
