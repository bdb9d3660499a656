"""Lighthouse on home, a story, search with a query and a top-10 page: each category >= 95.

Runs only where Lighthouse is installed (CSRNEWS_LIGHTHOUSE, or `lighthouse` on PATH; e.g.
`npm i -E lighthouse@12.2.3`): it takes about a minute. `.ci/run` installs it with npm where
npm is there. The figures are in docs/benchmarks.md; `python -m bench.lighthouse` prints them.
"""

from __future__ import annotations

import pytest

from bench.lighthouse import CATEGORIES, find_lighthouse, measure

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_every_page_scores_at_least_95(chromium_path: str) -> None:
    lighthouse = find_lighthouse()
    if lighthouse is None:
        pytest.skip("Lighthouse not installed (npm i -E lighthouse@12.2.3; CSRNEWS_LIGHTHOUSE)")
    scores = measure(lighthouse, chromium_path)
    assert set(scores) == {"home", "story", "search", "top10"}
    low = {(page, c): got[c] for page, got in scores.items() for c in CATEGORIES if got[c] < 95}
    assert not low, (low, {p: s.get("_failed_audits") for p, s in scores.items()})
