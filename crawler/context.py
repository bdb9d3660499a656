"""What every spider and pipeline of one run shares: paths, state, the story index, the report."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csrnews.crawler import settings
from csrnews.crawler.dedupe import SignatureIndex, signature
from csrnews.crawler.extraction.clean import markdown_to_text
from csrnews.crawler.report import CrawlReport
from csrnews.crawler.state import CrawlState
from csrnews.crawler.urls import url_key
from scrapy import signals
from scrapy.crawler import Crawler

from csrnews.story.storyfile import iter_story_files, read_story

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
    signatures: SignatureIndex = field(default_factory=SignatureIndex)  # story path -> MinHash
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
        # The files first: a file unchanged since the last run (same size and modification
        # time) is not read again; its URLs come from the state.
        files = self._scan_files()
        for record in self.state.all_stories():
            if record.path in files or self.abs(record.path).exists():
                self.paths[record.key] = record.path
        for rel, (owner, aliases) in files.items():
            if owner:
                self.paths.setdefault(owner, rel)
                self.owners[rel] = owner
            for other in aliases:
                self.paths.setdefault(other, rel)
        self.signatures = SignatureIndex(
            (
                (p, s)
                for p, s in self.state.signatures().items()
                if p in files or self.abs(p).exists()
            ),
            threshold=self.duplicate_threshold,
        )

    def _scan_files(self) -> dict[str, tuple[str | None, list[str]]]:
        """Story path -> (Source_url key, Also_reported_by keys) of every readable story file."""
        cached = self.state.file_index()
        prefix = str(self.content_dir) + os.sep
        files: dict[str, tuple[str | None, list[str]]] = {}
        fresh: list[tuple[str, int, int, str | None, list[str]]] = []
        for path in iter_story_files(self.content_dir):
            name = str(path)
            rel = name[len(prefix) :].replace(os.sep, "/") if name.startswith(prefix) else None
            rel = rel or self.rel(path)
            try:
                stat = os.stat(name)
            except OSError:
                continue
            entry = cached.get(rel)
            if entry and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
                files[rel] = (entry[2], entry[3])
                continue
            try:
                story = read_story(path)
            except (OSError, UnicodeDecodeError):
                continue
            src = story.get("Source_url")
            owner = url_key(src) if src else None
            aliases = [url_key(u.replace("%2C", ",")) for u in story.get_list("Also_reported_by")]
            files[rel] = (owner, aliases)
            fresh.append((rel, stat.st_mtime_ns, stat.st_size, owner, aliases))
        gone = set(cached) - set(files)
        if fresh or gone:
            self.state.update_file_index(fresh, gone)
        return files

    def lookup(self, *keys: str) -> str | None:
        for key in keys:
            if key in self.paths:
                return self.paths[key]
        return None


def fill_signatures(ctx: CrawlContext) -> None:
    """Signatures for story files the state has none for (a run killed after the write, files
    added by hand, or signatures of an older scheme); saved in batches of one commit each."""
    missing = [rel for rel in ctx.owners if rel not in ctx.signatures]
    if len(missing) > 100:
        logger.info("computing signatures of %d stories", len(missing))
    for start in range(0, len(missing), 500):
        with ctx.state.transaction():
            for rel in missing[start : start + 500]:
                try:
                    story = read_story(ctx.abs(rel))
                except (OSError, UnicodeDecodeError):
                    continue
                sig = signature(markdown_to_text(story.body))
                if sig:
                    ctx.signatures[rel] = sig
                    ctx.state.save_signature(rel, sig)


def open_run(crawler: Crawler, source: Any = None) -> CrawlContext:
    """The context of a crawl Scrapy runs itself (`scrapy crawl NAME`), from its settings.

    CSRNEWS_CONTENT and CSRNEWS_STATE name the folders (the defaults of `csrnews crawl`); the
    run is recorded in the state and its summary logged when the spider closes.
    """
    state = CrawlState(crawler.settings.get("CSRNEWS_STATE") or settings.CSRNEWS_STATE)
    ctx = CrawlContext(
        content_dir=Path(crawler.settings.get("CSRNEWS_CONTENT") or settings.CSRNEWS_CONTENT),
        state=state,
    )
    ctx.content_dir.mkdir(parents=True, exist_ok=True)
    ctx.load()
    fill_signatures(ctx)
    run_id = state.start_run()

    def closed(spider: Any, reason: str) -> None:
        for src in ctx.report.sources.values():
            src.finish_reason = reason
            src.finish()
        status = "failed" if ctx.report.all_failed else "ok"
        state.finish_run(run_id, status, ctx.report.as_dict())
        state.close()
        name = getattr(source, "name", spider.name)
        src = ctx.report.source(name)
        logger.warning(
            "source %s: %s (%d fetched, %d new, %d updated, %d unchanged, %d failed) into %s",
            name,
            src.status,
            src.fetched,
            src.new,
            src.updated,
            src.unchanged,
            src.failed,
            ctx.content_dir,
        )

    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
    return ctx
