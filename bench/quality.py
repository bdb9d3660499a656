"""`python -m bench quality` (`make bench-quality`): extraction and enrichment quality on the
development sets in ../shared, when the checkout has them beside it.

    python -m bench quality               # both score.py scripts, the check, a JSON result
    python -m bench quality --no-check    # only the two score.py scripts
    python -m bench quality --shared DIR  # the development sets elsewhere

It runs ../shared/extraction-dev/score.py and ../shared/enrichment-dev/score.py from the
checkout's root, as their READMEs say, and prints their summary lines. Then, unless --no-check,
it runs `csrnews extract --json` and plain trafilatura once more over the extraction pages (read
from ../shared at run time, nothing copied into the project) to list every page where plain
trafilatura finds at least 3 of the page's "with" snippets and csrnews finds none, and to
measure the CPU time of the extract command per page. The figures go to
bench/results/quality-<UTC timestamp>.json with a description of the machine.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.measure import LAUNCHER, ROOT, describe_machine

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCRIPTS = {"extraction": "extraction-dev/score.py", "enrichment": "enrichment-dev/score.py"}
CHECK_WITH = 3  # "with" snippets plain trafilatura finds on a page where csrnews finds none
_FIGURES_RE = re.compile(r"P ([\d.]+)\s+R ([\d.]+)\s+F1 ([\d.]+)")
_NUMBER_RE = re.compile(r"(type acc|org F1|std F1) ([\d.]+)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench quality",
        description="Extraction and enrichment quality on the development sets in ../shared: "
        "both score.py scripts, a page-by-page check against plain trafilatura, a JSON result.",
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=ROOT.parent / "shared",
        help="the folder holding extraction-dev/ and enrichment-dev/ (default: ../shared)",
    )
    parser.add_argument(
        "--no-check", action="store_true", help="skip the page check and the speed measurement"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds each scoring run may take"
    )
    return parser.parse_args(argv)


def _figures(lines: list[str], prefix: str) -> dict[str, float] | None:
    for line in lines:
        if line.startswith(prefix):
            match = _FIGURES_RE.search(line)
            if match:
                return dict(
                    zip(("precision", "recall", "f1"), map(float, match.groups()), strict=True)
                )
    return None


def run_score(script: Path, timeout: float) -> dict[str, Any]:
    """Run one score.py from the checkout root; its summary lines and the figures in them."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    result: dict[str, Any] = {
        "script": str(script),
        "returncode": done.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "lines": lines,
    }
    if done.returncode != 0:
        result["error"] = (done.stderr or done.stdout)[-2000:]
    return result


