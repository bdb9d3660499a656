"""What the three spiders share: conditional GET of index pages and incremental story fetches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import scrapy
from csrnews.crawler.context import CrawlContext, open_run
from csrnews.crawler.items import FeedEntry, StoryItem
from csrnews.crawler.report import SourceReport
from csrnews.crawler.sources import Source
from csrnews.crawler.urls import clean_url, url_key
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


def content_type(response: Response) -> str:
    """The response's Content-Type header ("" when it has none)."""
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else ""


def request_url(response: Response) -> str:
    """The URL that was asked for (before redirects), as the crawl state keeps it."""
    return response.request.url if response.request else response.url


def failure_reason(failure: Failure) -> str:
    """A short reason for a failed request: 'HTTP 500', 'DNS lookup failed', 'timeout' ..."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    name = type(exc).__name__
    if "DNS" in name:
        return "DNS lookup failed"
    if "Timeout" in name:
        return "timeout"
    if "ConnectionRefused" in name:
        return "connection refused"
    text = str(exc).strip()
    return f"{name}: {text}"[:200] if text else name


class StoryMixin:
    """Story requests that skip what is stored, and items handed to the pipelines."""

    source: Source
    ctx: CrawlContext
    report: SourceReport
    name: str

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        """Scrapy's constructor; run by `scrapy crawl NAME`, the run's context is opened here."""
        if kwargs.get("ctx") is None:
            kwargs["ctx"] = open_run(crawler, getattr(cls, "source", None))
        return super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]

    def given(self, source: Source | None, ctx: CrawlContext | None) -> tuple[Source, CrawlContext]:
        """The source (given, or the class's own: csrnews.crawler.spiderloader) and context."""
        source = source or getattr(type(self), "source", None)
        if source is None or ctx is None:
            raise ValueError(f"{type(self).__name__} needs a source and a crawl context")
        return source, ctx

    def setup(self, source: Source, ctx: CrawlContext) -> None:
        self.source = source
        self.ctx = ctx
        self.report = ctx.report.source(source.name)
        self.story_count = 0
        self.seen: set[str] = set()
        # The hosts a source may reach are checked here (offsite()), before a request is made,
        # where a link to another host is counted in the report. Scrapy's own offsite filter
        # (empty: any host) is left to stop redirects to other hosts; story_error counts them.
        self.allowed_domains: list[str] = list(source.allowed_domains)
        self._filtered: set[str] = set()

    def offsite(self, url: str) -> bool:
        """True (and counted, and logged) when ``url`` is on a host the source may not use."""
        if self.source.allows(url):
            return False
        self.report.skip_offsite(url)
        logger.info(
            "source %s: %s skipped (off-site: not in allowed_domains)", self.source.name, url
        )
        return True

    def offsite_filtered(self, url: str) -> None:
        """Scrapy's offsite filter dropped a request (a redirect to another host): count it."""
        if url in self._filtered:
            return
        self._filtered.add(url)
        self.report.skip_offsite(url)
        logger.info("source %s: %s skipped (off-site redirect)", self.source.name, url)

    def _ignored(self, failure: Failure, url: str) -> None:
        """A request Scrapy's middlewares ruled out (robots.txt, off-site): counted as skipped."""
        if "robots.txt" in str(failure.value):
            self.report.skip_robots()
        elif "offsite" in str(failure.value).lower():
            self.offsite_filtered(url)
        else:
            self.report.skipped += 1
        logger.info("source %s: %s not fetched (%s)", self.source.name, url, failure.value)

    # Index documents (feeds, sitemaps, listings).
    def index_request(self, url: str, callback: Callable[..., Any], **kw: Any) -> scrapy.Request:
        etag, modified = self.ctx.state.validators(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        meta = {"handle_httpstatus_list": [304], "index_doc": True, **kw.pop("meta", {})}
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.index_error,
            headers=headers,
            meta=meta,
            dont_filter=True,
            **kw,
        )

    def index_response(self, response: Response) -> None:
        self.report.fetched += 1
        self.report.index_ok += 1

    def save_index(self, response: Response, children: Any) -> None:
        """Keep an index document's validators with what it listed, for a 304 next time."""
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        self.ctx.state.save_doc(
            request_url(response),
            etag.decode("latin-1") if etag else None,
            modified.decode("latin-1") if modified else None,
            children,
        )

    def index_failed(self, url: str, reason: str) -> None:
        self.report.index_failed += 1
        self.report.error(f"{url}: {reason}")
        logger.warning("source %s: %s: %s", self.source.name, url, reason)

    def index_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self._ignored(failure, request.url)
            self.report.index_failed += 1
            self.report.errors.append(f"{request.url}: not allowed ({failure.value})")
            return
        self.index_failed(request.url, failure_reason(failure))

    # Stories.
    def story_request(
        self, url: str, entry_hash: str | None = None, fallback: FeedEntry | None = None
    ) -> scrapy.Request | None:
        """A request for a story page, or None when it is stored and unchanged (or over limits)."""
        url = clean_url(url)
        key = url_key(url)
        if key in self.seen:
            return None
        self.seen.add(key)
        if self.offsite(url):
            return None
        stored = self.ctx.lookup(key)
        if stored is not None:
            record = self.ctx.state.story(key)
            if entry_hash is None or record is None or record.entry_hash == entry_hash:
                self.report.unchanged += 1
                return None
        if self.ctx.state.is_gone(key, entry_hash):
            self.report.skip_gone()
            return None
        if self.story_count >= self.source.max_pages:
            self.report.skip_over_limit()
            return None
        self.story_count += 1
        # Meta stays plain data: a distributed crawl keeps requests as JSON.
        meta = {
            "entry_hash": entry_hash,
            "fallback": fallback.as_meta() if fallback else None,
            "story_url": url,
        }
        return scrapy.Request(url, callback=self.parse_story, errback=self.story_error, meta=meta)

    def parse_story(self, response: Response) -> Iterator[StoryItem]:
        self.report.fetched += 1
        if response.url != response.meta["story_url"] and self.offsite(response.url):
            return  # redirected to a host the source may not use
        yield StoryItem(
            source=self.source.name,
            url=response.meta["story_url"],
            final_url=response.url,
            body=response.body,
            content_type=content_type(response),
            entry_hash=response.meta.get("entry_hash"),
            fallback=FeedEntry.from_meta(response.meta.get("fallback")),
        )

    def story_error(self, failure: Failure) -> Iterator[StoryItem]:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self._ignored(failure, request.url)
            return
        fallback = FeedEntry.from_meta(request.meta.get("fallback"))
        if fallback and fallback.html:
            logger.info(
                "source %s: %s: %s; using the feed's own text",
                self.source.name,
                request.url,
                failure_reason(failure),
            )
            yield StoryItem(
                source=self.source.name,
                url=request.meta["story_url"],
                final_url=request.url,
                entry_hash=request.meta.get("entry_hash"),
                fallback=fallback,
            )
            return
        if failure.check(HttpError) and failure.value.response.status in (404, 410):
            self.ctx.state.save_gone(
                url_key(request.meta["story_url"]),
                request.url,
                failure.value.response.status,
                request.meta.get("entry_hash"),
            )
        self.report.error(f"{request.url}: {failure_reason(failure)}")
