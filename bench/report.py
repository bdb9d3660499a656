"""Print a saved benchmark run as a table (plain text or Markdown), or compare two runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from csrnews.tables import text_table


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text}{unit}"


def _rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    crawl = results.get("crawl")
    if crawl:
        if "error" in crawl:
            rows.append(("crawl", "error", crawl["error"]))
        else:
            rows.append(
                (
                    f"crawl {crawl['pages']} pages (loopback, delay 0)",
                    f"{_fmt(crawl['pages_per_s'])} pages/s",
                    f"{_fmt(crawl['wall_s'], ' s')}, peak RSS "
                    f"{_fmt(crawl['peak_rss_mb'], ' MB')}, "
                    f"{crawl['stories_written']} stories written",
                )
            )
            more = crawl.get("existing")
            if more:
                rows.append(
                    (
                        f"crawl {more['pages']} pages into {more['stories_before']:,} stories",
                        f"{_fmt(more['pages_per_s'])} pages/s",
                        f"{_fmt(more['wall_s'], ' s')}, peak RSS "
                        f"{_fmt(more['peak_rss_mb'], ' MB')}, "
                        f"{more['stories_written']} stories written",
                    )
                )
    build = results.get("build")
    if isinstance(build, dict):
        rows.append(("build", "error", build["error"]))
        build = []
    for row in build or []:
        ours, plain = row["csrnews"], row["pelican"]
        rows.append(
            (
                f"csrnews build, {row['stories']:,} stories",
                f"{_fmt(ours['wall_s'], ' s')}",
                f"peak RSS {_fmt(ours['peak_rss_mb'], ' MB')}, {ours['files']:,} files",
            )
        )
        rows.append(
            (
                f"plain Pelican, {row['stories']:,} stories",
                f"{_fmt(plain['wall_s'], ' s')}",
                f"peak RSS {_fmt(plain['peak_rss_mb'], ' MB')}, {plain['files']:,} files; "
                f"ratio {_fmt(row['ratio'])}x (site only {_fmt(row.get('site_ratio'))}x)",
            )
        )
    index = results.get("index")
    if index:
        if "error" in index:
            rows.append(("index", "error", index["error"]))
        else:
            full, inc = index["full"], index["incremental"]
            rows.append(
                (
                    f"index build, {index['stories']:,} stories",
                    _fmt(full["wall_s"], " s"),
                    f"peak RSS {_fmt(full['peak_rss_mb'], ' MB')}",
                )
            )
            rows.append(
                (
                    f"index update, {sum(inc['changes'].values())} stories",
                    _fmt(inc["wall_s"], " s"),
                    f"peak RSS {_fmt(inc['peak_rss_mb'], ' MB')}",
                )
            )
            for key, what in (("static_full", "build"), ("static_incremental", "update")):
                if key in index:
                    got = index[key]
                    shards = (got.get("stats") or {}).get("built", "?")
                    rows.append(
                        (
                            f"static search {what} (Pagefind), {index['stories']:,} stories",
                            _fmt(got["wall_s"], " s"),
                            f"peak RSS {_fmt(got['peak_rss_mb'], ' MB')}, {shards} shards built",
                        )
                    )
    nightly = results.get("nightly")
    if nightly:
        if "error" in nightly:
            rows.append(("nightly", "error", nightly["error"]))
        else:
            rows.append(
                (
                    f"nightly: {nightly['stories']:,} + {nightly['changes']['new']} new, "
                    f"{nightly['changes']['changed']} changed",
                    _fmt(nightly["wall_s"], " s"),
                    f"build plus index, peak RSS {_fmt(nightly['peak_rss_mb'], ' MB')}",
                )
            )
    query = results.get("query")
    if query:
        if "error" in query:
            rows.append(("query", "error", query["error"]))
        else:
            for suffix, label in (("", "no cache"), ("_cached", "result cache")):
                inproc, http = query.get(f"in_process{suffix}"), query.get(f"http{suffix}")
                if inproc:
                    rows.append(
                        (
                            f"query in-process, {query['stories']:,} stories, {label}",
                            f"p95 {_fmt(inproc['p95_ms'], ' ms')}",
                            f"p50 {_fmt(inproc['p50_ms'], ' ms')}, p99 "
                            f"{_fmt(inproc['p99_ms'], ' ms')}, {inproc['queries']} queries",
                        )
                    )
                if http:
                    rows.append(
                        (
                            f"query HTTP, {http['clients']} clients, {label}",
                            f"{_fmt(http['requests_per_s'])} requests/s",
                            f"p50 {_fmt(http['p50_ms'], ' ms')}, p95 "
                            f"{_fmt(http['p95_ms'], ' ms')}, "
                            f"{http['requests']} requests, {http['errors']} errors",
                        )
                    )
    return rows


def format_table(results: dict[str, Any]) -> str:
    """The figures, then the targets with the measured value and whether each was met."""
    rows = _rows(results)
    lines = []
    if rows:
        lines.append(text_table(["benchmark", "figure", "detail"], rows, "lrl", max_width=None))
    targets = results.get("targets") or []
    if targets:
        met = {True: "yes", False: "NO", None: "-"}
        lines += [
            "",
            text_table(
                ["target", "limit", "measured", "at", "met"],
                [
                    [t["target"], t["limit"], _fmt(t["measured"]), _fmt(t.get("at")), met[t["met"]]]
                    for t in targets
                ],
                "lrrrl",
                max_width=None,
            ),
        ]
    machine = results.get("machine") or {}
    if machine:
        lines += [
            "",
            f"machine: {machine.get('cpu')}, {machine.get('cpus_usable')} CPUs, "
            f"{_fmt(machine.get('memory_mb'), ' MB')} RAM, Python "
            f"{machine.get('python')}, load at start {machine.get('load_average')}",
        ]
    return "\n".join(lines)


def format_markdown(results: dict[str, Any]) -> str:
    """The same figures and targets as Markdown tables (for docs/benchmarks.md)."""
    lines = ["| benchmark | figure | detail |", "| --- | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _rows(results)]
    targets = results.get("targets") or []
    if targets:
        lines += [
            "",
            "| target | limit | measured | at | met |",
            "| --- | --- | ---: | ---: | --- |",
        ]
        for t in targets:
            met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
            lines.append(
                f"| {t['target']} | {t['limit']} | {_fmt(t['measured'])} | {_fmt(t.get('at'))} "
                f"| {met} |"
            )
    return "\n".join(lines)


def key_figures(results: dict[str, Any]) -> dict[str, float]:
    """The headline figures of a run by name (for comparing two runs); missing ones left out."""
    out: dict[str, float] = {}
    crawl = results.get("crawl") or {}
    if "pages_per_s" in crawl:
        out["crawl pages/s"] = crawl["pages_per_s"]
        out["crawl peak RSS MB"] = crawl["peak_rss_mb"]
    if "pages_per_s" in (crawl.get("existing") or {}):
        out["crawl into existing pages/s"] = crawl["existing"]["pages_per_s"]
    build = results.get("build")
    for row in build if isinstance(build, list) else []:
        n = row["stories"]
        out[f"build {n} csrnews s"] = row["csrnews"]["wall_s"]
        out[f"build {n} csrnews RSS MB"] = row["csrnews"]["peak_rss_mb"]
        out[f"build {n} pelican s"] = row["pelican"]["wall_s"]
        out[f"build {n} ratio"] = row["ratio"]
    index = results.get("index") or {}
    if "full" in index:
        out[f"index {index['stories']} full s"] = index["full"]["wall_s"]
        out[f"index {index['stories']} incremental s"] = index["incremental"]["wall_s"]
    nightly = results.get("nightly") or {}
    if "wall_s" in nightly:
        out[f"nightly {nightly['stories']} s"] = nightly["wall_s"]
    query = results.get("query") or {}
    if "in_process" in query:
        for p in ("p50_ms", "p95_ms", "p99_ms"):
            out[f"query in-process {p}"] = query["in_process"][p]
        out["query HTTP requests/s"] = query["http"]["requests_per_s"]
        out["query HTTP p95_ms"] = query["http"]["p95_ms"]
    if "in_process_cached" in query:
        out["query in-process cached p95_ms"] = query["in_process_cached"]["p95_ms"]
        out["query HTTP cached requests/s"] = query["http_cached"]["requests_per_s"]
    return out


def format_comparison(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Two runs side by side: each headline figure, and the change from the first to the second."""
    a, b = key_figures(old), key_figures(new)
    names = [name for name in a if name in b] + [name for name in b if name not in a]
    rows = [["", old.get("started", "")[:16], new.get("started", "")[:16], ""]]
    for name in names:
        x, y = a.get(name), b.get(name)
        change = f"{(y - x) / x * 100:+.0f}%" if x and y is not None else ""
        rows.append([name, _fmt(x), _fmt(y), change])
    return text_table(["figure", "first", "second", "change"], rows, "lrrr", max_width=None)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.report [--markdown] RUN.json [LATER.json]`: a table, or two compared."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    markdown = "--markdown" in args
    args = [arg for arg in args if arg != "--markdown"]
    if len(args) not in (1, 2):
        print("usage: python -m bench.report [--markdown] RUN.json [LATER.json]", file=sys.stderr)
        return 2
    runs = [json.loads(Path(arg).read_text(encoding="utf-8")) for arg in args]
    if len(runs) == 2:
        print(format_comparison(*runs))
    else:
        print(format_markdown(runs[0]) if markdown else format_table(runs[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
