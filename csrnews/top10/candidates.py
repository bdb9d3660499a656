"""Rank a year's stories as candidates for its top-10 list, with the reason for every point."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csrnews.story.vocabulary import EVENT_TYPES, event_type_id, event_type_label
from csrnews.top10.archive import ArchivedStory
from csrnews.top10.io import WEIGHTS_NAME, key_line, parse_yaml, top10_dir
from csrnews.top10.model import Problem, Top10Error

# Editors override any of these in content/top10/weights.yaml.
DEFAULT_WEIGHTS: dict[str, Any] = {
    "per_source": 2.0,  # points for each source that covered the story (1 + Also_reported_by)
    "event_types": {  # points by event type id (see csrnews.story.vocabulary)
        "policy": 3.0,
        "summit": 2.0,
        "mou": 2.0,
        "report": 1.5,
        "award": 1.0,
        "project": 1.0,
        "training": 0.5,
        "other": 0.0,
        "top10": 0.0,
    },
    "per_organisation": 0.5,  # points for each organisation involved ...
    "max_organisations": 4,  # ... counting at most this many
    "organisations": {},  # extra points for named organisations, e.g. {MIIT: 2}
    "stories": {},  # extra (or negative) points for named story slugs
    "exclude_event_types": ["top10"],  # never candidates (other outlets' own lists)
}


@dataclass
class Candidate:
    """One story with its score and the reasons that add up to it."""

    story: ArchivedStory
    score: float
    reasons: list[str] = field(default_factory=list)
    listed: str = ""  # "No. 3" when a list of the year already has it


def _number(value: Any, where: str, path: Path, line: int) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise Top10Error(Problem(path, line, f"{where}: {value!r} is not a number"))


def load_weights(content_dir: str | os.PathLike[str], path: str | None = None) -> dict[str, Any]:
    """The defaults merged with the weights file (content/top10/weights.yaml), checked."""
    weights = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_WEIGHTS.items()}
    file = Path(path) if path else top10_dir(content_dir) / WEIGHTS_NAME
    if not file.exists():
        if path:
            raise Top10Error(f"weights file {file} not found")
        return weights
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Top10Error(Problem(file, 0, f"cannot read: {exc}")) from None
    data = parse_yaml(text, file) or {}
    if not isinstance(data, dict):
        raise Top10Error(Problem(file, 1, "the weights file must be a YAML mapping"))
    for key, value in data.items():
        line = key_line(data, key)
        if key not in DEFAULT_WEIGHTS:
            raise Top10Error(
                Problem(file, line, f"unknown key {key!r} (known: {', '.join(DEFAULT_WEIGHTS)})")
            )
        default = DEFAULT_WEIGHTS[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise Top10Error(Problem(file, line, f"{key} must be a mapping"))
            for name, points in value.items():
                if key == "event_types" and name not in EVENT_TYPES:
                    raise Top10Error(
                        Problem(
                            file,
                            key_line(value, name, line),
                            f"event_types: unknown event type {name!r} "
                            f"(known: {', '.join(EVENT_TYPES)})",
                        )
                    )
                weights[key][str(name)] = _number(
                    points, f"{key}: {name}", file, key_line(value, name, line)
                )
        elif isinstance(default, list):
            if not isinstance(value, list):
                raise Top10Error(Problem(file, line, f"{key} must be a list"))
            weights[key] = [str(v) for v in value]
        else:
            weights[key] = _number(value, key, file, line)
    return weights


def _fmt(points: float) -> str:
    return f"{points:+.1f}"


def score_story(story: ArchivedStory, weights: dict[str, Any]) -> Candidate:
    """Score one story and say why."""
    meta = story.story
    reasons: list[str] = []
    score = 0.0
    sources = 1 + len(meta.get_list("Also_reported_by"))
    points = sources * float(weights["per_source"])
    score += points
    reasons.append(f"covered by {sources} source{'s' if sources != 1 else ''} {_fmt(points)}")
    type_id = event_type_id(meta.get("Category") or "other")
    points = float(weights["event_types"].get(type_id, 0.0))
    score += points
    reasons.append(f"event type {event_type_label(type_id)} {_fmt(points)}")
    orgs = meta.get_list("Organisations")
    if orgs:
        counted = min(len(orgs), int(weights["max_organisations"]))
        points = counted * float(weights["per_organisation"])
        score += points
        reasons.append(f"{len(orgs)} organisation{'s' if len(orgs) != 1 else ''} {_fmt(points)}")
    named = {name.lower(): (name, pts) for name, pts in weights["organisations"].items()}
    for org in orgs:
        if org.lower() in named:
            name, points = named[org.lower()]
            score += points
            reasons.append(f"{name} weighted {_fmt(points)}")
    if story.slug in weights["stories"]:
        points = float(weights["stories"][story.slug])
        score += points
        reasons.append(f"editors' weight {_fmt(points)}")
    return Candidate(story=story, score=round(score, 2), reasons=reasons)


def rank_candidates(
    archive: dict[str, ArchivedStory],
    year: int,
    weights: dict[str, Any],
    listed: dict[str, int] | None = None,
    limit: int | None = None,
) -> list[Candidate]:
    """The year's visible stories, best first (score, then more sources, then date, slug)."""
    excluded = set(weights["exclude_event_types"])
    found: list[Candidate] = []
    for story in archive.values():
        if story.year != year or story.hidden:
            continue
        if event_type_id(story.story.get("Category") or "other") in excluded:
            continue
        candidate = score_story(story, weights)
        if listed and story.slug in listed:
            candidate.listed = f"No. {listed[story.slug]}"
        found.append(candidate)
    found.sort(key=lambda c: (-c.score, c.story.date, c.story.slug))
    return found[:limit] if limit else found
