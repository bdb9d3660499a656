"""Score enrichment against labelled stories: type accuracy, organisation and standard P/R/F1.

Run ``python -m csrnews.crawler.enrichment.evaluate [DIR ...]`` for a report with every miss listed.
Labelled stories are YAML front matter (``title``, ``date``, ``lang``, ``labels: {type,
organisations, standards, locations, event_date}``) between ``---`` lines, then a Markdown body.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from csrnews.crawler.enrichment.rules import Enricher, load_rules
from csrnews.crawler.enrichment.textutil import strip_markdown

from csrnews.story.settings import DEMO_DIR, PROJECT_ROOT

logger = logging.getLogger(__name__)

DEFAULT_DIRS = (
    DEMO_DIR / "stories",
    PROJECT_ROOT / "tests" / "fixtures" / "enrichment",
)
FIELDS = ("organisations", "standards", "locations")


@dataclass
class Labelled:
    """One labelled story."""

    path: Path
    title: str
    body: str
    lang: str
    published: date | None
    labels: dict[str, Any]


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        return datetime.fromisoformat(value.strip()).date()
    return None


def read_labelled(path: Path) -> Labelled | None:
    """Parse a labelled story file; None when it has no front matter or no labels."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return None
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front) or {}
    labels = meta.get("labels")
    if not isinstance(labels, dict) or "type" not in labels:
        return None
    return Labelled(
        path=path,
        title=str(meta.get("title", "")),
        body=strip_markdown(body.strip()),
        lang=str(meta.get("lang", "en")),
        published=_as_date(meta.get("date")),
        labels=labels,
    )


def iter_labelled(dirs: tuple[Path, ...] = DEFAULT_DIRS) -> list[Labelled]:
    """Every labelled story under `dirs`, sorted by path (README files are skipped)."""
    stories = []
    for folder in dirs:
        for path in sorted(Path(folder).rglob("*.md")):
            if path.name.lower() != "readme.md":
                story = read_labelled(path)
                if story is not None:
                    stories.append(story)
    return stories


@dataclass
class Counts:
    """True positives, false positives and false negatives of a set-valued field."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """Scores over a labelled set, with the misses for a person to read."""

    stories: int = 0
    type_correct: int = 0
    dated: int = 0
    date_correct: int = 0
    counts: dict[str, Counts] = field(default_factory=lambda: {f: Counts() for f in FIELDS})
    misses: list[str] = field(default_factory=list)

    @property
    def type_accuracy(self) -> float:
        return self.type_correct / self.stories if self.stories else 0.0

    @property
    def event_date_accuracy(self) -> float:
        return self.date_correct / self.dated if self.dated else 1.0

    def scores(self) -> dict[str, float]:
        """The figures the quality gate pins, rounded to 4 places."""
        result = {"type_accuracy": self.type_accuracy}
        for name, counts in self.counts.items():
            short = name.rstrip("s")
            result[f"{short}_precision"] = counts.precision
            result[f"{short}_recall"] = counts.recall
            result[f"{short}_f1"] = counts.f1
        result["event_date_accuracy"] = self.event_date_accuracy
        return {key: round(value, 4) for key, value in result.items()}


def evaluate(stories: list[Labelled], enricher: Enricher | None = None) -> Report:
    """Enrich every story and compare with its labels."""
    enricher = enricher or load_rules()
    report = Report()
    for story in stories:
        found = enricher.enrich(story.title, story.body, story.lang, story.published)
        report.stories += 1
        name = story.path.name
        if found.category == story.labels["type"]:
            report.type_correct += 1
        else:
            report.misses.append(f"{name}: type {found.category} != {story.labels['type']}")
        for fld in FIELDS:
            expected = set(story.labels.get(fld) or [])
            got = set(getattr(found, fld))
            counts = report.counts[fld]
            counts.tp += len(expected & got)
            counts.fp += len(got - expected)
            counts.fn += len(expected - got)
            if fld != "locations" and expected != got:
                report.misses.append(
                    f"{name}: {fld} extra {sorted(got - expected)} missing {sorted(expected - got)}"
                )
        expected_date = _as_date(story.labels.get("event_date"))
        if expected_date is not None:
            report.dated += 1
            if found.event_date == expected_date:
                report.date_correct += 1
            else:
                report.misses.append(f"{name}: event_date {found.event_date} != {expected_date}")
    return report


def main(argv: list[str] | None = None) -> int:
    """Print the scores and every miss."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="folders of labelled stories")
    parser.add_argument("--data-dir", type=Path, default=None, help="enrichment data folder")
    args = parser.parse_args(argv)
    stories = iter_labelled(tuple(args.dirs) or DEFAULT_DIRS)
    report = evaluate(stories, load_rules(args.data_dir))
    for miss in report.misses:
        print(miss)
    print(f"{report.stories} labelled stories")
    for key, value in report.scores().items():
        print(f"{key:28s} {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
