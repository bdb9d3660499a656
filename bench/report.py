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


def _cpu(run: dict[str, Any]) -> str:
    return f"{_fmt(run.get('cpu_s'), ' s')} CPU"


def _mem(run: dict[str, Any]) -> str:
    """The peaks of the command's processes that ran together, added up (older runs: of every
    process; before that the largest one)."""
    total = run.get("peak_rss_sum_mb")
    if total is None:
        return f"peak RSS {_fmt(run.get('peak_rss_mb'), ' MB')} (largest process)"
    if "peak_rss_all_mb" not in run:
        return f"peak RSS {_fmt(total, ' MB')} summed over {run.get('processes', '?')} processes"
    return (
        f"peak RSS {_fmt(total, ' MB')} summed over the processes alive together "
        f"({run.get('processes', '?')} processes, largest {_fmt(run.get('peak_rss_mb'), ' MB')})"
    )


def _parts(run: dict[str, Any]) -> str | None:
    """A `csrnews build`'s CPU by part (site, index, static search), when measured."""
    parts = run.get("cpu_parts")
    if not parts:
        return None
    total = run.get("cpu_s") or 0.0
    names = (
        ("site", "site"),
        ("index", "index"),
        ("static_search", "static search"),
        ("old_site_removal", "old site removal"),
        ("other", "other"),
        ("unseen", "unseen"),
    )
    shown = []
    for key, name in names:
        value = parts.get(key) or 0.0
        if value or key in ("site", "index", "static_search"):
            share = f" ({value / total:.0%})" if total else ""
            extra = (
                f", of which pagefind {_fmt(parts.get('pagefind'), ' s')}"
                if key == "static_search"
                else ""
            )
            shown.append(f"{name} {_fmt(value, ' s')}{share}{extra}")
    return "; ".join(shown)


def _pcts(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "-"
    return "/".join(_fmt(figures.get(f"p{p}_ms")) for p in (50, 95, 99)) + " ms"


def _kind(figures: dict[str, Any], kind: str) -> dict[str, Any]:
    return dict((figures.get("by_kind") or {}).get(kind) or {})


def _per_story(row: dict[str, Any], smallest: dict[str, Any] | None) -> str:
    """CPU a story, and how it grew from the smallest size (1.00x: linear)."""
    per = row["csrnews"].get("cpu_s", 0) / row["stories"] * 1000.0
    text = f"{per:.2f} ms CPU a story"
    if smallest and smallest is not row and smallest["csrnews"].get("cpu_s"):
        base = smallest["csrnews"]["cpu_s"] / smallest["stories"] * 1000.0
        text += f" ({per / base:.2f}x that at {smallest['stories']:,})"
    return text


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
                    f"{_fmt(crawl['wall_s'], ' s')}, {_cpu(crawl)}, {_mem(crawl)}, "
                    f"{crawl['stories_written']} stories written",
                )
            )
            more = crawl.get("existing")
            if more:
                rows.append(
                    (
                        f"crawl {more['pages']} pages into {more['stories_before']:,} stories",
                        f"{_fmt(more['pages_per_s'])} pages/s",
                        f"{_fmt(more['wall_s'], ' s')}, {_cpu(more)}, {_mem(more)}, "
                        f"{more['stories_written']} stories written",
                    )
                )
    build = results.get("build")
    if isinstance(build, dict):
        rows.append(("build", "error", build["error"]))
        build = []
    smallest = min(build or [], key=lambda r: r["stories"], default=None)
    for row in build or []:
        ours, plain = row["csrnews"], row["pelican"]
        rows.append(
            (
                f"csrnews build, {row['stories']:,} stories",
                f"{_fmt(ours['wall_s'], ' s')}",
                f"{_cpu(ours)}, {_mem(ours)}, {ours['files']:,} files; {_per_story(row, smallest)}",
            )
        )
        split = _parts(ours)
        if split:
            rows.append((f"  CPU by part, {row['stories']:,} stories", _cpu(ours), split))
        rows.append(
            (
                f"plain Pelican, {row['stories']:,} stories",
                f"{_fmt(plain['wall_s'], ' s')}",
                f"{_cpu(plain)}, {_mem(plain)}, {plain['files']:,} files; "
                f"csrnews / Pelican: CPU {_fmt(row.get('cpu_ratio'))}x, wall "
                f"{_fmt(row['ratio'])}x (site only {_fmt(row.get('site_ratio'))}x)",
            )
        )
        core = row.get("site_and_index")
        if core:
            rows.append(
                (
                    f"  site and index only (--no-static-search), {row['stories']:,} stories",
                    f"{_fmt(core['wall_s'], ' s')}",
                    f"{_cpu(core)}, {_mem(core)}; csrnews / Pelican: CPU "
                    f"{_fmt(core.get('cpu_ratio'))}x",
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
                    f"{_cpu(full)}, {_mem(full)}",
                )
            )
            rows.append(
                (
                    f"index update, {sum(inc['changes'].values())} stories",
                    _fmt(inc["wall_s"], " s"),
                    f"{_cpu(inc)}, {_mem(inc)}",
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
                            f"{_cpu(got)}, {_mem(got)}, {shards} shards built",
                        )
                    )
    nightly = results.get("nightly")
    if nightly:
        if "error" in nightly:
            rows.append(("nightly", "error", nightly["error"]))
        else:
            fold = nightly.get("fold_night")
            for label, night in (
                ("second night", nightly),
                ("first night", nightly.get("first_night")),
                ("third night, page cache dropped", nightly.get("cold_night")),
                (_heaviest_label(fold), fold),
            ):
                if not night:
                    continue
                if "skipped" in night:
                    rows.append((f"nightly, {label}", "skipped", night["skipped"]))
                    continue
                indexed = ""
                if "indexed" in night:
                    indexed = (
                        f", static search {_fmt(night['indexed'])} stories indexed"
                        f"{_recent(night)}, {_fmt(night.get('folded'))} shard(s) built again"
                    )
                rows.append(
                    (
                        f"nightly, {label}: {night['stories']:,} + {night['changes']['new']} "
                        f"new, {night['changes']['changed']} changed "
                        f"({night.get('new_dates', 'spread')})",
                        _fmt(night["wall_s"], " s"),
                        f"build plus index, {_cpu(night)}, {_mem(night)}, "
                        f"{_fmt(night.get('rendered'))} pages rendered, "
                        f"{_fmt(night.get('unchanged'))} kept{indexed}",
                    )
                )
                split = _parts(night)
                if split:
                    rows.append((f"  {label}: CPU by part", _cpu(night), split))
            extra = nightly.get("extra_nights") or []
            if extra:
                rows.append(_extra_nights_row(extra))
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
                            f"{_fmt(inproc['p99_ms'], ' ms')}, {inproc['queries']} queries; "
                            f"CPU p50/p95/p99 {_pcts(inproc.get('cpu'))}; phrase p95 "
                            f"{_fmt(_kind(inproc, 'phrase').get('p95_ms'), ' ms')}",
                        )
                    )
                if http:
                    rows.append(
                        (
                            f"query HTTP, {http['clients']} clients, {label}",
                            f"{_fmt(http['requests_per_s'])} requests/s",
                            f"p50 {_fmt(http['p50_ms'], ' ms')}, p95 "
                            f"{_fmt(http['p95_ms'], ' ms')}, "
                            f"{http['requests']} requests, {http['errors']} errors; server CPU "
                            f"{_fmt(http.get('server_cpu_ms_per_request'), ' ms')} a request",
                        )
                    )
    return rows


