"""The targets of issue 9, checked against a run's figures."""

from __future__ import annotations

from typing import Any

TARGETS: tuple[tuple[str, str, str, float], ...] = (
    # name, how the figure is found, comparison, limit
    ("full build, ratio to plain Pelican", "build_ratio", "<=", 1.2),
    ("full build peak RSS (MB)", "build_rss", "<", 1024.0),
    ("nightly case: build plus index (s)", "nightly_s", "<=", 30.0),
    ("query p95 in-process, no cache (ms)", "query_p95", "<=", 50.0),
    ("API requests/s, 4 clients, no cache", "http_rps", ">=", 50.0),
    ("crawl pipeline pages/s", "crawl_pps", ">=", 50.0),
)


def _figure(results: dict[str, Any], key: str) -> tuple[float | None, int | None]:
    """The measured value for a target, and the corpus size (or crawl pages) it was taken at."""
    try:
        if key in ("build_ratio", "build_rss"):
            row = max(results["build"], key=lambda r: r["stories"])
            value = row["ratio"] if key == "build_ratio" else row["csrnews"]["peak_rss_mb"]
            return value, row["stories"]
        if key == "nightly_s":
            return results["nightly"]["wall_s"], results["nightly"]["stories"]
        if key == "query_p95":
            return results["query"]["in_process"]["p95_ms"], results["query"]["stories"]
        if key == "http_rps":
            return results["query"]["http"]["requests_per_s"], results["query"]["stories"]
        if key == "crawl_pps":
            # The slower of a crawl into an empty site and one into a large existing site.
            crawl = results["crawl"]
            more = crawl.get("existing") or {}
            return min(crawl["pages_per_s"], more.get("pages_per_s", float("inf"))), crawl["pages"]
    except (KeyError, TypeError, ValueError):
        pass
    return None, None


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 9 with the figure measured, where, and whether it was met.

    The targets are stated for 20k stories; a run at other sizes is checked all the same, and
    ``at`` says which size the figure is from.
    """
    rows = []
    for name, key, op, limit in TARGETS:
        value, at = _figure(results, key)
        ok = None
        if value is not None:
            ok = {"<=": value <= limit, "<": value < limit, ">=": value >= limit}[op]
        rows.append(
            {"target": name, "limit": f"{op} {limit:g}", "measured": value, "at": at, "met": ok}
        )
    return rows
