"""The nightly run: lock, crawl, index, build into a fresh release, status page, swap, hook."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from csrnews.crawler.sources import load_sources
from csrnews.nightly import (
    EXIT_FAILED,
    EXIT_HOOK_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
)
from csrnews.nightly.lock import LockedError, RunLock
from csrnews.nightly.logs import close_logging, setup_logging
from csrnews.nightly.release import INDEX, SITE, Releases, new_release_name
from csrnews.nightly.report import NightlyReport, close_killed_reports, save_report
from csrnews.nightly.status import (
    STALE_AFTER_HOURS,
    iso,
    load_history,
    record_crawl,
    save_history,
    status_document,
    write_status_page,
)
from csrnews.nightly.steps import StepResult, kill_running_steps, run_step
from csrnews.search.indexer import leave_out_documents
from csrnews.story.storyfile import iter_story_files

logger = logging.getLogger(__name__)

CRAWL_SHARE = 0.6  # of the time left, what the crawl may use before it is asked to stop
CRAWL_GRACE = 60.0  # seconds past its own timeout before the crawl process is killed
QUARANTINE_WARNINGS = 20  # story files left out named one by one among the warnings


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (systemd stopping the unit, a CI job cancelled)."""


@dataclass
class NightlyOptions:
    """Everything a run needs; paths may be relative to the working folder."""

    root: Path
    sources: Path
    content: Path
    state: Path | None = None  # default: ROOT/state
    timeout: float = 3 * 3600.0  # the whole run
    source_timeout: float = 900.0  # one source's crawl
    delay: float | None = None
    keep_releases: int = 5
    keep_reports: int = 60
    publish_hook: str | None = None
    hook_timeout: float = 900.0
    build_args: list[str] = field(default_factory=list)  # extra arguments to `csrnews build`
    build_command: list[str] | None = None  # argv prefix of the build; default `csrnews build`
    stale_after_hours: float = STALE_AFTER_HOURS
    verbose: int = 0
    crawl: bool = True  # False: publish the content as it is (the editors' desk "rebuild now")
    static_search: bool = True  # refresh the Pagefind bundle after the publish
    search_shard_target: int | None = None  # stories per static search shard (None: its default)
    redis: str | None = None  # a distributed crawl: seed the frontier, then ingest (csrnews ingest)
    until_idle: float = 10.0  # with redis: seconds of empty frontier and queue that end the crawl

    def resolved(self) -> NightlyOptions:
        root = self.root.resolve()
        return NightlyOptions(
            **{
                **self.__dict__,
                "root": root,
                "sources": self.sources.resolve(),
                "content": self.content.resolve(),
                "state": (self.state or root / "state").resolve(),
            }
        )


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into Terminated, so that the run cleans up before it exits."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"stopped by signal {signal.Signals(signum).name}")

    saved: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            saved[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


class _Run:
    """One run's working state; `execute()` returns the exit code."""

    def __init__(self, opts: NightlyOptions, report: NightlyReport) -> None:
        self.opts = opts
        self.report = report
        self.releases = Releases(opts.root)
        self.started = time.monotonic()
        self.deadline = self.started + opts.timeout if opts.timeout else None
        self.building: Path | None = None
        self._history_after_publish: dict[str, Any] = {}

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(1.0, self.deadline - time.monotonic())

    def _timed(self, name: str, result: StepResult) -> None:
        self.report.times[name] = round(result.seconds, 3)

    # Steps.
    def crawl(self) -> int | None:
        """Run the crawl; returns an exit code when the run must stop here."""
        opts = self.opts
        assert opts.state is not None
        report_file = opts.state / "last-crawl.json"
        report_file.unlink(missing_ok=True)
        left = self.remaining()
        soft = 0.0 if left is None else max(1.0, left * CRAWL_SHARE)
        argv = [
            sys.executable,
            "-m",
            "csrnews",
            "crawl",
            "--sources",
            str(opts.sources),
            "--content",
            str(opts.content),
            "--state",
            str(opts.state),
            "--source-timeout",
            f"{opts.source_timeout:g}",
            "--timeout",
            f"{soft:g}",
            "--report",
            str(report_file),
            "--quiet",
        ]
        if opts.delay is not None:
            argv += ["--delay", f"{opts.delay:g}"]
        hard = None if left is None else min(left, soft + CRAWL_GRACE)
        if opts.redis:
            result = self._seed()
            if result.ok:
                argv = self._ingest_argv(report_file, soft)
                result = run_step("ingest", argv, timeout=hard)
        else:
            result = run_step("crawl", argv, timeout=hard)
        self._timed("crawl", result)
        if result.returncode == 2:
            self.report.fail(
                f"the crawl refused to start (invalid sources file?): {result.tail(3)}"
            )
            return EXIT_USAGE
        data: dict[str, Any] = {}
        if report_file.is_file():
            try:
                data = json.loads(report_file.read_text(encoding="utf-8"))
            except ValueError:
                data = {}
        sources = data.get("sources") or {}
        self.report.sources = {
            name: {
                "status": src.get("status") or "failed",
                **{
                    k: int(src.get(k) or 0)
                    for k in (
                        "new",
                        "updated",
                        "unchanged",
                        "failed",
                        "fetched",
                        "kept",
                        "merged",
                        "skipped",
                        "offsite",
                        "over_limit",
                    )
                },
                "errors": [str(e) for e in src.get("errors") or []],
                "offsite_hosts": [str(h) for h in src.get("offsite_hosts") or []],
            }
            for name, src in sources.items()
        }
        self.report.crawl_timed_out = bool(data.get("timed_out")) or result.timed_out
        if not data:
            why = (
                "was killed at the deadline"
                if result.timed_out
                else f"ended with exit {result.returncode} and no report"
            )
            step = "crawl" if result.name == "crawl" else f"crawl's {result.name} step"
            self.report.warn(f"the {step} {why}: {result.tail(3)}")
            self._mark_all_failed(f"crawl {why}")
        elif self.report.crawl_timed_out:
            self.report.warn("the crawl reached its time limit; some sources were cut short")
        for src in self.report.sources.values():
            if src["status"] == "ok" and src["fetched"] == 0 and src["errors"]:
                src["status"] = "failed"  # e.g. stopped at its time limit before any answer
        for name, src in self.report.sources.items():
            if src.get("status") != "ok":
                reasons = "; ".join(str(e) for e in (src.get("errors") or [])[:3])
                self.report.warn(f"source {name} failed: {reasons or 'no reason given'}")
            elif src.get("failed"):
                first = f" (first: {src['errors'][0]})" if src.get("errors") else ""
                self.report.warn(
                    f"source {name}: {src['failed']} page(s) could not be fetched "
                    f"or extracted{first}"
                )
            elif src.get("errors"):
                self.report.warn(f"source {name}: {'; '.join(src['errors'][:3])}")
            if src.get("offsite"):
                hosts = ", ".join(src.get("offsite_hosts") or [])
                self.report.warn(
                    f"source {name}: skipped: {src['offsite']} off-site"
                    + (f" ({hosts})" if hosts else "")
                    + "; allowed_domains in the sources file decides which hosts it may use"
                )
            if src.get("over_limit"):
                self.report.warn(
                    f"source {name}: {src['over_limit']} stories over its max_pages were not "
                    "fetched (the next run tries them again while they are listed); raise "
                    "max_pages in the sources file if it should take more a run"
                )
        if self.report.sources and not set(self.report.sources) - set(self.report.failed_sources):
            self.report.warn("every source failed; the site is rebuilt from the stories kept")
        history = load_history(opts.state)
        record_crawl(history, self.report.sources, time.time())
        save_history(opts.state, history)
        return None

    def _seed(self) -> StepResult:
        """A distributed crawl's first step: the sources' start requests into the frontier."""
        opts = self.opts
        assert opts.redis is not None and opts.state is not None
        argv = [
            *[sys.executable, "-m", "csrnews", "crawl", "--redis", opts.redis, "--seed"],
            *["--sources", str(opts.sources), "--content", str(opts.content)],
            *["--state", str(opts.state), "--quiet"],
        ]
        left = self.remaining()
        result = run_step("seed", argv, timeout=None if left is None else min(left, 600))
        self._timed("seed", result)
        return result

    def _ingest_argv(self, report_file: Path, soft: float) -> list[str]:
        """The single writer until the frontier drains (or the crawl's share of the time)."""
        opts = self.opts
        assert opts.redis is not None and opts.state is not None
        return [
            *[sys.executable, "-m", "csrnews", "ingest", "--redis", opts.redis],
            *["--sources", str(opts.sources), "--content", str(opts.content)],
            *["--state", str(opts.state), "--until-idle", f"{opts.until_idle:g}"],
            *["--timeout", f"{soft:g}", "--report", str(report_file), "--quiet"],
        ]

    def _mark_all_failed(self, reason: str) -> None:
        try:
            names = [s.name for s in load_sources(self.opts.sources).sources]
        except Exception:  # the crawl said nothing; a broken file is reported elsewhere
            names = []
        for name in names:
            self.report.sources.setdefault(
                name,
                {
                    "status": "failed",
                    "new": 0,
                    "updated": 0,
                    "unchanged": 0,
                    "failed": 0,
                    "errors": [reason],
                },
            )

    def count_stories(self) -> None:
        self.report.stories_total = sum(1 for _ in iter_story_files(self.opts.content))

    def index(self, building: Path) -> int | None:
        argv = [
            sys.executable,
            "-m",
            "csrnews.nightly.indexstep",
            str(self.opts.content),
            str(building / INDEX),
        ]
        result = run_step("index", argv, timeout=self.remaining())
        self._timed("index", result)
        if not result.ok:
            self.report.fail(f"the index update failed ({self._how(result)}): {result.tail()}")
            return EXIT_FAILED
        try:
            self.report.index = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.report.warn("the index step printed no statistics")
        for message in self.report.index.get("warnings", []) or []:
            if " left out: " not in message:  # named once, by quarantine() below
                self.report.warn(f"index: {message}")
        return None

    def index_and_build(self, building: Path) -> int | None:
        """The index update (in a thread's child) beside the site build: two cores, one wait."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nightly-index") as pool:
            indexing = pool.submit(self.index, building)
            try:
                built = self.build(building)
            except BaseException:
                kill_running_steps()
                raise
            indexed = indexing.result()
        return indexed if indexed is not None else built

    def build(self, building: Path) -> int | None:
        opts = self.opts
        prefix = opts.build_command or [sys.executable, "-m", "csrnews", "build"]
        live = self.releases.current()
        # Unchanged pages are linked from the live release (never written to: see
        # csrnews.site.incremental); parsed stories are cached in the state folder between runs.
        reuse = ["--previous", str(live / SITE)] if live and (live / SITE).is_dir() else []
        if reuse:  # a release past --keep-releases: the build starts from its site
            taken = self.releases.reuse_prunable(building / SITE, opts.keep_releases)
            if taken:
                self.report.pruned.append(taken)
        assert opts.state is not None
        argv = [
            *prefix,
            "--content",
            str(opts.content),
            "--output",
            str(building / SITE),
            "--index",
            str(building / INDEX),
            "--no-index",
            "--no-static-search",  # refreshed after the publish (static_search below)
            *reuse,
            "--cache-dir",
            str(opts.state / "pelican-cache"),
            *opts.build_args,
        ]
        report_file = opts.state / "last-build.json"
        report_file.unlink(missing_ok=True)
        result = run_step(
            "build",
            argv,
            timeout=self.remaining(),
            env={"CSRNEWS_BUILD_REPORT": str(report_file)},
        )
        self._timed("build", result)
        if not result.ok:
            self.report.fail(f"the build failed ({self._how(result)}): {result.tail()}")
            return EXIT_FAILED
        if not (building / SITE / "index.html").is_file():
            self.report.fail(
                f"the build ended without error but wrote no {building / SITE / 'index.html'}"
            )
            return EXIT_FAILED
        return None

    def quarantine(self, building: Path) -> None:
        """The story files the build left out: in the report, and out of the new index too.

        The build's report lists them all (with the files Pelican itself could not read);
        without it (a build command of one's own) the index step's list is used.
        """
        assert self.opts.state is not None
        found: list[dict[str, str]] = []
        try:
            data = json.loads((self.opts.state / "last-build.json").read_text(encoding="utf-8"))
            found = [
                {"path": str(q["path"]), "reason": str(q["reason"])}
                for q in data.get("quarantined") or []
            ]
        except (OSError, ValueError, TypeError, KeyError):
            found = [dict(q) for q in self.report.index.get("quarantined") or []]
        indexed_out = {q["path"] for q in self.report.index.get("quarantined") or []}
        more = [q["path"] for q in found if q["path"] not in indexed_out]
        if more and self.report.index:
            removed = leave_out_documents(building / INDEX, more)
            logger.info("left %d more stories out of the new index", removed)
        self.report.quarantined = found
        for item in found[:QUARANTINE_WARNINGS]:
            self.report.warn(f"story file {item['path']} left out: {item['reason']}")
        if len(found) > QUARANTINE_WARNINGS:
            self.report.warn(
                f"... and {len(found) - QUARANTINE_WARNINGS} more story files left out "
                "(all in the report and on the status page)"
            )
        if self.report.stories_total is not None:
            news = [q for q in found if q["path"].startswith("news/")]
            self.report.stories_total = max(0, self.report.stories_total - len(news))

    @staticmethod
    def _how(result: StepResult) -> str:
        return "killed at the deadline" if result.timed_out else f"exit {result.returncode}"

    def status_page(self, building: Path) -> None:
        assert self.opts.state is not None
        history = load_history(self.opts.state)
        all_ok = (
            not self.report.failed_sources
            and not self.report.crawl_timed_out
            and not self.report.quarantined
        )
        outcome = "ok" if all_ok else "partial"
        if not self.opts.crawl:
            # No crawl ran: the sources' health and the last successful run stay as they were.
            outcome = "rebuilt without a crawl"
        elif all_ok:
            history["last_successful_run"] = {
                "run_id": self.report.run_id,
                "finished_at": iso(time.time()),
            }
        doc = status_document(
            history,
            run_id=self.report.run_id,
            outcome=outcome,
            now=time.time(),
            stories_total=self.report.stories_total or 0,
            stale_after_hours=self.opts.stale_after_hours,
            quarantined=self.report.quarantined,
        )
        write_status_page(building / SITE, doc)
        self._history_after_publish = history

    def carry_static_search(self, building: Path) -> None:
        """The live release's static search goes with the new one until it is refreshed."""
        live = self.releases.current()
        if not self.opts.static_search or live is None:
            return
        from csrnews.search.staticsearch import carry_over

        try:
            carry_over(live / SITE, building / SITE)
        except OSError as exc:
            self.report.warn(f"the static search could not be carried over: {exc}")

    def static_search(self) -> None:
        """After the publish: bring the live site's static search up to date.

        Only the shards whose story files changed are built again (csrnews.search.staticsearch);
        the publish did not wait for it, and until it ends the live site searches the
        previous release's bundle. A failure is a warning: the bundle stays as it was.
        """
        if not self.opts.static_search or not self.report.published:
            return
        site = self.opts.root / "current" / SITE
        argv = [
            sys.executable,
            "-m",
            "csrnews.search.staticsearch",
            str(self.opts.content),
            str(site.resolve()),
        ]
        quarantined = [q["path"] for q in self.report.quarantined]
        for path in quarantined:
            argv += ["--leave-out", path]
        if self.opts.state is not None:  # story checks and fragments kept between nights
            argv += ["--cache-dir", str(self.opts.state / "pelican-cache" / "static-search")]
        if self.opts.search_shard_target is not None:
            argv += ["--shard-target", str(self.opts.search_shard_target)]
        result = run_step("static-search", argv, timeout=self.remaining())
        self._timed("static_search", result)
        if not result.ok:
            self.report.warn(
                f"the static search was not brought up to date ({self._how(result)}): "
                f"{result.tail(2)}; the site keeps the previous one"
            )
            return
        try:
            self.report.static_search = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.report.warn("the static search step printed no statistics")

    def save_report_so_far(self) -> None:
        """The live release's report, saved as soon as it is live (outcome "running"): the
        static search and the hook still run after the swap, and a run killed then must not
        leave a live release without its report. The final report replaces it."""
        try:
            save_report(self.opts.root / "reports", self.report, self.opts.keep_reports)
        except OSError as exc:
            logger.error("cannot save the run's report: %s", exc)

    def publish(self, building: Path) -> None:
        began = time.monotonic()
        old = self.releases.current()
        final = self.releases.publish(building)
        self.building = None
        self.report.published = True
        self.report.release = final.name
        self.report.previous_release = old.name if old else None
        assert self.opts.state is not None
        save_history(self.opts.state, self._history_after_publish)
        self.report.pruned += self.releases.prune(self.opts.keep_releases)
        self.report.times["publish"] = round(time.monotonic() - began, 3)

    def hook(self) -> bool:
        command = self.opts.publish_hook
        if not command:
            return True
        live = self.opts.root / "current"
        env = {
            "CSRNEWS_ROOT": str(self.opts.root),
            "CSRNEWS_RELEASE": self.report.release or "",
            "CSRNEWS_SITE": str(live / SITE),
            "CSRNEWS_INDEX": str(live / INDEX),
        }
        left = self.remaining()
        timeout = self.opts.hook_timeout if left is None else min(self.opts.hook_timeout, left)
        result = run_step("hook", [command], timeout=timeout, env=env, shell=True)
        self.report.hook = {
            "command": command,
            "ok": result.ok,
            "returncode": result.returncode,
            "timed_out": result.timed_out,
            "seconds": round(result.seconds, 3),
            "output": result.tail(),
        }
        if not result.ok:
            self.report.fail(f"the publish hook failed ({self._how(result)}): {result.tail()}")
        return result.ok

    def execute(self) -> int:
        self.report.recovered = self.releases.recover()
        for message in self.report.recovered:
            self.report.warnings.append(f"recovered: {message}")
        if not self.opts.crawl:
            logger.info("crawl skipped: publishing the content as it is")
        elif not self.opts.sources.is_file():
            self.report.fail(f"no sources file at {self.opts.sources}")
            return EXIT_USAGE
        else:
            code = self.crawl()
            if code is not None:
                return code
        self.count_stories()
        self.building = self.releases.start(self.report.run_id)
        code = self.index_and_build(self.building)
        if code is not None:
            return code
        self.quarantine(self.building)
        self.status_page(self.building)
        self.carry_static_search(self.building)
        self.publish(self.building)
        self.save_report_so_far()
        self.static_search()
        hook_ok = self.hook()
        if not hook_ok:
            return EXIT_HOOK_FAILED
        if self.report.failed_sources or self.report.crawl_timed_out or self.report.quarantined:
            return EXIT_PARTIAL
        return EXIT_OK

    def cleanup(self) -> None:
        kill_running_steps()
        if self.building is not None:
            self.releases.discard(self.building)
            self.building = None


def run_nightly(options: NightlyOptions) -> NightlyReport:
    """Do one nightly run; the report's exit_code says how it went (see csrnews.nightly)."""
    opts = options.resolved()
    opts.root.mkdir(parents=True, exist_ok=True)
    name = new_release_name()
    report = NightlyReport(run_id=name, started_at=iso(time.time()) or "")
    log_handler = setup_logging(opts.root / "logs", opts.verbose)
    lock = RunLock(opts.root / "lock")
    try:
        try:
            lock.acquire()
        except LockedError as exc:
            report.fail(str(exc))
            report.finish(EXIT_LOCKED, iso(time.time()) or "")
            return report
        logger.info("nightly run %s started (root %s)", name, opts.root)
        for killed in close_killed_reports(opts.root / "reports", name):
            report.warn(f"run {killed} was killed after it published; its report now says so")
        if lock.stale_holder is not None:
            report.warnings.append(
                f"took over a stale lock of pid {lock.stale_holder.get('pid')}"
                f" (started {lock.stale_holder.get('started_at')})"
            )
        run = _Run(opts, report)
        code = EXIT_FAILED
        try:
            with _signals_raise():
                code = run.execute()
        except Terminated as exc:
            report.fail(f"{exc}; nothing more is published")
            code = EXIT_PARTIAL if report.published else EXIT_FAILED
        except Exception as exc:
            logger.exception("nightly run %s crashed", name)
            report.fail(f"unexpected error: {exc.__class__.__name__}: {exc}")
            code = EXIT_PARTIAL if report.published else EXIT_FAILED
        finally:
            run.cleanup()
            report.times["total"] = round(time.monotonic() - run.started, 3)
            report.finish(code, iso(time.time()) or "")
            try:
                save_report(opts.root / "reports", report, opts.keep_reports)
            except OSError as exc:
                logger.error("cannot save the run's report: %s", exc)
        logger.info("nightly run %s ended: %s (exit %s)", name, report.outcome, code)
        return report
    finally:
        lock.release()
        close_logging(log_handler)