def _recent(night: dict[str, Any]) -> str:
    """The stories of a night's recent static search shard, where the run recorded them."""
    return f" ({_fmt(night['recent'])} in the recent shard)" if "recent" in night else ""


def _heaviest_label(night: dict[str, Any] | None) -> str:
    """The nightly's row for ``fold_night``: the heaviest night after the third (in runs
    before ``outside_recent`` was recorded, the first one that built a shard again)."""
    if not night or "night" not in night:
        return "the heaviest night after the third"
    if "outside_recent" not in night:
        return f"night {night['night']}, a static search shard built again"
    under = "" if night.get("reached_budget") else ", not reached"
    return (
        f"heaviest night, night {night['night']} ({_fmt(night['outside_recent'])} stories "
        f"built outside the recent shard, budget {_fmt(night.get('budget'))}{under})"
    )


def _extra_nights_row(extra: list[dict[str, Any]]) -> tuple[str, str, str]:
    """The nights run after the third to find the heaviest: their spread, night by night."""
    walls = [n["wall_s"] for n in extra]
    each = "; ".join(
        f"{n['night']}: {_fmt(n['wall_s'], ' s')}, {_fmt(n['cpu_s'], ' s')} CPU, "
        f"{_fmt(n.get('indexed'))} indexed"
        + (f" ({_fmt(n['recent'])} recent)" if "recent" in n else "")
        + f", {_fmt(n.get('folded'))} built again"
        for n in extra
    )
    first, last = extra[0]["night"], extra[-1]["night"]
    nights = f"nights {first}–{last}" if len(extra) > 1 else f"night {first}"
    return (
        f"nightly, extra {nights} (until one reaches the static search's nightly budget)",
        f"{_fmt(min(walls), ' s')}–{_fmt(max(walls), ' s')}",
        each,
    )


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
        out[f"build {n} csrnews CPU s"] = row["csrnews"].get("cpu_s", 0.0)
        out[f"build {n} pelican CPU s"] = row["pelican"].get("cpu_s", 0.0)
        out[f"build {n} csrnews RSS summed MB"] = row["csrnews"].get("peak_rss_sum_mb", 0.0)
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
        out[f"nightly {nightly['stories']} CPU s"] = nightly.get("cpu_s", 0.0)
        if nightly.get("rendered") is not None:
            out[f"nightly {nightly['stories']} pages rendered"] = nightly["rendered"]
        cold = nightly.get("cold_night") or {}
        if "wall_s" in cold:
            out[f"nightly {cold['stories']} cold cache s"] = cold["wall_s"]
        fold = nightly.get("fold_night") or {}
        if "wall_s" in fold:
            out[f"nightly {fold['stories']} heaviest night s"] = fold["wall_s"]
            out[f"nightly {fold['stories']} heaviest night CPU s"] = fold.get("cpu_s", 0.0)
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
