"""The benchmark sections (crawl, build, nightly, index, query) and the results they record."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bench import corpus
from bench.measure import ROOT, RunResult, describe_machine, run_measured
from bench.publisher import write_publisher_stories
from bench.queries import http_load, listening_port, wait_until_up
from bench.rusage import tree_cpu_seconds
from bench.targets import check_targets

logger = logging.getLogger(__name__)

_SITE_SECONDS_RE = re.compile(r" in ([0-9.]+) s; search index")
# The static search's part of the build's line, when a previous bundle was kept (since
# 215b7a9): "(B built, R kept; [R2 in the recent shard, S stale entries hidden; ]X stories
# indexed[, F shard(s) built again])"
_INDEXED_RE = re.compile(
    r"static search: [^\n]*?; ([0-9]+) stor(?:y|ies) indexed(?:, ([0-9]+) shards? built again)?\)"
)
_RECENT_RE = re.compile(r"; ([0-9]+) in the recent shard\b")
# A night's static search builds at most NIGHT_SHARE of the shard target in shards other than
# the recent one (search/staticsearch.py's NIGHT_SHARE, read from there when it has one); the
# nights after the third stop at one that builds HEAVY_SHARE of that budget.
NIGHT_SHARE = 0.5
HEAVY_SHARE = 0.9
SHARD_TARGET_ENV = "CSRNEWS_SEARCH_SHARD_TARGET"  # `csrnews build --search-shard-target`
SECTIONS: tuple[str, ...] = ("crawl", "build", "index", "nightly", "query")  # in run order
NIGHTLY_NEW, NIGHTLY_CHANGED = 50, 20
MAIN_SIZE = 20000
PELICAN_SETTINGS = """\
# Plain Pelican, default theme and settings: the baseline `csrnews build` is compared with.
SITENAME = "Plain Pelican baseline"
SITEURL = ""
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
"""


@dataclass
class Options:
    """What to run: sizes, the crawl size, query rounds and limits, where to work."""

    sizes: list[int]
    workdir: Path
    results_dir: Path
    crawl_pages: int = 1000
    crawl_existing: int = 0
    query_rounds: int = 20
    query_seconds: float = 120.0
    http_requests: int = 2000
    http_seconds: float = 30.0
    sections: tuple[str, ...] = SECTIONS
    seed: int = corpus.SEED
    nightly_dates: str = "recent"
    main_size: int | None = None  # where index, nightly and query run (default: 20k or largest)
    quick: bool = False
    keep: bool = False
    fold_nights: int = 20  # nights after the third to find the heaviest (see Bench.nightly)
    progress: Callable[[str], None] = field(default=lambda message: None)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "csrnews", *args]


def _last_json(result: RunResult) -> dict[str, Any]:
    for line in reversed(result.output_tail.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON in the output of {' '.join(result.command)}")


def _settle() -> None:
    """Write what earlier steps left in the page cache (a 20k site is 51,000 files; removing
    one is as much again) before a measured build, so their writeback is not its wall time."""
    if hasattr(os, "sync"):
        os.sync()


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def drop_page_cache(control: Path = DROP_CACHES) -> str:
    """Write back and drop the page cache and the file system's cached folders and inodes
    (Linux, as root); returns why not when it cannot, else an empty string."""
    _settle()
    try:
        control.write_text("3\n", encoding="ascii")
    except OSError as exc:
        return f"cannot drop the page cache: {exc.strerror or exc}"
    return ""


def _figures(result: RunResult, *, tail: bool = True) -> dict[str, Any]:
    data = result.as_dict()
    data.pop("command")
    if not tail:
        data.pop("output_tail")
    return data


# What each process of `csrnews build` runs (bench/rusage.py's labels), by part of the build.
BUILD_PARTS: dict[str, str] = {
    "csrnews": "site",  # the build command itself: Pelican runs in it
    "csrnews.nightly.indexstep": "index",
    "csrnews.search.staticsearch": "static_search",
    "pagefind_extended": "static_search",  # the Pagefind binary the static search starts
    "pagefind": "static_search",
    "sh": "old_site_removal",  # the detached `rm -rf` of the site it replaced
    "rm": "old_site_removal",
}


def cpu_parts(result: RunResult) -> dict[str, float]:
    """A `csrnews build`'s CPU time (user + system) by part: site, index, static search (of
    which the pagefind binary), the old site's removal, other processes, and what no reading
    saw; the parts add up to the whole."""
    parts: dict[str, float] = {}
    for label, part in result.parts.items():
        name = BUILD_PARTS.get(label, "other")
        parts[name] = parts.get(name, 0.0) + part["cpu_s"]
    parts["unseen"] = result.unseen_cpu_s
    out = {
        name: round(parts.get(name, 0.0), 2)
        for name in (*dict.fromkeys(BUILD_PARTS.values()), "other", "unseen")
    }
    out["pagefind"] = round(
        sum(
            result.parts.get(label, {}).get("cpu_s", 0.0)
            for label in ("pagefind_extended", "pagefind")
        ),
        2,
    )
    return out


def _site_seconds(result: RunResult) -> float | None:
    """The site part of a `csrnews build`, from its summary line ("... in 12.3 s; search ...")."""
    match = _SITE_SECONDS_RE.search(result.output_tail)
    return float(match.group(1)) if match else None


class SearchCounts(NamedTuple):
    """What a build's static search gave Pagefind (``indexed``), the previous bundle's shards
    it built again (``folded``) and the stories of its recent shard (``recent``, 0 when the
    line has no recent part); each None where the line does not say."""

    indexed: int | None
    folded: int | None
    recent: int | None


def static_search_counts(output: str) -> SearchCounts:
    """The static search's counts from a build's output line; all None where the line does not
    say (no previous bundle kept, or no static search)."""
    matches = list(_INDEXED_RE.finditer(output))
    if not matches:
        return SearchCounts(None, None, None)
    last = matches[-1]
    recent = _RECENT_RE.search(last.group(0))
    return SearchCounts(
        int(last.group(1)), int(last.group(2) or 0), int(recent.group(1)) if recent else 0
    )


def built_outside_recent(night: Mapping[str, Any]) -> int:
    """The stories a night's static search indexed in shards other than the recent one (what
    its nightly budget bounds): ``indexed`` less ``recent``, 0 where the line did not say."""
    return max(0, (night.get("indexed") or 0) - (night.get("recent") or 0))


def search_shard_target(environ: Mapping[str, str] = os.environ) -> int:
    """The static search's shard target of the bench's builds: they pass no
    ``--search-shard-target``, so the build's default unless the bench's environment, which
    they inherit, sets ``CSRNEWS_SEARCH_SHARD_TARGET``."""
    from csrnews.search.staticsearch import SHARD_TARGET

    return int(environ.get(SHARD_TARGET_ENV) or SHARD_TARGET)


def night_budget(environ: Mapping[str, str] = os.environ) -> int:
    """The stories a night's static search may build outside its recent shard: NIGHT_SHARE of
    the shard target (1000 of the default 2000)."""
    from csrnews.search import staticsearch

    share = float(getattr(staticsearch, "NIGHT_SHARE", NIGHT_SHARE))
    return int(search_shard_target(environ) * share)


def _fmt_count(value: int | None) -> str:
    return "?" if value is None else str(value)


def _count_files(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0


class Bench:
    """One benchmark run: a work folder, the figures so far, saved after every section."""

    def __init__(self, options: Options) -> None:
        self.o = options
        self.started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        self.results_path = options.results_dir / f"{stamp}{'-quick' if options.quick else ''}.json"
        self.results: dict[str, Any] = {
            "started": self.started.isoformat(),
            "finished": None,
            "machine": describe_machine(),
            "options": {
                "sizes": options.sizes,
                "crawl_pages": options.crawl_pages,
                "crawl_existing": options.crawl_existing,
                "query_rounds": options.query_rounds,
                "query_seconds": options.query_seconds,
                "http_requests": options.http_requests,
                "http_seconds": options.http_seconds,
                "sections": list(options.sections),
                "seed": options.seed,
                "nightly_dates": options.nightly_dates,
                "main_size": self.main_size(),
                "quick": options.quick,
                "fold_nights": options.fold_nights,
                "search_shard_target": search_shard_target(),
            },
        }
        self.say = options.progress
        self._built: set[int] = set()
        self._checked: set[int] = set()  # sizes whose corpus this run has looked at

    # -- helpers ------------------------------------------------------------------------------

    def save(self) -> Path:
        """Write the results so far (a run stopped half-way keeps what it measured)."""
        self.o.results_dir.mkdir(parents=True, exist_ok=True)
        self.results["targets"] = check_targets(self.results)
        tmp = self.results_path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(self.results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        tmp.replace(self.results_path)
        return self.results_path

    def _dir(self, *parts: str) -> Path:
        return self.o.workdir.joinpath(*parts)

    def content(self, size: int) -> Path:
        """The corpus of ``size`` stories (generated on first use).

        A corpus an earlier run of the same work folder changed with its nights is no longer
        the generated one (and its nights are marked as applied, so they would change
        nothing): it is generated again.
        """
        folder = self._dir(f"corpus-{size}", "content")
        if size not in self._checked:
            self._checked.add(size)
            if self._dir(f"corpus-{size}", "nightly-applied").exists():
                self.say(f"corpus: {size} stories changed by an earlier run; generating it again")
                shutil.rmtree(self._dir(f"corpus-{size}"))
        if not (folder / "news").is_dir():
            started = time.perf_counter()
            corpus.generate_corpus(folder, size, seed=self.o.seed)
            seconds = time.perf_counter() - started
            self.results.setdefault("corpus", {})[str(size)] = {
                "stories": size,
                "seconds": round(seconds, 2),
                "megabytes": round(sum(p.stat().st_size for p in folder.rglob("*.md")) / 2**20, 2),
            }
            self.say(f"corpus: {size} stories in {seconds:.1f} s")
        return folder

    def csrnews_build(
        self, size: int, *options: str, prefix: str = "", settle: bool = True
    ) -> tuple[RunResult, dict[str, Any]]:
        """`csrnews build` (site, index and static search) of the corpus of ``size`` stories,
        and its report; ``options`` added to its command line, ``prefix`` to the names of its
        output, index, cache and report (another build beside the main one)."""
        report = self._dir(f"corpus-{size}", f"{prefix}build-report.json")
        report.unlink(missing_ok=True)
        if settle:
            _settle()
        result = run_measured(
            _cli(
                "build",
                "--quiet",
                "--content",
                str(self.content(size)),
                "--output",
                str(self._dir(f"corpus-{size}", f"{prefix}output")),
                "--index",
                str(self._dir(f"corpus-{size}", f"{prefix}index")),
                "--report",
                str(report),
                *options,
            ),
            cwd=self.o.workdir,
        )
        if not prefix:
            self._built.add(size)
        try:
            done = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            done = {}
        return result, {k: done.get(k) for k in ("rendered", "unchanged", "files")}

    def _cold(self, size: int) -> None:
        """Before a cold build: no earlier site, index or parsed-story cache to reuse."""
        for leftover in ("output", "index", ".pelican-cache"):
            shutil.rmtree(self._dir(f"corpus-{size}", leftover), ignore_errors=True)

    def main_size(self) -> int:
        """The size index, nightly and query run at: ``main_size``, else 20k if built, else the
        largest (a 40k build shows how costs grow; the targets are stated at 20k)."""
        if self.o.main_size:
            return self.o.main_size
        return MAIN_SIZE if MAIN_SIZE in self.o.sizes else max(self.o.sizes)

    # -- sections -----------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run the chosen sections in order, saving the figures after each."""
        self.o.workdir.mkdir(parents=True, exist_ok=True)
        big = self.main_size()
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("crawl", self.crawl),
            ("build", self.build),
            ("index", lambda: self.index_full(big)),
            ("nightly", lambda: self.nightly(big)),
            ("query", lambda: self.query(big)),
        ]
        for name, step in steps:
            if name not in self.o.sections:
                continue
            self.say(f"== {name}")
            try:
                self.results[name] = step()
            except Exception as exc:
                logger.exception("section %s failed", name)
                self.results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            self.save()
        self.results["finished"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.save()
        if not self.o.keep:
            shutil.rmtree(self.o.workdir, ignore_errors=True)
        return self.results

    def crawl(self) -> dict[str, Any]:
        """Crawl M synthetic pages on the loopback publisher, politeness delays off.

        From an empty state; then, when ``Options.crawl_existing`` is N > 0, the same M pages
        again into a content folder
        that already holds N corpus stories, with their signatures in the crawl state as a
        previous crawl would have left them (figures under ``existing``).
        """
        from csrnews.crawler.run import index_existing

        from csrnews.demo.server import render_sources, start_demo_server

        root = self._dir("crawl")
        shutil.rmtree(root, ignore_errors=True)
        pages = self.o.crawl_pages
        existing = self.o.crawl_existing
        write_publisher_stories(root / "stories", pages, seed=self.o.seed)
        server = start_demo_server(stories_dir=root / "stories", slow_seconds=0)

        def measure(content: Path, state: Path) -> dict[str, Any]:
            before = _count_files(content / "news")
            first = len(server.request_log)
            publisher_cpu = time.process_time()
            result = run_measured(
                _cli(
                    "crawl",
                    "--quiet",
                    "--sources",
                    str(sources),
                    "--content",
                    str(content),
                    "--state",
                    str(state),
                    "--delay",
                    "0",
                ),
                cwd=root,
            )
            publisher_cpu = time.process_time() - publisher_cpu
            log = server.request_log[first:]
            stories = _count_files(content / "news") - before
            story_pages = [r for r in log if r.status == 200 and "/bench-" in r.path]
            window = (log[-1].time - log[0].time) if len(log) > 1 else result.wall_s
            return {
                "pages": pages,
                "requests": len(log),
                "story_pages_fetched": len(story_pages),
                "stories_written": stories,
                **_figures(result),
                "pages_per_s": round(stories / result.wall_s, 1),
                "fetch_window_s": round(window, 2),
                "pages_per_s_in_window": round(len(story_pages) / window, 1) if window else None,
                "publisher_cpu_s": round(publisher_cpu, 2),  # the loopback server's share of CPU
            }

        try:
            sources = root / "sources.yaml"
            sources.write_text(render_sources(server.url), encoding="utf-8")
            out = measure(root / "content", root / "state")
            self.say(
                f"crawl: {out['stories_written']} stories from {pages} pages in "
                f"{out['wall_s']:.1f} s ({out['pages_per_s']} pages/s, {out['cpu_s']} s CPU), "
                f"peak RSS {out['peak_rss_mb']:.0f} MB"
            )
            if existing > 0:
                content, state = root / "existing" / "content", root / "existing" / "state"
                started = time.perf_counter()
                corpus.generate_corpus(content, existing, seed=self.o.seed)
                indexed = index_existing(content, state)
                prepared = time.perf_counter() - started
                self.say(f"crawl: {indexed} existing stories prepared in {prepared:.1f} s")
                more = measure(content, state)
                out["existing"] = {
                    "stories_before": existing,
                    "signatures_before": indexed,
                    "prepare_s": round(prepared, 1),
                    **more,
                }
                self.say(
                    f"crawl into {existing} stories: {more['stories_written']} stories from "
                    f"{pages} pages in {more['wall_s']:.1f} s ({more['pages_per_s']} pages/s, "
                    f"{more['cpu_s']} s CPU), peak RSS {more['peak_rss_mb']:.0f} MB"
                )
        finally:
            server.stop()
        if not self.o.keep:
            shutil.rmtree(root, ignore_errors=True)
        return out

    def build(self) -> list[dict[str, Any]]:
        """For each size: `csrnews build` beside plain Pelican (default theme) on the same files."""
        rows = []
        settings = self._dir("pelican-baseline.py")
        settings.write_text(PELICAN_SETTINGS, encoding="utf-8")
        for size in sorted(self.o.sizes):
            content = self.content(size)
            # The site and index alone first: the main build, Pelican and the nightly then run
            # in the order they always did (a nightly right after two more site builds found
            # the site it reuses out of the page cache: 1-2 s more wall).
            core = self._site_and_index(size) if size == self.main_size() else None
            self._cold(size)
            ours, _report = self.csrnews_build(size)
            self.say(
                f"build {size}: csrnews build {ours.wall_s:.1f} s, {ours.cpu_s:.1f} s CPU, "
                f"peak RSS {ours.peak_rss_sum_mb:.0f} MB summed over {ours.processes} processes"
            )
            site_s = _site_seconds(ours)
            plain_out = self._dir(f"corpus-{size}", "pelican-output")
            shutil.rmtree(plain_out, ignore_errors=True)
            _settle()
            plain = run_measured(
                [
                    sys.executable,
                    "-m",
                    "pelican",
                    str(content),
                    "-o",
                    str(plain_out),
                    "-s",
                    str(settings),
                    "-q",
                ],
                cwd=self.o.workdir,
            )
            self.say(
                f"build {size}: plain pelican {plain.wall_s:.1f} s, {plain.cpu_s:.1f} s CPU, "
                f"peak RSS {plain.peak_rss_sum_mb:.0f} MB"
            )
            rows.append(
                {
                    "stories": size,
                    "csrnews": {
                        **_figures(ours),
                        "cpu_parts": cpu_parts(ours),
                        "site_s": site_s,
                        "files": _count_files(self._dir(f"corpus-{size}", "output")),
                    },
                    "pelican": {**_figures(plain), "files": _count_files(plain_out)},
                    "ratio": round(ours.wall_s / plain.wall_s, 2),
                    # CPU (user + system, both processes of csrnews build): what a one-core or
                    # busy machine pays, whatever the load of the run
                    "cpu_ratio": round(ours.cpu_s / plain.cpu_s, 2) if plain.cpu_s else None,
                    # the site part alone (csrnews's own timing, without start-up and index)
                    "site_ratio": round(site_s / plain.wall_s, 2) if site_s else None,
                }
            )
            shutil.rmtree(plain_out, ignore_errors=True)
            if core is not None:
                core["cpu_ratio"] = round(core["cpu_s"] / plain.cpu_s, 2) if plain.cpu_s else None
                rows[-1]["site_and_index"] = core
            if size != self.main_size() and not self.o.keep:
                shutil.rmtree(self._dir(f"corpus-{size}"), ignore_errors=True)
        return rows

    def _site_and_index(self, size: int) -> dict[str, Any]:
        """The full build as issue 20 measured it (the site and the Whoosh index, without the
        static search of issue 16): `csrnews build --no-static-search`, cold, beside the main
        build's files; its figures (the caller adds the CPU ratio to plain Pelican's)."""
        prefix = "no-static-"
        cache = self._dir(f"corpus-{size}", prefix + "cache")  # not the main build's
        for leftover in ("output", "index", "cache"):
            shutil.rmtree(self._dir(f"corpus-{size}", prefix + leftover), ignore_errors=True)
        ours, _report = self.csrnews_build(
            size, "--no-static-search", "--cache-dir", str(cache), prefix=prefix
        )
        self.say(
            f"build {size} without the static search: {ours.wall_s:.1f} s, {ours.cpu_s:.1f} s "
            f"CPU, peak RSS {ours.peak_rss_sum_mb:.0f} MB summed"
        )
        for leftover in ("output", "index", "cache", "build-report.json"):
            target = self._dir(f"corpus-{size}", prefix + leftover)
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        return {**_figures(ours), "cpu_parts": cpu_parts(ours)}

    def _changes(self, size: int, night: int = 1) -> dict[str, int]:
        """Apply night ``night``'s changes (50 new, 20 changed) to the corpus, once.

        Night 1's marker is ``nightly-applied`` (the corpus is no longer the generated one);
        each later night adds its new stories after the ones before it.
        """
        name = "nightly-applied" if night == 1 else f"nightly-applied-{night}"
        marker = self._dir(f"corpus-{size}", name)
        if not marker.exists():
            added, edited = corpus.nightly_changes(
                self.content(size),
                size + (night - 1) * NIGHTLY_NEW,
                new=NIGHTLY_NEW,
                changed=NIGHTLY_CHANGED,
                seed=self.o.seed,
                dates=self.o.nightly_dates,
                night=night,
            )
            marker.write_text(f"{len(added)} {len(edited)}\n", encoding="utf-8")
        new, changed = (int(x) for x in marker.read_text(encoding="utf-8").split())
        return {"new": new, "changed": changed}

    def index_full(self, size: int) -> dict[str, Any]:
        """A full index build at the largest size, then an incremental update of 70 stories."""
        content = self.content(size)  # generated again if an earlier run's nights changed it
        index = self._dir(f"corpus-{size}", "index-bench")
        shutil.rmtree(index, ignore_errors=True)
        if self._dir(f"corpus-{size}", "nightly-applied").exists():
            raise RuntimeError("the corpus was changed already; run index before nightly")
        worker = [
            sys.executable,
            "-m",
            "bench.worker",
            "index",
            "--content",
            str(content),
            "--index",
            str(index),
        ]
        full = run_measured(worker, cwd=ROOT)
        full_stats = _last_json(full)
        self.say(
            f"index {size}: full build {full.wall_s:.1f} s, peak RSS {full.peak_rss_mb:.0f} MB"
        )
        # The static search (Pagefind) of the same stories, as `csrnews build` makes it.
        static_site = self._dir(f"corpus-{size}", "static-bench")
        shutil.rmtree(static_site, ignore_errors=True)
        static_site.mkdir(parents=True)
        # with a cache folder, as `csrnews build` runs it (story checks and fragments kept)
        static = [sys.executable, "-m", "csrnews.search.staticsearch", str(content)]
        static_cache = ["--cache-dir", str(self._dir(f"corpus-{size}", "static-bench-cache"))]
        shutil.rmtree(static_cache[1], ignore_errors=True)
        static_full = run_measured([*static, str(static_site), *static_cache], cwd=ROOT)
        self.say(
            f"static search {size}: full build {static_full.wall_s:.1f} s, "
            f"peak RSS {static_full.peak_rss_mb:.0f} MB"
        )
        changes = self._changes(size)
        incremental = run_measured(worker, cwd=ROOT)
        inc_stats = _last_json(incremental)
        static_inc = run_measured([*static, str(static_site), *static_cache], cwd=ROOT)
        shutil.rmtree(static_site, ignore_errors=True)
        shutil.rmtree(static_cache[1], ignore_errors=True)
        self.say(
            f"index {size}: incremental ({sum(changes.values())} stories) "
            f"{incremental.wall_s:.1f} s"
        )
        if not self.o.keep:
            shutil.rmtree(index, ignore_errors=True)
        return {
            "stories": size,
            "full": {**_figures(full, tail=False), "stats": full_stats},
            "incremental": {
                **_figures(incremental, tail=False),
                "changes": changes,
                "stats": inc_stats,
            },
            "static_full": {**_figures(static_full, tail=False), "stats": _last_json(static_full)},
            "static_incremental": {
                **_figures(static_inc, tail=False),
                "stats": _last_json(static_inc),
            },
        }

    def nightly(self, size: int) -> dict[str, Any]:
        """The nightly case: 50 new and 20 changed stories, then `csrnews build` again.

        Measured on the second night after the full build, the state every night after the
        first is in (a site built from a previous site, which was itself built from one);
        the first night is measured too (``first_night``), and a third one after dropping the
        page cache (``cold_night``: what a nightly run a day after the last build reads from
        the disk; ``{"skipped": why}`` where the cache cannot be dropped). Then more nights
        like the second (``_heaviest_night``), each summarised in ``extra_nights``, to find the
        one whose static search builds most: ``fold_night`` (the key kept from when it was the
        first night that built a shard again). Each night records its number and what its
        static search gave Pagefind (``indexed``), built again (``folded``) and held in its
        recent shard (``recent``), from the build's line.
        """
        if size not in self._built:
            # a corpus an earlier run's nights changed is generated again, and built cold here:
            # the nights are measured on what this run built, never on an earlier run's site
            self.content(size)
            if self._dir(f"corpus-{size}", "nightly-applied").exists():  # this run's index
                raise RuntimeError("no build before the nightly changes to compare with")
            self.say(f"nightly {size}: first a full build to start from")
            self._cold(size)
            self.csrnews_build(size)
        nights = []
        for night in (1, 2, 3):
            changes = self._changes(size, night)
            if night == 3:
                # a night as production has it: the last build a day ago, its files no longer
                # in the page cache (measured where the cache can be dropped: as root)
                # not in a quick run (a check of the harness): it would slow the whole machine
                cold = "not in a quick run" if self.o.quick else drop_page_cache()
                if cold:
                    self.say(f"nightly {size}, night 3 with a cold page cache: skipped ({cold})")
                    nights.append({"skipped": cold})
                    break
            nights.append(self._night(size, night, changes, settle=night != 3))
        # the nights after these start with the first one not built (the third, its changes
        # made already, when the cold night was skipped)
        done = sum("skipped" not in night for night in nights)
        fold, extra = self._heaviest_night(size, done + 1)
        return {
            **nights[1],
            "first_night": nights[0],
            "cold_night": nights[2],
            "fold_night": fold,
            "extra_nights": extra,
        }

    def _night(
        self, size: int, night: int, changes: dict[str, int], *, settle: bool = True
    ) -> dict[str, Any]:
        """One night's `csrnews build`, its changes (``_changes``) made: its figures, its
        number and what its static search indexed, built again and held in its recent shard
        (from the build's line)."""
        result, report = self.csrnews_build(size, settle=settle)
        indexed, folded, recent = static_search_counts(result.output_tail)
        self.say(
            f"nightly {size}, night {night}{'' if settle else ' (page cache dropped)'}: "
            f"build {result.wall_s:.1f} s, "
            f"{result.cpu_s:.1f} s CPU, {report.get('rendered')} pages rendered, "
            f"peak RSS {result.peak_rss_sum_mb:.0f} MB summed, static search: "
            f"{_fmt_count(indexed)} stories indexed ({_fmt_count(recent)} in the recent shard), "
            f"{_fmt_count(folded)} shard(s) built again"
        )
        return {
            "stories": size,
            "changes": changes,
            "new_dates": self.o.nightly_dates,
            **_figures(result),
            "cpu_parts": cpu_parts(result),
            "site_s": _site_seconds(result),
            **report,
            "night": night,
            "indexed": indexed,
            "folded": folded,
            "recent": recent,
        }

    def _heaviest_night(self, size: int, first: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Nights from ``first`` on, as warm as the second, until one whose static search
        builds at least HEAVY_SHARE of its nightly budget outside the recent shard
        (``built_outside_recent``, ``night_budget``), ``Options.fold_nights`` at most: the
        night that built most (the first of equals; ``outside_recent``, the ``budget`` and
        whether it ``reached_budget``), and a summary of each night."""
        limit = self.o.fold_nights
        if limit <= 0:
            return {"skipped": "--fold-nights 0"}, []
        budget = night_budget()
        extra: list[dict[str, Any]] = []
        heaviest: dict[str, Any] = {}
        for night in range(first, first + limit):
            record = self._night(size, night, self._changes(size, night))
            keys = ("night", "wall_s", "cpu_s", "indexed", "folded", "recent")
            extra.append({key: record[key] for key in keys})
            if not heaviest or built_outside_recent(record) > built_outside_recent(heaviest):
                heaviest = record
            if built_outside_recent(record) >= HEAVY_SHARE * budget:
                break
        built = built_outside_recent(heaviest)
        reached = built >= HEAVY_SHARE * budget
        self.say(
            f"nightly {size}: the heaviest of nights {first}–{extra[-1]['night']} is night "
            f"{heaviest['night']}, {built} stories built outside the recent shard "
            f"({'at least' if reached else 'under'} {HEAVY_SHARE:.0%} of the night's budget, "
            f"{budget})"
        )
        return {
            **heaviest,
            "outside_recent": built,
            "budget": budget,
            "reached_budget": reached,
        }, extra

    def query(self, size: int) -> dict[str, Any]:
        """Query latency over the fixed mix, in-process and through `csrnews serve`."""
        index = self._dir(f"corpus-{size}", "index")
        output = self._dir(f"corpus-{size}", "output")
        if size not in self._built:
            run_measured(
                [
                    sys.executable,
                    "-m",
                    "bench.worker",
                    "index",
                    "--content",
                    str(self.content(size)),
                    "--index",
                    str(index),
                ],
                cwd=ROOT,
            )
            output.mkdir(parents=True, exist_ok=True)

        def in_process(cache: bool) -> dict[str, Any]:
            command = [
                sys.executable,
                "-m",
                "bench.worker",
                "query",
                "--index",
                str(index),
                "--rounds",
                str(self.o.query_rounds),
                "--max-seconds",
                str(self.o.query_seconds),
            ]
            run = run_measured(command + (["--cache"] if cache else []), cwd=ROOT)
            return {**_last_json(run), "peak_rss_mb": round(run.peak_rss_mb, 1)}

        # The targets are checked on the uncached figures: every query answered from the index.
        out: dict[str, Any] = {"stories": _count_files(self.content(size) / "news")}
        for cache, suffix, label in ((False, "", "uncached"), (True, "_cached", "result cache")):
            inproc = out[f"in_process{suffix}"] = in_process(cache)
            self.say(
                f"query {size} ({label}): in-process p50 {inproc['p50_ms']} ms, "
                f"p95 {inproc['p95_ms']} ms, p99 {inproc['p99_ms']} ms"
            )
            http = out[f"http{suffix}"] = self._http(output, index, cache=cache)
            self.say(
                f"query {size} ({label}): HTTP {http['requests_per_s']} requests/s with "
                f"{http['clients']} clients, p95 {http['p95_ms']} ms"
            )
        return out

    def _http(self, output: Path, index: Path, *, cache: bool) -> dict[str, Any]:
        env = dict(os.environ)
        if not cache:
            env["CSRNEWS_SEARCH_CACHE"] = "0"
        log = (Path(self.o.workdir) / "serve-http.log").open("wb")
        server = subprocess.Popen(
            _cli(
                "serve",
                "--output",
                str(output),
                "--index",
                str(index),
                "--host",
                "127.0.0.1",
                "--port",
                "0",  # a port the server chooses as it binds: read back from its log
                "--workers",
                "auto",
            ),
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=self.o.workdir,
            env=env,
        )
        log.close()  # the server has its own copy
        try:
            base = f"http://127.0.0.1:{listening_port(server, Path(log.name))}"
            wait_until_up(f"{base}/api/search?q=csr")
            server_cpu = tree_cpu_seconds(server.pid)
            result = http_load(
                base, clients=4, max_requests=self.o.http_requests, max_seconds=self.o.http_seconds
            )
            # the server's own CPU (every worker), which client threads on the same cores
            # do not inflate: what a request costs
            server_cpu = tree_cpu_seconds(server.pid) - server_cpu
            result["server_cpu_s"] = round(server_cpu, 2)
            result["server_cpu_ms_per_request"] = (
                round(server_cpu / result["requests"] * 1000.0, 2) if result["requests"] else None
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        from csrnews.serve.server import auto_workers

        workers = auto_workers()
        result["workers"] = workers
        result["server"] = f"csrnews serve --workers auto: {workers} x 8 gunicorn gthreads"
        result["cache"] = cache
        return result
