"""The benchmark harness works: a seeded corpus, the loopback publisher, a --quick run's JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import generate_corpus, make_story, nightly_changes
from bench.measure import RunResult, percentiles, run_measured
from bench.publisher import write_publisher_stories
from bench.report import format_markdown, format_table
from bench.runner import SECTIONS, drop_page_cache
from bench.targets import check_targets
from csrnews.story.storyfile import is_edited, read_story

ROOT = Path(__file__).resolve().parent.parent


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.md")}


def test_corpus_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "a", 30, seed=7)
    generate_corpus(tmp_path / "b", 30, seed=7)
    generate_corpus(tmp_path / "c", 30, seed=8)
    generate_corpus(tmp_path / "small", 10, seed=7)
    a, b, c, small = (_tree(tmp_path / n) for n in ("a", "b", "c", "small"))
    assert len(a) == 30
    assert a == b
    assert a != c
    assert small.items() <= a.items()  # a smaller corpus is a prefix of a bigger one


def test_corpus_files_are_valid_story_files(tmp_path: Path) -> None:
    paths = generate_corpus(tmp_path, 12)
    for path in paths:
        story = read_story(path)
        assert story.title and story.get("Date") and story.get("Category")
        assert path.parent.name == story.get("Date")[:4]
        assert path.stem == story.slug
        assert not is_edited(path.read_text(encoding="utf-8"))


def test_corpus_spread_of_metadata() -> None:
    stories = [make_story(i).story for i in range(400)]
    langs = Counter(s.get("Lang") for s in stories)
    assert 0.05 <= langs["zh"] / len(stories) <= 0.16  # about 10% Chinese
    assert len({s.get("Category") for s in stories}) >= 8
    assert len({s.get("Date")[:4] for s in stories}) >= 12
    assert len({o for s in stories for o in s.get_list("Organisations")}) >= 25
    words = sorted(len(s.body.split()) for s in stories if s.get("Lang") == "en")
    assert 150 <= words[len(words) // 2] <= 900  # news-article length


def test_nightly_changes_add_and_edit(tmp_path: Path) -> None:
    generate_corpus(tmp_path, 30)
    before = _tree(tmp_path)
    added, edited = nightly_changes(tmp_path, 30, new=5, changed=4)
    after = _tree(tmp_path)
    assert (len(added), len(edited)) == (5, 4)
    assert len(after) == 35
    assert sum(1 for k, v in before.items() if after[k] != v) == 4


def test_publisher_stories_load_in_the_demo_server(tmp_path: Path) -> None:
    from csrnews.demo.stories import load_stories

    assert write_publisher_stories(tmp_path, 9) == 9
    stories = load_stories(tmp_path)
    assert len(stories) == 9
    assert {s.publisher for s in stories} == {"herald", "review", "weekly", "esn"}


def test_percentiles_and_measured_run() -> None:
    figures = percentiles([i / 1000 for i in range(1, 101)])
    assert (figures["p50_ms"], figures["p95_ms"], figures["p99_ms"]) == (50.0, 95.0, 99.0)
    result = run_measured([sys.executable, "-c", "x = bytearray(60 * 2**20); print('ok')"])
    assert result.returncode == 0 and result.output_tail == "ok"
    assert result.peak_rss_mb >= 60


def test_peak_rss_is_the_commands_own_not_the_harness() -> None:
    # Linux starts a direct child's ru_maxrss at its parent's peak; the launcher keeps the
    # harness's memory out of the figure.
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    result = run_measured([sys.executable, "-c", "x = bytearray(20 * 2**20)"])
    del ballast
    assert 20 <= result.peak_rss_mb < 200
    assert result.cpu_s > 0
    failed = run_measured([sys.executable, "-c", "raise SystemExit(3)"], check=False)
    assert failed.returncode == 3


def test_a_timeout_kills_a_command_that_ignores_sigterm() -> None:
    # A crawl takes SIGTERM as "finish gracefully": the timeout must still end it, as before.
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)"
    result = run_measured([sys.executable, "-c", stubborn], timeout=1, check=False)
    assert result.returncode == -9 and result.wall_s < 15
    killed = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert run_measured([sys.executable, "-c", killed], check=False).returncode == -15


def test_targets_are_checked() -> None:
    results = {
        "crawl": {"pages": 1000, "pages_per_s": 80.0},
        "nightly": {"stories": 20000, "wall_s": 45.0},
    }
    rows = {row["target"]: row for row in check_targets(results)}
    assert rows["crawl pipeline pages/s"]["met"] is True
    assert rows["nightly case: build plus index, wall (s)"]["met"] is False
    assert rows["nightly case: build plus index, wall (s)"]["at"] == 20000
    assert rows["nightly case: pages rendered"]["met"] is None  # not measured
    assert rows["query p95 in-process, no cache (ms)"]["met"] is None
    # The crawl target takes the slower of the two crawls.
    results["crawl"]["existing"] = {"pages": 1000, "pages_per_s": 40.0}
    rows = {row["target"]: row for row in check_targets(results)}
    assert rows["crawl pipeline pages/s"]["measured"] == 40.0
    assert rows["crawl pipeline pages/s"]["met"] is False


def test_issue_20_targets_read_cpu_summed_memory_pages_and_growth() -> None:
    def build(stories: int, cpu: float) -> dict[str, object]:
        return {
            "stories": stories,
            "csrnews": {"cpu_s": cpu, "peak_rss_mb": 400.0, "peak_rss_sum_mb": 700.0},
            "cpu_ratio": 0.9,
            "site_and_index": {"cpu_ratio": 0.8, "peak_rss_sum_mb": 500.0},
        }

    results = {
        "options": {"main_size": 20000},
        "build": [build(5000, 50.0), build(20000, 260.0), build(40000, 400.0)],
        "nightly": {"stories": 20000, "wall_s": 9.0, "cpu_s": 16.0, "rendered": 420},
    }
    rows = {row["target"]: row for row in check_targets(results)}
    memory = rows["full build, peak RSS of every process summed (MB)"]
    assert (memory["measured"], memory["at"], memory["met"]) == (700.0, 20000, False)
    assert rows["full build, CPU ratio to plain Pelican"]["met"] is True
    core = rows["site and index (--no-static-search), peak RSS summed (MB)"]
    assert (core["measured"], core["at"], core["met"]) == (500.0, 20000, True)
    assert rows["site and index (--no-static-search), CPU ratio to Pelican"]["measured"] == 0.8
    growth = rows["full build CPU a story, largest / smallest size"]
    assert (growth["measured"], growth["at"], growth["met"]) == (1.0, 40000, True)
    assert rows["nightly case: build plus index, CPU (s)"]["met"] is False
    assert rows["nightly case: pages rendered"]["measured"] == 420
    assert rows["nightly case: pages rendered"]["met"] is True


@pytest.mark.solo
def test_peak_memory_of_a_process_tree_is_summed() -> None:
    # Two processes side by side (as `csrnews build` runs the site and the index): the summed
    # figure holds both peaks, the largest-process figure only one.
    child = (
        "import time; x = bytearray(80 * 2**20); x[::4096] = b'y' * len(x[::4096]); time.sleep(1)"
    )
    parent = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}]); "
        "x = bytearray(60 * 2**20); x[::4096] = b'y' * len(x[::4096]); time.sleep(1); p.wait()"
    )
    result = run_measured([sys.executable, "-c", parent])
    assert result.processes >= 2
    assert 80 <= result.peak_rss_mb < 140
    assert result.peak_rss_sum_mb >= 140 > result.peak_rss_mb


_BURN = (
    "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"
)


@pytest.mark.solo
def test_cpu_counts_grandchildren_and_orphans() -> None:
    # `csrnews build` -> static search -> pagefind binary: a grandchild's CPU counts. And a
    # process its parent leaves behind without waiting (the old site's detached `rm -rf`)
    # counts too: the launcher adopts it as a subreaper and waits for it.
    burn = _BURN.format(seconds=0.6)
    waited = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}], check=True)"
    parent = (
        "import subprocess, sys; "
        f"subprocess.run([sys.executable, '-c', {waited!r}], check=True); "
        # detached and not waited for, as build.remove_later starts `rm`
        f"subprocess.run(['sh', '-c', 'exec \"$0\" -c \"$1\" &', sys.executable, {burn!r}], "
        "check=True, start_new_session=True)"
    )
    result = run_measured([sys.executable, "-c", parent])
    assert result.cpu_s >= 1.2, result
    assert result.wall_s < 5
    # by what each process runs: three Pythons, two of them burning
    python = result.parts[Path(sys.executable).name]
    assert python["processes"] >= 3 and python["cpu_s"] >= 1.0
    assert result.unseen_cpu_s < 0.5


@pytest.mark.solo
def test_parts_are_named_by_the_program_each_process_runs() -> None:
    # A process is named by what it runs after exec (the static search's pagefind binary),
    # not by the Python parent it was forked from.
    parent = (
        "import subprocess, sys; "
        "[subprocess.run(['sleep', '0.3'], check=True) for _ in range(3)]; "
        "subprocess.run([sys.executable, '-m', 'timeit', '-n1', '-r1', 'import time; "
        "time.sleep(0.3)'], capture_output=True)"
    )
    result = run_measured([sys.executable, "-c", parent])
    assert result.parts["sleep"]["processes"] == 3
    assert result.parts[Path(sys.executable).name]["processes"] == 1
    assert result.parts["timeit"]["processes"] == 1
    assert result.parts["sleep"]["peak_rss_mb"] < 20


@pytest.mark.solo
def test_peak_memory_sums_processes_alive_together_not_one_after_another() -> None:
    # The static search runs one pagefind binary per shard, one after the other: their peaks
    # never add up. Two side by side do.
    child = (
        "import time; x = bytearray(80 * 2**20); x[::4096] = b'y' * len(x[::4096]); time.sleep(0.5)"
    )
    run = f"subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    serial = f"import subprocess, sys; {run}; {run}; {run}"
    result = run_measured([sys.executable, "-c", serial])
    assert result.processes >= 4
    assert 80 <= result.peak_rss_sum_mb < 140, result
    assert result.peak_rss_all_mb >= 240
    together = (
        "import subprocess, sys; "
        f"ps = [subprocess.Popen([sys.executable, '-c', {child!r}]) for _ in range(3)]; "
        "[p.wait() for p in ps]"
    )
    result = run_measured([sys.executable, "-c", together])
    assert result.peak_rss_sum_mb >= 240, result


def test_build_cpu_is_split_by_part() -> None:
    from bench.measure import RunResult
    from bench.runner import cpu_parts

    result = RunResult(
        command=["csrnews", "build"],
        returncode=0,
        wall_s=10.0,
        peak_rss_mb=300.0,
        cpu_s=31.0,
        parts={
            "csrnews": {"cpu_s": 12.0, "peak_rss_mb": 300.0, "processes": 1},
            "csrnews.nightly.indexstep": {"cpu_s": 9.0, "peak_rss_mb": 200.0, "processes": 1},
            "csrnews.search.staticsearch": {"cpu_s": 2.5, "peak_rss_mb": 60.0, "processes": 1},
            "pagefind_extended": {"cpu_s": 6.0, "peak_rss_mb": 250.0, "processes": 3},
            "rm": {"cpu_s": 1.0, "peak_rss_mb": 2.0, "processes": 1},
        },
        unseen_cpu_s=0.5,
    )
    parts = cpu_parts(result)
    assert parts["site"] == 12.0 and parts["index"] == 9.0
    assert parts["static_search"] == 8.5 and parts["pagefind"] == 6.0
    assert parts["old_site_removal"] == 1.0 and parts["unseen"] == 0.5
    assert sum(v for k, v in parts.items() if k != "pagefind") == result.cpu_s
    table = format_table(
        {
            "build": [
                {
                    "stories": 20000,
                    "csrnews": {**result.as_dict(), "cpu_parts": parts, "files": 1},
                    "pelican": {"cpu_s": 30.0, "wall_s": 30.0, "peak_rss_mb": 200.0, "files": 1},
                    "ratio": 0.3,
                }
            ]
        }
    )
    assert "CPU by part" in table and "static search 8.50 s" in table and "pagefind 6.00 s" in table


def test_query_mix_order_is_new_each_run_and_complete_each_round() -> None:
    from bench.queries import QUERY_MIX, new_order_seed, shuffled_mix

    first, second = shuffled_mix(1, 3), shuffled_mix(2, 3)
    assert len(first) == 3 * len(QUERY_MIX)
    for start in range(0, len(first), len(QUERY_MIX)):
        assert sorted(map(repr, first[start : start + len(QUERY_MIX)])) == sorted(
            map(repr, QUERY_MIX)
        )
    assert first != second and shuffled_mix(1, 3) == first
    assert len({new_order_seed() for _ in range(5)}) > 1


def test_nightly_new_stories_are_the_newest_unless_spread(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "a", 30)
    added, _edited = nightly_changes(tmp_path / "a", 30, new=5, changed=2)
    dates = [read_story(p).get("Date") for p in (tmp_path / "a" / "news").rglob("*.md")]
    newest = sorted(dates)[-5:]
    assert sorted(read_story(p).get("Date") for p in added) == newest
    assert all(p.parent.name == read_story(p).get("Date")[:4] for p in added)
    generate_corpus(tmp_path / "b", 30)
    spread, _ = nightly_changes(tmp_path / "b", 30, new=5, changed=2, dates="spread")
    assert [p.name for p in spread] == [p.name for p in added]
    assert sorted(read_story(p).get("Date") for p in spread) != newest
    with pytest.raises(ValueError, match="dates"):
        nightly_changes(tmp_path / "b", 35, new=1, changed=0, dates="tomorrow")
    # The next night's stories are the next day's, newer than the first night's, not beside them.
    later, edited = nightly_changes(tmp_path / "a", 35, new=5, changed=2, night=2)
    later_dates = sorted(read_story(p).get("Date") for p in later)
    assert later_dates[0] > newest[-1]
    first_day = dt.datetime.fromisoformat(newest[-1])
    assert dt.datetime.fromisoformat(later_dates[-1]) - first_day == dt.timedelta(days=1)
    assert all(read_story(p).get("Modified").startswith("2026-01-07") for p in edited)


def test_the_cold_night_drops_the_cache_or_says_why_not(tmp_path: Path) -> None:
    control = tmp_path / "drop_caches"
    control.write_text("", encoding="ascii")
    assert drop_page_cache(control) == ""
    assert control.read_text(encoding="ascii") == "3\n"  # page cache, folders and inodes
    assert drop_page_cache(tmp_path).startswith("cannot drop the page cache: ")  # a folder


def _quick_bench(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bench --quick ARGS` into tmp_path's results and work folders."""
    folders = ("--results-dir", str(tmp_path / "results"), "--workdir", str(tmp_path / "work"))
    return subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *args, *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
    )


