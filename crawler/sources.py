"""Load and validate sources.yaml: every mistake is reported with the file, source and key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from crawler import settings as defaults

TYPE_KEYS = ("feed", "sitemap", "start_urls")
SOURCE_KEYS = frozenset(
    {
        "name",
        *TYPE_KEYS,
        "article_links",
        "follow_links",
        "lang",
        "selectors",
        "republish",
        "max_pages",
        "allowed_domains",
    }
)
TOP_KEYS = frozenset({"sources", "user_agent", "contact", "redis"})
SELECTOR_KEYS = frozenset({"title", "date", "body"})


class SourcesError(ValueError):
    """The sources file is invalid; the message names the file, the source and the key."""


@dataclass
class Source:
    """One source of stories, as sources.yaml describes it."""

    name: str
    kind: str  # feed | sitemap | listing
    urls: list[str]
    article_links: re.Pattern[str] | None = None
    follow_links: re.Pattern[str] | None = None
    lang: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    republish: str = "full"
    max_pages: int = defaults.MAX_PAGES
    allowed_domains: list[str] = field(default_factory=list)


@dataclass
class SourcesConfig:
    """The whole sources file."""

    path: Path
    sources: list[Source]
    user_agent: str = defaults.USER_AGENT
    redis: str | None = None  # the shared frontier of a distributed crawl (redis://HOST:PORT/DB)


def _url_ok(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _parse_source(path: Path, index: int, raw: object, seen: set[str]) -> Source:
    label = f"source #{index + 1}"

    def fail(key: str, why: str) -> SourcesError:
        return SourcesError(f"{path}: {label}: key '{key}': {why}")

    if not isinstance(raw, dict):
        raise SourcesError(f"{path}: {label}: expected a mapping with 'name' and a URL key")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "missing or not a string")
    label = f"source '{name}'"
    if name in seen:
        raise fail("name", "used by another source")
    seen.add(name)
    for key in raw:
        if key not in SOURCE_KEYS:
            raise fail(str(key), f"unknown key (known: {', '.join(sorted(SOURCE_KEYS))})")
    kinds = [key for key in TYPE_KEYS if key in raw]
    if len(kinds) != 1:
        raise fail("feed/sitemap/start_urls", "give exactly one of feed, sitemap or start_urls")
    kind = kinds[0]
    value = raw[kind]
    if kind == "start_urls":
        if not isinstance(value, list) or not value:
            raise fail(kind, "expected a non-empty list of URLs")
        urls = value
    else:
        urls = [value]
    for url in urls:
        if not _url_ok(url):
            raise fail(kind, f"not an http(s) URL: {url!r}")

    def regex(key: str) -> re.Pattern[str] | None:
        if key not in raw:
            return None
        if not isinstance(raw[key], str):
            raise fail(key, "expected a regular expression (a string)")
        try:
            return re.compile(raw[key])
        except re.error as exc:
            raise fail(key, f"bad regular expression: {exc}") from None

    article_links, follow_links = regex("article_links"), regex("follow_links")
    if kind == "feed" and (article_links or follow_links):
        bad = "article_links" if article_links else "follow_links"
        raise fail(bad, "not used with 'feed'")
    if kind == "sitemap" and follow_links:
        raise fail("follow_links", "not used with 'sitemap'")
    if kind == "start_urls" and article_links is None:
        raise fail("article_links", "required with 'start_urls'")

    lang = raw.get("lang")
    if lang is not None and (
        not isinstance(lang, str) or not re.fullmatch(r"[a-zA-Z-]{2,10}", lang)
    ):
        raise fail("lang", "expected a language code such as en or zh")
    selectors = raw.get("selectors") or {}
    if not isinstance(selectors, dict):
        raise fail("selectors", "expected a mapping of title/date/body to CSS or XPath")
    for key, sel in selectors.items():
        if key not in SELECTOR_KEYS:
            raise fail(f"selectors.{key}", "unknown selector (known: body, date, title)")
        if not isinstance(sel, str) or not sel.strip():
            raise fail(f"selectors.{key}", "expected a CSS or XPath string")
        from crawler.extraction.selectors import check_selector

        problem = check_selector(sel)
        if problem:
            raise fail(f"selectors.{key}", problem)
    republish = raw.get("republish", "full")
    if republish not in ("full", "excerpt"):
        raise fail("republish", "expected 'full' or 'excerpt'")
    max_pages = raw.get("max_pages", defaults.MAX_PAGES)
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        raise fail("max_pages", "expected a positive integer")
    allowed = raw.get("allowed_domains")
    if allowed is None:
        allowed = sorted({urlsplit(u).hostname or "" for u in urls})
    elif not isinstance(allowed, list) or not all(isinstance(d, str) and d for d in allowed):
        raise fail("allowed_domains", "expected a list of domain names")
    return Source(
        name=name.strip(),
        kind="listing" if kind == "start_urls" else kind,
        urls=list(urls),
        article_links=article_links,
        follow_links=follow_links,
        lang=lang,
        selectors=dict(selectors),
        republish=republish,
        max_pages=max_pages,
        allowed_domains=list(allowed),
    )


def parse_sources(text: str, path: str | Path = "sources.yaml") -> SourcesConfig:
    """Parse and validate the text of a sources file."""
    path = Path(path)
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SourcesError(f"{path}: expected a mapping with a 'sources:' list")
    for key in data:
        if key not in TOP_KEYS:
            raise SourcesError(
                f"{path}: key '{key}': unknown top-level key (known: {', '.join(sorted(TOP_KEYS))})"
            )
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise SourcesError(f"{path}: key 'sources': expected a non-empty list of sources")
    seen: set[str] = set()
    sources = [_parse_source(path, i, raw, seen) for i, raw in enumerate(raw_sources)]
    user_agent = data.get("user_agent", defaults.USER_AGENT)
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise SourcesError(f"{path}: key 'user_agent': expected a string")
    contact = data.get("contact")
    if contact is not None:
        if not isinstance(contact, str) or not contact.strip():
            raise SourcesError(f"{path}: key 'contact': expected a URL or e-mail address")
        if "user_agent" not in data:
            user_agent = f"csrnews/0.1 (+{contact.strip()})"
        elif contact not in user_agent:
            user_agent = f"{user_agent.strip()} (+{contact.strip()})"
    redis = data.get("redis")
    if redis is not None and (
        not isinstance(redis, str) or not redis.startswith(("redis://", "rediss://", "unix://"))
    ):
        raise SourcesError(f"{path}: key 'redis': expected a URL such as redis://HOST:6379/0")
    return SourcesConfig(path=path, sources=sources, user_agent=user_agent.strip(), redis=redis)


def load_sources(path: str | Path) -> SourcesConfig:
    """Read and validate a sources file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc.strerror}") from None
    return parse_sources(text, path)
