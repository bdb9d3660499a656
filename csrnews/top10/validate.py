"""Validate a list against the rules editors rely on; every problem names its file and line."""

from __future__ import annotations

from collections.abc import Mapping

from csrnews.top10.archive import ArchivedStory
from csrnews.top10.model import Problem, Top10List


def _is_url(ref: str) -> bool:
    return ref.startswith(("http://", "https://"))


def check_ranks(lst: Top10List) -> list[Problem]:
    """Ranks 1..N, unique, no gaps; at most max_entries entries."""
    problems: list[Problem] = []
    seen: dict[int, int] = {}
    for entry in lst.entries:
        if not entry.rank:
            continue  # reported when the file was read
        if entry.rank in seen:
            problems.append(
                Problem(
                    lst.path,
                    entry.line,
                    f"{entry.label()}: rank {entry.rank} is used twice "
                    f"(also on line {seen[entry.rank]})",
                )
            )
        else:
            seen[entry.rank] = entry.line
    ranked = [e for e in lst.entries if e.rank]
    for entry in ranked:
        if entry.rank < 1 or entry.rank > len(lst.entries):
            problems.append(
                Problem(
                    lst.path,
                    entry.line,
                    f"{entry.label()}: rank {entry.rank} is outside 1..{len(lst.entries)}",
                )
            )
    missing = [r for r in range(1, len(lst.entries) + 1) if r not in seen]
    if missing and len(seen) == len(ranked):  # a gap, not only a repeat
        line = min((e.line for e in lst.entries), default=0)
        problems.append(
            Problem(
                lst.path,
                line,
                "ranks have a gap: no entry ranked " + ", ".join(str(r) for r in missing),
            )
        )
    if len(lst.entries) > lst.max_entries:
        extra = sorted(lst.entries, key=lambda e: e.rank)[lst.max_entries]
        problems.append(
            Problem(
                lst.path,
                extra.line,
                f"{len(lst.entries)} entries, more than max_entries "
                f"{lst.max_entries} (set max_entries: to allow more)",
            )
        )
    return problems


def validate_list(lst: Top10List, archive: Mapping[str, ArchivedStory]) -> list[Problem]:
    """All problems of one list: structure, ranks, references, years, repeats."""
    problems = list(lst.problems)
    problems += check_ranks(lst)
    first_use: dict[str, str] = {}
    for entry in sorted(lst.entries, key=lambda e: (e.rank, e.line)):
        where = entry.label()
        if not entry.headline:
            problems.append(Problem(lst.path, entry.line, f"{where}: missing headline"))
        if not entry.stories and not entry.url:
            problems.append(
                Problem(lst.path, entry.line, f"{where}: needs stories (slugs) or an external url")
            )
        if entry.url and not _is_url(entry.url):
            problems.append(
                Problem(
                    lst.path,
                    entry.line,
                    f"{where}: url {entry.url!r} must start with http:// or https://",
                )
            )
        if lst.published and not entry.reason:
            problems.append(
                Problem(lst.path, entry.line, f"{where}: missing reason (the reason for listing)")
            )
        for slug in entry.stories:
            story = archive.get(slug)
            if story is None:
                problems.append(
                    Problem(
                        lst.path, entry.line, f"{where}: story {slug!r} not found in the archive"
                    )
                )
            elif story.hidden:
                problems.append(
                    Problem(
                        lst.path,
                        entry.line,
                        f"{where}: story {slug!r} is hidden "
                        f"(Status: {story.story.get('Status')}) and has no page",
                    )
                )
            elif lst.year and story.year != lst.year and not entry.out_of_year_reason:
                problems.append(
                    Problem(
                        lst.path,
                        entry.line,
                        f"{where}: story {slug!r} is dated {story.date or 'without a date'}, "
                        f"not in {lst.year} (add out_of_year_reason: to say why it belongs)",
                    )
                )
            if slug in first_use:
                problems.append(
                    Problem(
                        lst.path,
                        entry.line,
                        f"{where}: story {slug!r} is listed twice (already in {first_use[slug]})",
                    )
                )
            else:
                first_use[slug] = where
        for ref in entry.related:
            if not _is_url(ref) and ref not in archive:
                problems.append(
                    Problem(
                        lst.path,
                        entry.line,
                        f"{where}: related story {ref!r} not found in the archive",
                    )
                )
    return problems