@pytest.mark.solo
@pytest.mark.slow
def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    done = _quick_bench(
        tmp_path,
        *("--sizes", "15", "--crawl-pages", "3", "--crawl-existing", "4"),
        *("--query-rounds", "1", "--http-requests", "8"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = (tmp_path / "results").glob("*-quick.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    for section in SECTIONS:
        assert section in results and "error" not in results[section], section
    assert results["machine"]["cpus"] >= 1 and results["machine"]["python"]
    assert results["crawl"]["stories_written"] == 3
    existing = results["crawl"]["existing"]
    assert existing["stories_before"] == 4 and existing["signatures_before"] == 4
    assert existing["stories_written"] == 3
    (row,) = results["build"]
    assert row["stories"] == 15 and row["ratio"] > 0
    assert row["csrnews"]["peak_rss_mb"] > 0 and row["pelican"]["files"] > 0
    assert results["index"]["incremental"]["stats"]["added"] == 50
    # The nightly is measured on the second night after the full build (a site built from a
    # site built from a previous one); the first night is recorded too.
    first = results["nightly"]["first_night"]
    assert first["changes"] == {"new": 50, "changed": 15} and first["rendered"] > 0
    assert results["nightly"]["changes"] == {"new": 50, "changed": 20}
    query = results["query"]
    for suffix, cache in (("", False), ("_cached", True)):
        inproc, http = query[f"in_process{suffix}"], query[f"http{suffix}"]
        assert inproc["cache"] is cache and http["cache"] is cache
        assert inproc["queries"] > 0 and inproc["p95_ms"] > 0
        assert http["requests"] > 0 and http["errors"] == 0
    growth = "full build CPU a story, largest / smallest size"  # needs two sizes
    # The third night, after dropping the page cache, is left out of a quick run.
    cold = results["nightly"]["cold_night"]
    assert cold == {"skipped": "not in a quick run"}  # it would drop the machine's page cache
    # Then two nights like the second (a quick run's default), the heaviest kept: at 15
    # stories, far from the static search's nightly budget (1000).
    heaviest, extra = results["nightly"]["fold_night"], results["nightly"]["extra_nights"]
    assert [n["night"] for n in extra] == [3, 4] and heaviest["reached_budget"] is False
    assert heaviest["outside_recent"] == max(n["indexed"] - n["recent"] for n in extra)
    unmeasured = {growth} | (
        {"nightly case, page cache dropped first: wall (s)"} if "skipped" in cold else set()
    )
    assert all(
        row["measured"] is not None for row in results["targets"] if row["target"] not in unmeasured
    )
    assert (
        row["cpu_ratio"] > 0 and row["csrnews"]["peak_rss_sum_mb"] >= row["csrnews"]["peak_rss_mb"]
    )
    nightly = results["nightly"]
    assert nightly["new_dates"] == "recent" and nightly["rendered"] > 0 and nightly["cpu_s"] > 0
    assert (
        query["http"]["server_cpu_ms_per_request"] > 0 and query["in_process"]["cpu"]["p95_ms"] > 0
    )
    assert "plain Pelican" in done.stdout and format_table(results) in done.stdout
    # The full build's CPU by part: the site, the index and the static search with its
    # pagefind binary all counted, adding up to the whole.
    parts = row["csrnews"]["cpu_parts"]
    assert parts["site"] > 0 and parts["index"] > 0 and parts["static_search"] > 0
    # The pagefind binary's share is read by polling: on so small a corpus it may end before a
    # reading sees its CPU (then it is in "unseen", which the whole still counts; the launcher's
    # counting of grandchildren is tested above), so it can be 0 here but never more than its part.
    assert 0 <= parts["pagefind"] <= parts["static_search"]
    whole = sum(value for name, value in parts.items() if name != "pagefind")
    assert abs(whole - row["csrnews"]["cpu_s"]) < 0.05
    assert nightly["cpu_parts"]["static_search"] > 0
    assert "fragments_kept" in results["index"]["static_incremental"]["stats"]  # all 15 changed
    assert "CPU by part" in done.stdout
    # The full build as issue 20 measured it (site and index, no static search), cold and
    # apart from the main build's files: no static search process, less CPU than the whole.
    core = row["site_and_index"]
    assert core["cpu_parts"]["static_search"] == 0 and core["cpu_parts"]["index"] > 0
    assert 0 < core["cpu_s"] < row["csrnews"]["cpu_s"] and core["cpu_ratio"] > 0
    assert "site and index only (--no-static-search)" in done.stdout
    assert not list((tmp_path / "work").glob("corpus-*/no-static-*"))
    assert "nightly, first night" in done.stdout and "nightly, second night" in done.stdout


def test_command_line_options(tmp_path: Path) -> None:
    from bench.__main__ import options_from, parse_args

    quick = options_from(parse_args(["--quick", "--workdir", str(tmp_path)]))
    assert (quick.sizes, quick.crawl_pages, quick.quick) == ([20], 20, True)
    full = options_from(
        parse_args(["--sizes", "1k,5000", "--sections", "build,query", "--workdir", str(tmp_path)])
    )
    assert full.sizes == [1000, 5000] and full.sections == ("build", "query")
    assert full.crawl_pages == 1000 and full.keep
    # the nights after the nightly's third: 20 at most, 2 in a quick run unless told
    assert (full.fold_nights, quick.fold_nights) == (20, 2)
    told = parse_args(["--quick", "--fold-nights", "5", "--workdir", str(tmp_path)])
    assert options_from(told).fold_nights == 5
    with pytest.raises(SystemExit):
        parse_args(["--sections", "build,nonsense"])


def test_two_runs_compare() -> None:
    from bench.report import format_comparison

    old = {"started": "2026-01-01T00:00", "nightly": {"stories": 20000, "wall_s": 40.0}}
    new = {"started": "2026-02-01T00:00", "nightly": {"stories": 20000, "wall_s": 30.0}}
    text = format_comparison(old, new)
    assert "nightly 20000 s" in text and "-25%" in text


def test_a_corpus_an_earlier_run_changed_is_generated_again(tmp_path: Path) -> None:
    from bench.__main__ import options_from, parse_args
    from bench.runner import Bench

    def bench() -> Bench:
        args = ["--sizes", "12", "--sections", "nightly", "--workdir", str(tmp_path / "w")]
        return Bench(options_from(parse_args([*args, "--results-dir", str(tmp_path / "r")])))

    first = bench()
    content = first.content(12)
    generated = sorted(p.name for p in content.rglob("*.md"))
    first._changes(12, 1)  # the nightly's changes, as the run applies them
    assert len(list(content.rglob("*.md"))) > len(generated)
    assert first.content(12) == content and (content.parent / "nightly-applied").exists()
    # The next run of the same work folder starts from the generated corpus again, so its
    # nights change something.
    second = bench()
    assert sorted(p.name for p in second.content(12).rglob("*.md")) == generated
    assert not (content.parent / "nightly-applied").exists()
    assert second._changes(12, 1) == {"new": 50, "changed": 12}


def test_the_nightly_run_again_on_its_work_folder_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m bench --sections nightly` a second time on the same work folder: the corpus
    the first run's nights changed is generated again and built cold before the nights, so
    each run measures its nights on the states it built (the second run stopped with "no
    build before the nightly changes": it looked before the corpus was generated again).
    `csrnews build` is replaced by a note of what it was given; the corpus and the nights'
    changes are real, at 12 stories."""
    from bench.__main__ import options_from, parse_args
    from bench.runner import Bench

    def run(work: str = "w") -> tuple[list[tuple[int, bool]], dict[str, Any]]:
        args = ["--quick", "--sections", "nightly", "--sizes", "12", "--fold-nights", "0"]
        folders = ["--workdir", str(tmp_path / work), "--results-dir", str(tmp_path / "r")]
        bench = Bench(options_from(parse_args([*args, *folders])))
        builds: list[tuple[int, bool]] = []  # (stories, a site there already) of each build

        def build(size: int, *options: str, settle: bool = True, **_: Any) -> Any:
            bench._built.add(size)
            site = tmp_path / work / f"corpus-{size}" / "output"
            builds.append((len(list(bench.content(size).rglob("*.md"))), site.exists()))
            site.mkdir(parents=True, exist_ok=True)
            result = RunResult(["csrnews", "build"], 0, 1.0, 100.0, 1.0)
            result.output_tail = _static_line(50, 0, 1)
            return result, {"rendered": 10, "unchanged": 2, "files": 100}

        monkeypatch.setattr(bench, "csrnews_build", build)
        return builds, bench.nightly(12)

    first, _ = run()
    second, nightly = run()
    # a cold full build of the generated corpus, then nights 1 and 2 (50 new stories each)
    assert first == second == [(12, False), (62, True), (112, True)]
    assert nightly["first_night"]["changes"] == {"new": 50, "changed": 12}
    assert nightly["night"] == 2 and nightly["changes"] == {"new": 50, "changed": 20}
    # a site an earlier run left of the generated corpus (its build section, or a run stopped
    # before its nights) is not the nights' start either: the full build is cold
    (tmp_path / "w2" / "corpus-12" / "output").mkdir(parents=True)
    assert run("w2")[0][0] == (12, False)


def test_the_static_search_line_says_what_was_indexed_built_again_and_recent() -> None:
    from bench.runner import built_outside_recent, static_search_counts

    line = (
        "Built 312 pages (281 kept) in 3.1 s; search index updated; static search: 20120 "
        "stories in 15 shards ({} kept{})"
    )
    recent = "; 140 in the recent shard, 20 stale entries hidden"
    assert static_search_counts(
        line.format("2 built, 13", f"{recent}; 1960 stories indexed, 1 shard built again")
    ) == (1960, 1, 140)
    assert static_search_counts(
        line.format("3 built, 12", "; 4100 stories indexed, 2 shards built again")
    ) == (4100, 2, 0)  # no recent part: none in the recent shard
    assert static_search_counts(line.format("1 built, 14", f"{recent}; 140 stories indexed")) == (
        140,
        0,
        140,
    )
    single = line.format("1 built, 14", "; 0 in the recent shard, 1 stale entries hidden")
    assert static_search_counts(single + "; 1 story indexed, 1 shard built again)") == (1, 1, 0)
    assert static_search_counts(line.format("15 built, 0", "")) == (None, None, None)
    assert static_search_counts("static search: not built (see the warning)") == (None,) * 3
    # what the night's budget bounds: the stories indexed outside the recent shard
    assert built_outside_recent({"indexed": 1960, "recent": 140}) == 1820
    assert built_outside_recent({"indexed": None, "recent": None}) == 0


def test_the_nights_budget_is_half_the_shard_target_the_builds_use() -> None:
    from bench.runner import night_budget, search_shard_target

    assert (search_shard_target({}), night_budget({})) == (2000, 1000)  # the build's default
    env = {"CSRNEWS_SEARCH_SHARD_TARGET": "300"}  # inherited by the bench's builds
    assert (search_shard_target(env), night_budget(env)) == (300, 150)
    assert night_budget({"CSRNEWS_SEARCH_SHARD_TARGET": ""}) == 1000  # empty: unset, as click


def _fake_nights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str], *args: str
) -> tuple[dict[str, Any], list[str]]:
    """The nightly section with `csrnews build` replaced: each build's output line from
    ``lines`` (the full build's first), so that what each night indexes is known."""
    from bench.__main__ import options_from, parse_args
    from bench.runner import Bench

    work = ["--sections", "nightly", "--sizes", "100", "--workdir", str(tmp_path / "w")]
    bench = Bench(options_from(parse_args([*work, "--results-dir", str(tmp_path / "r"), *args])))
    said: list[str] = []
    bench.say = said.append
    outputs = iter(lines)

    def build(size: int, *options: str, settle: bool = True, **_: Any) -> Any:
        bench._built.add(size)
        result = RunResult(["csrnews", "build"], 0, 8.0 if settle else 11.0, 300.0, 14.0)
        result.output_tail = next(outputs)
        return result, {"rendered": 300, "unchanged": 50000, "files": 51000}

    monkeypatch.setattr(bench, "csrnews_build", build)
    monkeypatch.setattr(bench, "_changes", lambda size, night=1: {"new": 50, "changed": 20})
    monkeypatch.setattr("bench.runner.drop_page_cache", lambda: "")  # not this machine's
    return bench.nightly(100), said


def _static_line(indexed: int, recent: int, folded: int) -> str:
    """A nightly build's line whose static search indexed, held in its recent shard and
    built again so many (the recent part left out when nothing is recent)."""
    line = "Built 300 pages in 2.0 s; search index updated; static search: 20170 stories in "
    line += f"16 shards ({folded + 1} built, 15 kept"
    if recent:
        line += f"; {recent} in the recent shard, 20 stale entries hidden"
    again = f", {folded} shard{'s' if folded > 1 else ''} built again" if folded else ""
    return f"{line}; {indexed} stories indexed{again})"


def test_nights_run_on_until_one_spends_the_static_search_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = "Built 300 pages in 2.0 s; search index updated; static search: 20000 stories in 15 "
    full += "shards (15 built, 0 kept)"
    plain = _static_line(120, 70, 1)  # a small shard of the night's new stories: 50 built
    nights = [full, plain, plain, plain]  # the full build, then nights 1-3
    # then 4 builds a shard again but little, 5 more, 6 less, 7 spends 90% of the budget
    # (1000 of the default target 2000) outside the recent shard, 8 is not run
    nights += [plain, _static_line(700, 0, 1), _static_line(400, 60, 2)]
    nights += [_static_line(950, 50, 2), _static_line(1000, 0, 1)]
    nightly, said = _fake_nights(tmp_path, monkeypatch, nights)
    # nights 1-3 as before (the third with the page cache dropped)
    cold = nightly["cold_night"]
    assert (cold["wall_s"], cold["night"], cold["indexed"], cold["recent"]) == (11.0, 3, 120, 70)
    assert (nightly["night"], nightly["indexed"], nightly["folded"]) == (2, 120, 1)
    heaviest = nightly["fold_night"]  # the key kept from the first night that folded
    assert (heaviest["night"], heaviest["indexed"], heaviest["recent"]) == (7, 950, 50)
    assert (heaviest["outside_recent"], heaviest["budget"], heaviest["reached_budget"]) == (
        900,
        1000,
        True,
    )
    assert nightly["first_night"].keys() <= heaviest.keys() and heaviest["wall_s"] == 8.0
    extra = nightly["extra_nights"]
    assert [(n["night"], n["indexed"], n["recent"], n["folded"]) for n in extra] == [
        (4, 120, 70, 1),
        (5, 700, 0, 1),
        (6, 400, 60, 2),
        (7, 950, 50, 2),
    ]
    assert extra[-1] == {k: heaviest[k] for k in extra[-1]} and extra[-1].keys() == {
        "night",
        "wall_s",
        "cpu_s",
        "indexed",
        "folded",
        "recent",
    }
    assert any(m.startswith("nightly 100, night 4: build 8.0 s") for m in said)
    assert any(
        m.endswith("120 stories indexed (70 in the recent shard), 1 shard(s) built again")
        for m in said
    )
    assert "the heaviest of nights 4–7 is night 7, 900 stories built" in said[-1]
    results = {"nightly": nightly}
    rows = {row["target"]: row for row in check_targets(results)}
    wall = rows["nightly case, the heaviest night after the third: wall (s)"]
    cpu = rows["nightly case, the heaviest night after the third: CPU (s)"]
    assert (wall["measured"], wall["met"], cpu["measured"], cpu["met"]) == (8.0, True, 14.0, True)
    table = format_table({**results, "targets": check_targets(results)})
    label = "nightly, heaviest night, night 7 (900 stories built outside the recent shard, budget"
    assert f"{label} 1,000): 100 + 50 new" in table
    assert (
        "50,000 kept, static search 950 stories indexed (50 in the recent shard), 2 shard" in table
    )
    assert "nightly, extra nights 4–7 (until one reaches the static search's nightly budget)" in (
        table
    )
    assert "; 5: 8.00 s, " in table and " CPU, 700 indexed (0 recent), 1 built again;" in table

    # Not within the limit: the heaviest of the nights run (the first of equals), said so.
    tail = [_static_line(700, 0, 1), _static_line(300, 0, 1), _static_line(750, 50, 1)]
    nightly, _ = _fake_nights(
        tmp_path, monkeypatch, [full, plain, plain, plain, *tail, plain], "--fold-nights", "3"
    )
    heaviest = nightly["fold_night"]
    assert (heaviest["night"], heaviest["outside_recent"], heaviest["reached_budget"]) == (
        4,
        700,
        False,
    )
    assert [n["night"] for n in nightly["extra_nights"]] == [4, 5, 6]
    rows = {row["target"]: row for row in check_targets({"nightly": nightly})}
    assert rows["nightly case, the heaviest night after the third: wall (s)"]["measured"] == 8.0
    assert "(700 stories built outside the recent shard, budget 1,000, not reached)" in (
        format_markdown({"nightly": nightly})
    )
    # The budget follows the shard target the builds inherit from the bench's environment.
    monkeypatch.setenv("CSRNEWS_SEARCH_SHARD_TARGET", "200")
    nightly, _ = _fake_nights(tmp_path, monkeypatch, [full, plain, plain, plain, *tail])
    assert nightly["fold_night"]["budget"] == 100 and nightly["fold_night"]["night"] == 4
    assert [n["night"] for n in nightly["extra_nights"]] == [4]  # 700 of 100
    monkeypatch.delenv("CSRNEWS_SEARCH_SHARD_TARGET")
    # --fold-nights 0: the three nights only, the targets not measured.
    nightly, _ = _fake_nights(tmp_path, monkeypatch, [full] + [plain] * 3, "--fold-nights", "0")
    assert nightly["fold_night"] == {"skipped": "--fold-nights 0"} and nightly["extra_nights"] == []
    rows = {row["target"]: row for row in check_targets({"nightly": nightly})}
    assert rows["nightly case, the heaviest night after the third: CPU (s)"]["met"] is None
    assert "nightly, the heaviest night after the third | skipped" in format_markdown(
        {"nightly": nightly}
    )
    # A quick run skips the cold night, whose changes go to the first night after it (the
    # third, warm), and runs two nights after the second unless told.
    lines = [full, plain, plain, _static_line(300, 0, 1), _static_line(500, 0, 1)]
    nightly, _ = _fake_nights(tmp_path, monkeypatch, lines, "--quick")
    assert nightly["cold_night"] == {"skipped": "not in a quick run"}
    assert [n["night"] for n in nightly["extra_nights"]] == [3, 4]
    assert nightly["fold_night"]["night"] == 4 and nightly["fold_night"]["wall_s"] == 8.0


@pytest.mark.slow
def test_the_nightly_finds_its_heaviest_night_at_a_small_size(tmp_path: Path) -> None:
    # 800 stories with a shard target of 600: the nightly's budget is 300 stories (half the
    # target). At the time of writing the shard of the nights' new and changed stories is
    # built again on night 3, waits on night 4 (its stories in the recent shard) and fills up
    # on night 5: 331 stories built outside the recent shard, past 90% of the budget.
    done = _quick_bench(
        tmp_path,
        *("--sections", "nightly", "--sizes", "800", "--fold-nights", "4"),
        env={**os.environ, "CSRNEWS_SEARCH_SHARD_TARGET": "600"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = (tmp_path / "results").glob("*-quick.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    assert results["options"]["search_shard_target"] == 600
    nightly = results["nightly"]
    heaviest, extra = nightly["fold_night"], nightly["extra_nights"]
    assert heaviest["budget"] == 300 and heaviest["reached_budget"] is True, (heaviest, extra)
    assert heaviest["outside_recent"] == heaviest["indexed"] - heaviest["recent"] >= 270
    assert heaviest["rendered"] > 0 and heaviest["changes"] == {"new": 50, "changed": 20}
    assert heaviest["cpu_parts"]["static_search"] > 0
    # the quick run leaves out the cold night: the nights after the second start with the
    # third, and stop at the first that spends 90% of the budget, the heaviest
    assert [n["night"] for n in extra] == list(range(3, heaviest["night"] + 1))
    assert len(extra) >= 2, extra  # a night that kept the shard came before
    assert extra[-1] == {k: heaviest[k] for k in extra[-1]}
    assert all(0 <= n["indexed"] - n["recent"] < 270 for n in extra[:-1])
    assert any(n["recent"] > 0 for n in extra[:-1])  # read from the build's line
    rows = {row["target"]: row for row in results["targets"]}
    assert rows["nightly case, the heaviest night after the third: CPU (s)"]["measured"] > 0
    assert f"nightly, heaviest night, night {heaviest['night']} (" in done.stdout
    assert "in the recent shard), " in done.stderr
