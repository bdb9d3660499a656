"""Write a new list file: empty from a template (`new`) or started from a list story (`import`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from csrnews.story.storyfile import slugify, write_text_atomic
from csrnews.top10.edit import render_entry
from csrnews.top10.io import build_list, parse_yaml, yaml_rt
from csrnews.top10.model import Top10Error

HEADER = """\
# {title}
# Edit with care: `csrnews top10 check` validates this file; `csrnews top10 add/move/remove`
# keep your comments. Each entry: rank, headline, stories (slugs) or url, account, reason,
# related (slugs or URLs), and out_of_year_reason when a story is not dated {year}.
# See docs/top10.md. A draft list is not published; set status: published when it is ready.
"""


def list_name(year: int, topic: str = "") -> str:
    """The file stem: "2018", or "2018-<topic>" for a regional or topic list."""
    return f"{year}-{slugify(topic)}" if topic else str(year)


def _scalar_block(key: str, value: Any) -> str:
    buf = io.StringIO()
    yaml_rt().dump({key: value}, buf)
    return buf.getvalue()


def list_text(
    year: int,
    title: str,
    *,
    introduction: str = "",
    region: str = "",
    topic: str = "",
    entries: list[dict[str, Any]] | None = None,
    note: str = "",
) -> str:
    """The YAML text of a new list (status draft)."""
    parts = [HEADER.format(title=title, year=year)]
    if note:
        parts.append("".join(f"# {line}\n" for line in note.splitlines()))
    parts.append(f"year: {year}\n")
    parts.append(_scalar_block("title", title))
    if region:
        parts.append(_scalar_block("region", region))
    if topic:
        parts.append(_scalar_block("topic", topic))
    parts.append("status: draft  # draft | published\n")
    parts.append(_scalar_block("introduction", introduction or f"The editors' choice for {year}."))
    if entries:
        parts.append("entries:\n")
        blocks = ["\n".join(render_entry(entry, 2, 4)) + "\n" for entry in entries]
        parts.append("\n".join(blocks))
    else:
        parts.append("entries: []\n")
    return "".join(parts)


def create_list(path: Path, text: str) -> None:
    """Write a new list file; never over an existing one; the text must read back as a list."""
    if path.exists():
        raise Top10Error(f"{path} already exists; edit it, or choose another name with --list")
    build_list(parse_yaml(text, path), path)
    write_text_atomic(path, text)


def default_title(year: int, region: str = "", topic: str = "") -> str:
    scope = " ".join(part for part in (region, topic) if part)
    return f"Top 10 {scope} CSR Events of {year}" if scope else f"Top 10 CSR Events of {year}"
