"""`python -m bench quality`: a clear skip without ../shared; with development sets, their summary
lines, the page check and a JSON result (here on stand-in sets made of the project's fixtures)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures.extraction.evaluate import FIXTURES

ROOT = Path(__file__).resolve().parent.parent

# A stand-in extraction scorer with the interface bench/quality.py uses from the real one.
EXTRACTION_SCORE = """
import sys
BASELINE = (
    "import sys, json\\n"
    "for p in sys.argv[1:]:\\n"
    "    print(json.dumps({'text': 'Employees at a large electronics assembly plant elected'}))\\n"
)
def norm(text):
    return " ".join((text or "").split())
def counts(text, item):
    t = norm(text)
    tp = sum(1 for s in item.get("with", []) if norm(s) in t)
    fp = sum(1 for s in item.get("without", []) if norm(s) in t)
    return tp, len(item.get("with", [])) - tp, fp, len(item.get("without", [])) - fp
def prf(rows):
    tp, fn, fp = (sum(r[i] for r in rows) for i in (0, 1, 2))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
if __name__ == "__main__":
    print("csrnews extract:    P 0.950  R 0.900  F1 0.924  on 2 pages")
    print("plain trafilatura:  P 0.800  R 0.700  F1 0.747")
    print("  loses 1: a per-page line that is not a summary")
"""
ENRICHMENT_SCORE = """
print("event type accuracy: 0.500 (1/2)  en 0.500 (1/2)  zh 0.000 (0/0)  hard 0.0 (0/0)")
print("enrichment-dev: type acc 0.500, org F1 0.250, std F1 1.000 on 2 items")
"""


def _shared(tmp_path: Path) -> Path:
    shared = tmp_path / "shared"
    extraction = shared / "extraction-dev"
    (extraction / "pages").mkdir(parents=True)
    (shared / "enrichment-dev").mkdir()
    (extraction / "score.py").write_text(EXTRACTION_SCORE, encoding="utf-8")
    (shared / "enrichment-dev" / "score.py").write_text(ENRICHMENT_SCORE, encoding="utf-8")
    evaldata = {}
    for name, snippets in (
        ("en-hostile-page", ["assembly plant elected", "Turnout was eighty-two"]),
        # snippets that are not on this page at all, but in the stand-in baseline's text
        ("zh-gbk-standard", ["Employees at", "a large electronics", "assembly plant"]),
    ):
        page = (FIXTURES / f"{name}.html").read_bytes()
        (extraction / "pages" / f"{name}.html.gz").write_bytes(gzip.compress(page))
        evaldata[f"https://example.org/{name}"] = {
            "file": f"{name}.html",
            "with": snippets,
            "without": ["Site footer text"],
        }
    (extraction / "evaldata.json").write_text(json.dumps(evaldata), encoding="utf-8")
    return shared


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "quality", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_shared_sets_it_says_so_and_succeeds(tmp_path: Path) -> None:
    done = _run("--shared", tmp_path / "nowhere", "--results-dir", tmp_path / "results")
    assert done.returncode == 0, done.stderr
    assert "skipped: no development sets at" in done.stdout
    assert not (tmp_path / "results").exists()


def test_scores_check_and_json_result(tmp_path: Path) -> None:
    results = tmp_path / "results"
    done = _run("--shared", _shared(tmp_path), "--results-dir", results)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "csrnews extract:    P 0.950" in out and "plain trafilatura:  P 0.800" in out
    assert "per-page line" not in out  # only summary lines are printed
    assert "enrichment-dev: type acc 0.500" in out
    # the stand-in baseline "finds" the Chinese page's 3 snippets, which csrnews cannot
    assert "check: 1 page(s)" in out and "zh-gbk-standard.html" in out
    (path,) = results.glob("quality-*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["extraction"]["csrnews"] == {"precision": 0.95, "recall": 0.9, "f1": 0.924}
    assert data["enrichment"]["type acc"] == 0.5 and data["enrichment"]["org F1"] == 0.25
    check = data["check"]
    assert check["pages"] == 2
    assert [p["file"] for p in check["pages_lost"]] == ["zh-gbk-standard.html"]
    assert check["pages_lost"][0]["csrnews"] == [0, 3, 0, 1]
    assert check["csrnews"]["recall"] == 0.4 and check["trafilatura"]["recall"] == 0.8
    assert check["extract_cpu_s"] > 0 and check["extract_ms_per_page"] >= 0
    assert data["machine"]["python"]
