"""The report of one nightly run: the human summary, and the JSON kept under reports/."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csrnews.nightly import EXIT_CODES
from csrnews.nightly.status import write_json_atomic
from csrnews.tables import text_table

logger = logging.getLogger(__name__)

REPORT_COUNTERS = ("new", "updated", "unchanged", "failed")
# Log records the summary prints anyway: the file gets them, the console does not repeat them.
REPORTED = {"csrnews_reported": True}


@dataclass
class NightlyReport:
    """What one run did; `as_dict()` is the JSON kept under reports/."""

    run_id: str
    started_at: str
    finished_at: str | None = None
    exit_code: int | None = None
    outcome: str = "running"
    published: bool = False
    release: str | None = None
    previous_release: str | None = None
    times: dict[str, float] = field(default_factory=dict)  # crawl, index, build, publish, total
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # crawl report per source
    crawl_timed_out: bool = False
    stories_total: int | None = None
    index: dict[str, Any] = field(default_factory=dict)
    static_search: dict[str, Any] = field(
        default_factory=dict
    )  # csrnews.search.staticsearch's stats
    hook: dict[str, Any] | None = None
    quarantined: list[dict[str, str]] = field(default_factory=list)  # story files left out
    recovered: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        logger.warning("%s", message, extra=REPORTED)
        self.warnings.append(message)

    def fail(self, message: str) -> None:
        logger.error("%s", message, extra=REPORTED)
        self.errors.append(message)

    def finish(self, exit_code: int, finished_at: str) -> None:
        self.exit_code = exit_code
        self.outcome = EXIT_CODES.get(exit_code, "failed")
        self.finished_at = finished_at

    @property
    def failed_sources(self) -> list[str]:
        return [n for n, s in self.sources.items() if s.get("status") != "ok"]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary_text(report: NightlyReport) -> str:
    """The human summary: per source new/updated/unchanged/failed, totals, times, problems."""
    lines = [f"csrnews nightly {report.run_id}: {report.outcome} (exit {report.exit_code})"]
    if report.published:
        lines.append(
            f"published release {report.release}"
            + (
                f"; previous {report.previous_release} kept for `csrnews rollback`"
                if report.previous_release
                else ""
            )
        )
    else:
        lines.append("nothing published: the live site and index are as they were")
    if report.sources:
        rows = [
            [name, src.get("status", "?"), *(int(src.get(c, 0)) for c in REPORT_COUNTERS)]
            for name, src in report.sources.items()
        ]
        align = "ll" + "r" * len(REPORT_COUNTERS)
        lines.append(text_table(["source", "status", *REPORT_COUNTERS], rows, align))
    stories = "?" if report.stories_total is None else str(report.stories_total)
    times = ", ".join(
        f"{step} {report.times[step]:.1f} s"
        for step in ("crawl", "index", "build", "publish", "total")
        if step in report.times
    )
    lines.append(f"stories in total: {stories}; {times}")
    if report.index:
        lines.append(
            "index: "
            + ", ".join(
                f"{report.index.get(k, 0)} {k}"
                for k in ("added", "updated", "deleted", "unchanged")
            )
        )
    if report.hook is not None:
        hook = report.hook
        lines.append(
            f"publish hook: {'ok' if hook.get('ok') else 'FAILED'} "
            f"(exit {hook.get('returncode')}, {hook.get('seconds', 0):.1f} s)"
        )
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"error: {e}" for e in report.errors]
    return "\n".join(lines)


def save_report(reports_dir: str | Path, report: NightlyReport, keep: int) -> Path:
    """Write reports/<run id>.json and a copy as latest.json; keep only the newest `keep`."""
    folder = Path(reports_dir)
    path = folder / f"{report.run_id}.json"
    data = report.as_dict()
    write_json_atomic(path, data)
    write_json_atomic(folder / "latest.json", data)
    runs = sorted(p for p in folder.glob("*.json") if p.name != "latest.json")
    for old in runs[: max(0, len(runs) - max(keep, 1))]:
        old.unlink(missing_ok=True)
    return path


KILLED = "killed"  # the outcome given to a report a killed run left "running"


def close_killed_reports(reports_dir: str | Path, found_by: str) -> list[str]:
    """Reports left "running" by a run that was killed after it published: mark them killed.

    Only the run holding the nightly lock calls this, so no report it finds "running" belongs
    to a live run. Returns the run ids closed; latest.json follows if it was one of them.
    """
    folder = Path(reports_dir)
    closed: list[str] = []
    if not folder.is_dir():
        return closed
    for path in sorted(folder.glob("*.json")):
        if path.name == "latest.json":
            continue
        try:
            data = load_report(path)
        except (OSError, ValueError) as exc:
            logger.warning("cannot read the report %s: %s", path, exc)
            continue
        if not isinstance(data, dict) or data.get("outcome") != "running":
            continue
        data["outcome"] = KILLED
        data.setdefault("errors", []).append(
            f"the run was killed after it published (found by run {found_by}); "
            "the steps after the publish (static search, hook) may not have run"
        )
        write_json_atomic(path, data)
        closed.append(str(data.get("run_id") or path.stem))
        latest = folder / "latest.json"
        try:
            if load_report(latest).get("run_id") == data.get("run_id"):
                write_json_atomic(latest, data)
        except (OSError, ValueError):
            pass
    return closed


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a saved report back."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
