"""Quality gate for enrichment: scores on the labelled set must not fall below pinned floors.

The floors live in tests/fixtures/enrichment/baseline.json. A change may raise them (run with
CSRNEWS_UPDATE_BASELINE=1 to raise every floor to the measured score, never lower), but a change
that lowers a floor below the acceptance minimums below fails here, and a lower score fails the
gate: the same idea as trafilatura's tests/eval_gate.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import yaml
from csrnews.crawler.enrichment import DEFAULT_DATA_DIR, load_rules
from csrnews.crawler.enrichment.evaluate import DEFAULT_DIRS, Report, evaluate, iter_labelled

logger = logging.getLogger(__name__)

FIXTURES = Path(__file__).parent / "fixtures" / "enrichment"
BASELINE = FIXTURES / "baseline.json"
# The acceptance floors: the baseline may never be set below these.
ACCEPTANCE = {"type_accuracy": 0.9, "organisation_f1": 0.9, "standard_f1": 0.9}


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(iter_labelled(DEFAULT_DIRS))


def test_labelled_set_is_large_enough_and_bilingual() -> None:
    stories = iter_labelled(DEFAULT_DIRS)
    own = [s for s in stories if FIXTURES in s.path.parents]
    assert len(stories) >= 40
    assert len(own) >= 15
    assert {s.lang for s in stories} >= {"en", "zh"}
    assert {s.labels["type"] for s in stories} >= {
        "summit",
        "mou",
        "top10",
        "report",
        "policy",
        "project",
        "award",
        "training",
    }


def test_baseline_never_below_acceptance() -> None:
    floors = json.loads(BASELINE.read_text(encoding="utf-8"))
    for key, minimum in ACCEPTANCE.items():
        assert floors[key] >= minimum, f"baseline {key} lowered below the acceptance floor"


def test_scores_meet_pinned_floors(report: Report) -> None:
    scores = report.scores()
    floors = json.loads(BASELINE.read_text(encoding="utf-8"))
    summary = ", ".join(f"{k}={v:.3f}" for k, v in scores.items())
    print(f"\nenrichment on {report.stories} labelled stories: {summary}")
    if os.environ.get("CSRNEWS_UPDATE_BASELINE"):
        raised = {k: max(floors.get(k, 0.0), v) for k, v in scores.items() if k in floors}
        BASELINE.write_text(json.dumps(raised, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        floors = raised
    misses = "\n".join(report.misses)
    for key, floor in floors.items():
        assert scores[key] >= floor, f"{key} {scores[key]:.4f} < floor {floor}\n{misses}"


def test_gate_catches_a_broken_gazetteer(tmp_path: Path) -> None:
    """The gate can fail: without the Chinese aliases, organisation recall falls below its floor."""
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    orgs = yaml.safe_load((data / "organisations.yaml").read_text(encoding="utf-8"))
    for entry in orgs["organisations"]:
        entry["aliases"] = [a for a in entry["aliases"] if a.isascii()]
    (data / "organisations.yaml").write_text(yaml.safe_dump(orgs, allow_unicode=True), "utf-8")
    floors = json.loads(BASELINE.read_text(encoding="utf-8"))
    broken = evaluate(iter_labelled(DEFAULT_DIRS), load_rules(data)).scores()
    assert broken["organisation_recall"] < floors["organisation_recall"]
