"""What every spider and pipeline of one run shares: paths, state, the story index, the report."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crawler import settings
from crawler.report import CrawlReport
from crawler.state import CrawlState
from crawler.urls import url_key
from csrnews.storyfile import iter_story_files, read_story

logger = logging.getLogger(__name__)


@dataclass
class CrawlContext:
    """Shared by the spiders and pipelines of one run (all on the reactor thread)."""

    content_dir: Path
    state: CrawlState
    report: CrawlReport = field(default_factory=CrawlReport)
    now: str = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat())
    paths: dict[str, str] = field(default_factory=dict)  # url key -> story path (relative)
    owners: dict[str, str] = field(default_factory=dict)  # story path -> its Source_url key
    signatures: dict[str, list[int]] = field(default_factory=dict)
    excerpt_paragraphs: int = settings.EXCERPT_PARAGRAPHS
    duplicate_threshold: float = settings.DUPLICATE_THRESHOLD

    def rel(self, path: Path) -> str:
        return path.relative_to(self.content_dir).as_posix()

    def abs(self, rel: str) -> Path:
        return self.content_dir / rel

    def load(self) -> None:
        """Index the story files on disk and the state, and remove temporary files of a crash."""
        news = self.content_dir / "news"
        if news.is_dir():
            for tmp in news.rglob(".*.tmp"):
                logger.info("removing %s left by an interrupted run", tmp)
                tmp.unlink(missing_ok=True)
        for record in self.state.all_stories():
            if self.abs(record.path).exists():
                self.paths[record.key] = record.path
        for path in iter_story_files(self.content_dir):
            try:
                story = read_story(path)
            except (OSError, UnicodeDecodeError):
                continue
            rel = self.rel(path)
            src = story.get("Source_url")
            if src:
                self.paths.setdefault(url_key(src), rel)
                self.owners[rel] = url_key(src)
            for other in story.get_list("Also_reported_by"):
                self.paths.setdefault(url_key(other.replace("%2C", ",")), rel)
        self.signatures = {p: s for p, s in self.state.signatures().items() if self.abs(p).exists()}

    def lookup(self, *keys: str) -> str | None:
        for key in keys:
            if key in self.paths:
                return self.paths[key]
        return None