def _load_scorer(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("extraction_dev_score", script)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _measured_json_lines(command: list[str], out: Path) -> tuple[list[dict[str, Any]], float]:
    """Run a command under the rusage launcher; its JSON stdout lines and its CPU seconds."""
    usage = out.with_suffix(".usage.json")
    with out.open("w", encoding="utf-8") as handle:
        subprocess.run(
            [sys.executable, str(LAUNCHER), str(usage), "--", *command],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    lines = [
        json.loads(line)
        for line in out.read_text(encoding="utf-8").splitlines()
        if line.startswith("{")
    ]
    return lines, float(json.loads(usage.read_text(encoding="utf-8"))["cpu_s"])


def check_pages(script: Path) -> dict[str, Any]:
    """csrnews and plain trafilatura on every extraction page: the figures, the pages where
    trafilatura finds at least CHECK_WITH "with" snippets and csrnews none, and the CPU time
    of `csrnews extract` per page (the start-up of a one-page call subtracted)."""
    scorer = _load_scorer(script)
    data = json.loads((script.parent / "evaldata.json").read_text(encoding="utf-8"))
    cli = ROOT / ".venv" / "bin" / "csrnews"
    with tempfile.TemporaryDirectory(prefix="csrnews-quality-") as scratch:
        work = Path(scratch)
        urls, files = [], []
        for i, (url, item) in enumerate(sorted(data.items())):
            page = work / f"{i:04d}.html"
            page.write_bytes(
                gzip.decompress((script.parent / "pages" / f"{item['file']}.gz").read_bytes())
            )
            urls.append(url)
            files.append(str(page))
        ours, cpu = _measured_json_lines([str(cli), "extract", "--json", *files], work / "a.out")
        _, startup = _measured_json_lines([str(cli), "extract", "--json", files[0]], work / "b.out")
        plain, _ = _measured_json_lines(
            [sys.executable, "-c", scorer.BASELINE, *files], work / "c.out"
        )
    if len(ours) != len(files) or len(plain) != len(files):
        return {"error": f"{len(ours)} and {len(plain)} JSON lines for {len(files)} pages"}
    rows = [scorer.counts(d.get("text") or "", data[u]) for u, d in zip(urls, ours, strict=True)]
    base = [scorer.counts(d.get("text") or "", data[u]) for u, d in zip(urls, plain, strict=True)]
    lost = [
        {"url": u, "file": data[u]["file"], "csrnews": list(a), "trafilatura": list(b)}
        for u, a, b in zip(urls, rows, base, strict=True)
        if b[0] >= CHECK_WITH and a[0] == 0
    ]
    names = ("precision", "recall", "f1")
    return {
        "pages": len(files),
        "csrnews": dict(zip(names, (round(x, 4) for x in scorer.prf(rows)), strict=True)),
        "trafilatura": dict(zip(names, (round(x, 4) for x in scorer.prf(base)), strict=True)),
        "pages_lost": lost,
        "extract_cpu_s": round(cpu, 2),
        "startup_cpu_s": round(startup, 2),
        "extract_ms_per_page": round(max(cpu - startup, 0.0) / len(files) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the scoring scripts (and the check); exit 1 when one failed."""
    args = parse_args(argv)
    shared = args.shared.resolve()
    if not shared.is_dir():
        print(
            f"bench quality: skipped: no development sets at {shared} (a checkout beside ../shared)"
        )
        return 0
    if not (ROOT / ".venv" / "bin" / "csrnews").exists():
        print("bench quality: no .venv/bin/csrnews in the checkout: run `make .venv/.installed`")
        return 1
    results: dict[str, Any] = {"machine": describe_machine(), "shared": str(shared)}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"quality-{stamp}.json"
    failed = False
    for name, relative in SCRIPTS.items():
        script = shared / relative
        if not script.exists():
            print(f"{name}: skipped: no {script}")
            results[name] = {"skipped": f"no {script}"}
            continue
        print(f"{name}: running {script} …", file=sys.stderr, flush=True)
        result = run_score(script, args.timeout)
        for line in result["lines"]:
            if not line.startswith("  "):  # the summary, not a per-item listing
                print(line)
        if name == "extraction":
            result["csrnews"] = _figures(result["lines"], "csrnews extract:")
            result["trafilatura"] = _figures(result["lines"], "plain trafilatura:")
        else:
            result.update({k: float(v) for k, v in _NUMBER_RE.findall(" ".join(result["lines"]))})
        if "error" in result:
            failed = True
            print(f"{name}: score.py exited {result['returncode']}: {result['error'][-300:]}")
        results[name] = result
        path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    script = shared / SCRIPTS["extraction"]
    if not args.no_check and script.exists():
        print("check: csrnews and plain trafilatura page by page …", file=sys.stderr, flush=True)
        check = check_pages(script)
        results["check"] = check
        if "error" in check:
            failed = True
            print(f"check: {check['error']}")
        else:
            lost = check["pages_lost"]
            print(
                f"check: {len(lost)} page(s) where plain trafilatura finds >= {CHECK_WITH} "
                f"'with' snippets and csrnews none; csrnews extract "
                f"{check['extract_ms_per_page']} ms CPU per page"
            )
            for page in lost:
                print(f"  {page['file']}  csrnews {page['csrnews']}  plain {page['trafilatura']}")
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
