"""Load and validate sources.yaml: every mistake is reported with the file, source and key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from csrnews.crawler import settings as defaults
from csrnews.crawler.extraction.selectors import check_selector

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


class _DuplicateKey(yaml.YAMLError):
    """A mapping gives one key twice (YAML says keys are unique; PyYAML keeps the last)."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first is not None:
                raise _DuplicateKey(
                    f"line {line}: key {key!r} is given twice (also on line {first})"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str, path: Path) -> Any:
    """YAML text to data, every way it can fail a one-line SourcesError naming the file."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: no arbitrary objects
    except _DuplicateKey as exc:
        raise SourcesError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourcesError(f"{path}: {where}not valid YAML: {what}") from None
    except RecursionError:
        raise SourcesError(f"{path}: nested too deeply to be a sources file") from None


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
    # Hosts whose pages the source may fetch (and their subdomains); empty: any host. A feed
    # lists its publisher's own article URLs, wherever they live, so a feed follows its
    # entries to any host unless `allowed_domains` says otherwise; sitemaps and listings stay
    # on the hosts of their URLs by default.
    allowed_domains: list[str] = field(default_factory=list)

    def allows(self, url: str) -> bool:
        """True when ``url``'s host is one of allowed_domains (or a subdomain), or any is."""
        if not self.allowed_domains:
            return True
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        return any(
            host == domain or host.endswith("." + domain)
            for domain in (d.lower().strip().rstrip(".") for d in self.allowed_domains)
        )


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
        allowed = [] if kind == "feed" else sorted({urlsplit(u).hostname or "" for u in urls})
    elif not isinstance(allowed, list) or not all(isinstance(d, str) and d for d in allowed):
        raise fail("allowed_domains", "expected a list of domain names")
    elif not all(re.fullmatch(r"[A-Za-z0-9.-]+", d.strip()) for d in allowed):
        raise fail("allowed_domains", "expected host names such as example.org (no URLs)")
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
    data: Any = _load_yaml(text, path)
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
        raw = path.read_bytes()
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise SourcesError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{byte}); save the file as UTF-8"
        ) from None
    return parse_sources(text, path)
