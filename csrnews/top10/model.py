"""The data model of an editors' top-10 list: lists, entries, problems and the error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUSES: tuple[str, ...] = ("draft", "published")
DEFAULT_MAX_ENTRIES = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a list file, at a line (1-based; 0 when the file has no line)."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"


class Top10Error(Exception):
    """A list file (or weights file) is malformed; str() gives "path:line: message" lines."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            text = problems
        else:
            self.problems = [problems] if isinstance(problems, Problem) else list(problems)
            text = "\n".join(str(p) for p in self.problems)
        super().__init__(text)


@dataclass
class Entry:
    """One ranked entry of a list."""

    rank: int
    headline: str
    stories: list[str] = field(default_factory=list)
    url: str = ""
    account: str = ""
    reason: str = ""
    related: list[str] = field(default_factory=list)
    out_of_year_reason: str = ""
    line: int = 0

    def label(self) -> str:
        """How problems name the entry: its rank and the start of its headline."""
        head = self.headline if len(self.headline) <= 40 else self.headline[:39] + "…"
        return f"entry No. {self.rank} ({head!r})" if head else f"entry No. {self.rank}"


@dataclass
class Top10List:
    """One list file: content/top10/<year>.yaml or <year>-<topic>.yaml."""

    year: int
    title: str
    introduction: str = ""
    status: str = "draft"
    path: Path = Path()
    region: str = ""
    topic: str = ""
    max_entries: int = DEFAULT_MAX_ENTRIES
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list, repr=False)
    data: Any = field(default=None, repr=False, compare=False)  # the ruamel round-trip tree

    @property
    def published(self) -> bool:
        return self.status == "published"

    @property
    def name(self) -> str:
        """The file's stem ("2018", "2018-electronics"): a stable key for URLs and --list."""
        return self.path.stem

    def entry(self, rank: int) -> Entry | None:
        return next((e for e in self.entries if e.rank == rank), None)

    def story_ranks(self) -> dict[str, int]:
        """slug -> rank for every story an entry links (first entry wins)."""
        found: dict[str, int] = {}
        for entry in sorted(self.entries, key=lambda e: e.rank):
            for slug in entry.stories:
                found.setdefault(slug, entry.rank)
        return found
