"""Lighthouse scores of the built site: home, a story, search with a query, a top-10 page.

    python -m bench.lighthouse                         # lighthouse on PATH (npm i -g lighthouse@12)
    python -m bench.lighthouse --lighthouse node_modules/.bin/lighthouse --min 95

Builds the sample content (tests/samples/content) with its site URL set to the address it is
served on (`csrnews serve` on a port it chose, started first; the search API and the security
headers as in production),
runs Lighthouse with Debian's Chromium (CHROME_PATH, headless, no sandbox) on each page in its
default (mobile) mode, prints the four category scores per page and writes them as JSON to
bench/results/lighthouse-<UTC time>.json. Exits 1 when a score is below --min.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.queries import listening_port

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples" / "content"
RESULTS = ROOT / "bench" / "results"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {
    "home": "/",
    "story": "/news/2024/green-supply-chain-summit-opens-in-shenzhen/",
    "search": "/search/?q=supply+chain",
    "top10": "/top10/2024/",
}


def find_lighthouse(given: str | None = None) -> str | None:
    """The lighthouse command: --lighthouse, CSRNEWS_LIGHTHOUSE, or lighthouse on PATH."""
    for candidate in (given, os.environ.get("CSRNEWS_LIGHTHOUSE"), shutil.which("lighthouse")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def _run(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "csrnews", *args], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"csrnews {args[0]} failed: {done.stderr.strip() or done.stdout}")


def score_page(lighthouse: str, url: str, chrome: str, workdir: Path) -> dict[str, int]:
    """The four category scores (0-100) of one page."""
    out = workdir / f"lh-{abs(hash(url))}.json"
    env = dict(os.environ, CHROME_PATH=chrome)
    done = subprocess.run(
        [
            lighthouse,
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless --no-sandbox --disable-gpu",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"lighthouse failed on {url}: {done.stderr.strip()[-500:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
    failed = [
        f"{a['id']} ({a['score']})"
        for a in report["audits"].values()
        if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"
    ]
    scores["_failed_audits"] = failed  # type: ignore[assignment]
    return scores


def measure(lighthouse: str, chrome: str = "/usr/bin/chromium") -> dict[str, dict[str, int]]:
    """Build, serve and score the pages; returns {page: {category: score}}."""
    with tempfile.TemporaryDirectory(prefix="csrnews-lighthouse-") as tmp:
        work = Path(tmp)
        # Served first, on a port of its own choosing (the site is read from its folder per
        # request, so it may be built after): then built with that address as its site URL.
        log = work / "serve.log"
        with log.open("wb") as err:
            server = subprocess.Popen(
                [sys.executable, "-m", "csrnews", "serve", "--output", str(work / "site"),
                 "--index", str(work / "index"), "--host", "127.0.0.1", "--port", "0",
                 "--workers", "1"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        try:
            origin = f"http://127.0.0.1:{listening_port(server, log)}"
            _run(
                "build", "--content", str(SAMPLES), "--output", str(work / "site"),
                "--index", str(work / "index"), "--site-url", origin, "--quiet",
            )  # fmt: skip
            for _ in range(100):
                try:
                    urllib.request.urlopen(origin + "/", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            return {name: score_page(lighthouse, origin + path, chrome, work)
                    for name, path in PAGES.items()}  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lighthouse", description=__doc__)
    parser.add_argument("--lighthouse", help="the lighthouse command (default: on PATH)")
    parser.add_argument("--chrome", default="/usr/bin/chromium", help="Chromium for Lighthouse")
    parser.add_argument("--min", type=int, default=95, help="the lowest score accepted")
    args = parser.parse_args(argv)
    lighthouse = find_lighthouse(args.lighthouse)
    if lighthouse is None:
        print("lighthouse not found: npm i -E lighthouse@12.2.3, then --lighthouse PATH")
        return 2
    scores = measure(lighthouse, args.chrome)
    print(f"{'page':<8}" + "".join(f"{c:>16}" for c in CATEGORIES))
    low = []
    for page, got in scores.items():
        print(f"{page:<8}" + "".join(f"{got[c]:>16}" for c in CATEGORIES))
        low += [f"{page} {c} {got[c]}" for c in CATEGORIES if got[c] < args.min]
        if got.get("_failed_audits"):
            print(f"         failed audits: {', '.join(got['_failed_audits'])}")  # type: ignore[arg-type]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (RESULTS / f"lighthouse-{stamp}.json").write_text(json.dumps(scores, indent=1))
    if low:
        print("below the minimum: " + "; ".join(low))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
