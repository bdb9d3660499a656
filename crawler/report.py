"""The per-source report of a crawl: fetched, new, updated, unchanged, kept, failed and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

COUNTERS = ("fetched", "new", "updated", "unchanged", "merged", "kept", "skipped", "failed")
SKIP_REASONS = ("offsite", "robots", "gone", "over_limit")  # what the skipped are made of


@dataclass
class SourceReport:
    """What happened to one source in one run."""

    name: str
    fetched: int = 0  # HTTP responses received (feeds, sitemaps, listings and stories)
    new: int = 0  # story files written for the first time
    updated: int = 0  # story files rewritten because the story changed
    unchanged: int = 0  # stories already stored and not changed
    merged: int = 0  # reprints added to another story's Also_reported_by
    kept: int = 0  # story files an editor changed, left as they are
    skipped: int = 0  # requests robots.txt, the source's hosts or its limits ruled out
    failed: int = 0  # pages that could not be fetched or extracted
    offsite: int = 0  # of the skipped: links to hosts outside the source's allowed_domains
    robots: int = 0  # of the skipped: pages robots.txt forbids
    gone: int = 0  # of the skipped: story URLs that answered 404 or 410 lately (not asked again)
    over_limit: int = 0  # of the skipped: stories past the source's max_pages this run
    errors: list[str] = field(default_factory=list)
    offsite_hosts: list[str] = field(default_factory=list)  # the first few such hosts
    index_ok: int = 0  # feeds, sitemaps and listings that answered
    index_failed: int = 0
    status: str = "ok"  # ok | failed
    finish_reason: str = ""  # Scrapy's: finished, closespider_timeout, shutdown ...

    def skip_offsite(self, url: str) -> None:
        """A link to a host the source may not fetch from: counted, never lost in silence."""
        self.skipped += 1
        self.offsite += 1
        host = urlsplit(url).hostname or url
        if host not in self.offsite_hosts and len(self.offsite_hosts) < 10:
            self.offsite_hosts.append(host)

    def skip_robots(self) -> None:
        self.skipped += 1
        self.robots += 1

    def skip_gone(self) -> None:
        """A story URL that answered 404 or 410 lately: not asked again until it is due."""
        self.skipped += 1
        self.gone += 1

    def skip_over_limit(self) -> None:
        """A story past the source's ``max_pages`` for this run."""
        self.skipped += 1
        self.over_limit += 1

    def skipped_note(self) -> str:
        """ "skipped: 3 off-site (cdn.example), 1 robots.txt, 2 gone (404/410 lately), 5 over
        max_pages, 1 other (see the log)", or "" when none was."""
        parts = []
        if self.offsite:
            hosts = ", ".join(self.offsite_hosts)
            parts.append(
                f"{self.offsite} off-site ({hosts})" if hosts else f"{self.offsite} off-site"
            )
        if self.robots:
            parts.append(f"{self.robots} robots.txt")
        if self.gone:
            parts.append(f"{self.gone} gone (404/410 lately)")
        if self.over_limit:
            parts.append(f"{self.over_limit} over max_pages")
        other = self.skipped - self.offsite - self.robots - self.gone - self.over_limit
        if other > 0:
            parts.append(f"{other} other (see the log)")
        return f"skipped: {', '.join(parts)}" if parts else ""

    def error(self, reason: str) -> None:
        self.failed += 1
        if len(self.errors) < 20:
            self.errors.append(reason)

    def finish(self) -> None:
        if self.index_ok == 0 and self.index_failed > 0:
            self.status = "failed"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class CrawlReport:
    """The whole run."""

    sources: dict[str, SourceReport] = field(default_factory=dict)
    seconds: float = 0.0
    timed_out: bool = False

    def source(self, name: str) -> SourceReport:
        return self.sources.setdefault(name, SourceReport(name))

    @property
    def all_failed(self) -> bool:
        return bool(self.sources) and all(s.status == "failed" for s in self.sources.values())

    def total(self, counter: str) -> int:
        return sum(int(getattr(s, counter)) for s in self.sources.values())

    def summary_line(self) -> str:
        failed_sources = sum(s.status == "failed" for s in self.sources.values())
        parts = ", ".join(f"{self.total(c)} {c}" for c in COUNTERS)
        return (
            f"Done: {len(self.sources)} sources ({failed_sources} failed): {parts} "
            f"in {self.seconds:.1f} seconds"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "sources": {n: s.as_dict() for n, s in self.sources.items()},
            "seconds": round(self.seconds, 2),
            "timed_out": self.timed_out,
        }
