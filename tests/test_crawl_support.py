"""Support for the crawler end-to-end tests (no tests here): run a crawl, read its output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import run_cli


@dataclass
class CrawlRun:
    """One `csrnews crawl` subprocess and what it left behind."""

    work: Path
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]

    @property
    def content(self) -> Path:
        return self.work / "content"


def write_sources(work: Path, text: str) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    path = work / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl(work: Path, *extra: str, sources: Path | None = None) -> CrawlRun:
    """Run `csrnews crawl` on WORK/sources.yaml into WORK/content with state in WORK/var."""
    report = work / "report.json"
    report.unlink(missing_ok=True)
    result = run_cli(
        "crawl",
        "--sources",
        str(sources or work / "sources.yaml"),
        "--content",
        str(work / "content"),
        "--state",
        str(work / "var"),
        "--delay",
        "0",
        "--report",
        str(report),
        *extra,
        timeout=240,
    )
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return CrawlRun(work, result.returncode, result.stdout, result.stderr, data)


def snapshot(content: Path) -> dict[str, bytes]:
    """Every file under a content folder, by relative path."""
    return {
        p.relative_to(content).as_posix(): p.read_bytes()
        for p in sorted(content.rglob("*"))
        if p.is_file()
    }
