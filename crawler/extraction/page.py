"""Extract one page: trafilatura for the main text (selectors override), title, date, lang."""

from __future__ import annotations

import copy
import json
import logging
import re
from configparser import ConfigParser
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin

import trafilatura
from csrnews.crawler.extraction.choose import SHORT, lost_story, prose, size
from csrnews.crawler.extraction.chrome import plain_story, remove_chrome
from csrnews.crawler.extraction.clean import (
    clean_tree,
    escape_markdown,
    markdown_to_text,
    parse_html,
    sanitize_attributes,
    sanitize_markdown,
    security_clean,
    unwrap_layout_tables,
)
from csrnews.crawler.extraction.content import Content, find_content, find_lead
from csrnews.crawler.extraction.dates import find_published, parse_date_text
from csrnews.crawler.extraction.encoding import decode_page
from csrnews.crawler.extraction.lines import drop_chrome_lines
from csrnews.crawler.extraction.selectors import select_html, select_text
from lxml import html
from trafilatura.settings import use_config

logger = logging.getLogger(__name__)

MIN_EXTRACTED_SIZE_CJK = 20  # characters; trafilatura's 250 sends short Chinese texts to fallbacks

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TITLE_SPLIT_RE = re.compile(r"\s+[|\-–—_·»]\s+|\s*[|｜_]\s*|\s*(?:--|——|－－)\s*")


@dataclass
class Extracted:
    """What one page gives: the story's title, date, language, Markdown body and plain text."""

    url: str | None
    title: str
    date: str | None
    lang: str
    markdown: str
    text: str
    canonical_url: str | None = None
    links: list[str] = field(default_factory=list)  # every http(s) link on the page
    encoding: str | None = None
    encoding_reason: str | None = None  # why that encoding: header, <meta>, valid UTF-8, ...
    # where the text came from: cleaned, story (wrappers made plain), raw, recall, plain (no
    # inline formatting), selectors; "+lead" when the lead was restored
    extraction: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def detect_lang(text: str, declared: str | None = None, default: str | None = None) -> str:
    """'zh' for mostly-Chinese text; otherwise the declared page language, the default or 'en'."""
    sample = "".join(text.split())[:4000]
    if sample:
        ratio = len(_CJK_RE.findall(sample)) / len(sample)
        if ratio > 0.25:
            return "zh"
        if ratio < 0.02 and declared and declared.lower().startswith("zh"):
            return "en"
    if declared:
        return declared.split("-")[0].split("_")[0].lower()
    return (default or "en").lower()


def _metas(tree: html.HtmlElement) -> dict[str, str]:
    """The page's <meta> values by property, name or itemprop (the first of each), read once."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = " ".join((meta.get("content") or "").split())
        if content:
            for attr in ("property", "name", "itemprop"):
                key = meta.get(attr)
                if key:
                    found.setdefault(key, content)
    return found


def _meta(metas: dict[str, str], *names: str) -> str:
    return next((metas[name] for name in names if metas.get(name)), "")


def _find_title(tree: html.HtmlElement, metas: dict[str, str]) -> str:
    for expr in ("//article//h1", "//main//h1", "//*[@itemprop='headline']", "//h1"):
        for el in tree.xpath(expr):
            text = " ".join(el.text_content().split())
            if text:
                return text
    og = _meta(metas, "og:title", "twitter:title", "headline")
    if og:
        return og
    titles = tree.xpath("//title")
    if titles:
        raw = " ".join(titles[0].text_content().split())
        parts = [p for p in _TITLE_SPLIT_RE.split(raw) if p.strip()]
        return max(parts, key=len) if parts else raw
    return ""


def _links(tree: html.HtmlElement, base: str | None, limit: int = 500) -> list[str]:
    found: dict[str, None] = {}
    for href in tree.xpath("//a/@href")[:limit]:
        try:
            link = urljoin(base or "", href.strip())
        except ValueError:  # a malformed URL ([bogus] host) is no link
            continue
        if link.startswith(("http://", "https://")):
            found.setdefault(link, None)
    return list(found)


def _canonical(tree: html.HtmlElement, metas: dict[str, str]) -> str | None:
    found = tree.xpath('//link[@rel="canonical"]/@href')
    if found and found[0].strip():
        return found[0].strip()
    return _meta(metas, "og:url") or None


def _config(min_size: int | None = None) -> ConfigParser:
    config = use_config()
    if min_size is not None:
        config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(min_size))
    return config


_CONFIG = _config()
# Chinese says in 60 characters what English says in 250: accept shorter main texts.
_CJK_CONFIG = _config(MIN_EXTRACTED_SIZE_CJK)


def _is_cjk(tree: html.HtmlElement) -> bool:
    """Whether a (script-free) page is mostly Chinese."""
    body = tree.find("body")
    sample = "".join((body if body is not None else tree).text_content().split())[:5000]
    return bool(sample) and len(_CJK_RE.findall(sample)) / len(sample) > 0.2


def _trafilatura_markdown(
    tree: html.HtmlElement, url: str | None, cjk: bool, **options: bool
) -> str:
    settings: dict[str, Any] = {  # keyword arguments of trafilatura.extract
        "include_tables": True,
        "include_links": True,
        "include_formatting": True,
        "include_comments": False,
        "include_images": False,
        "deduplicate": False,
        "with_metadata": False,
    }
    settings.update(options)
    try:
        result = trafilatura.extract(
            tree,
            url=url,
            output_format="markdown",
            config=_CJK_CONFIG if cjk else _CONFIG,
            **settings,
        )
    except (ValueError, TypeError, AttributeError, IndexError):  # odd input, one mode: others try
        logger.debug("trafilatura failed on %s with %s", url, options, exc_info=True)
        return ""
    return result or ""


def _choose_markdown(
    raw_tree: html.HtmlElement,
    cleaned: html.HtmlElement,
    found: Content,
    url: str | None,
    cjk: bool,
    page_size: int,
) -> tuple[str, str]:
    """The story's Markdown and how it was found.

    From the cleaned tree, unless chrome removal lost the story there: a quick look at the raw
    tree (trafilatura's main extractor alone) tells, and the raw tree in full replaces it then.
    A text still short is retried: the cleaned tree with the story's wrappers made plain
    (trafilatura's own rules drop a "widget" or an <aside> around an article too), the raw
    tree in recall mode and without inline formatting (in which trafilatura sometimes settles
    on a smaller node); a retry replaces it when it lost the story that the retry finds.
    """
    markdown, how = _trafilatura_markdown(cleaned, url, cjk), "cleaned"
    short = size(markdown) < SHORT
    # The raw tree's text cannot have twice the prose of a cleaned text that holds half of the
    # page's text (prose is text outside links, bar a few words).
    if not short and 2 * prose(markdown) >= page_size:
        return markdown, how
    if short or lost_story(markdown, _trafilatura_markdown(raw_tree, url, cjk, fast=True)):
        raw = _trafilatura_markdown(raw_tree, url, cjk)
        if lost_story(markdown, raw):
            markdown, how = raw, "raw"
    if size(markdown) < SHORT:
        if plain_story(found):
            story = _trafilatura_markdown(cleaned, url, cjk)
            if lost_story(markdown, story):
                markdown, how = story, "story"
        for name, options in (
            ("recall", {"favor_recall": True}),
            ("plain", {"include_formatting": False}),
        ):
            retry = _trafilatura_markdown(raw_tree, url, cjk, **options)
            if lost_story(markdown, retry):
                markdown, how = retry, name
    return markdown, how


def _story_start(markdown: str) -> str:
    """The first words of the story's first paragraph of prose, as they appear on the page."""
    for line in markdown.split("\n"):
        if prose(line):
            words = " ".join(markdown_to_text(line).split())
            return words[:20]
    return ""


def _page_size(found: Content, raw_tree: html.HtmlElement, cjk: bool) -> int:
    """Weighted characters of the page's text outside links (what <noscript> holds included):
    the most prose any extraction of the page can have."""
    noscript = sum(len(el.text_content().strip()) for el in raw_tree.iter("noscript"))
    return (found.page + noscript) * (3 if cjk else 1)


def _with_lead(markdown: str, safe: html.HtmlElement, metas: dict[str, str], title: str) -> str:
    """The Markdown with the page's lead paragraph first, when the extractor left it out."""
    start = _story_start(markdown)
    names = ("description", "og:description", "twitter:description")
    for description in dict.fromkeys(_meta(metas, name) for name in names):
        lead = find_lead(safe, description, start) if description else None
        if lead:
            if lead == title or _has(markdown, lead):
                return markdown
            return f"{escape_markdown(lead)}\n\n{markdown}"
    return markdown


def _has(markdown: str, paragraph: str) -> bool:
    """Whether a paragraph's opening words are already in the Markdown's text."""
    start = " ".join(paragraph.split())[:48]
    return start in " ".join(markdown_to_text(markdown).split())


def _drop_title_line(markdown: str, title: str) -> str:
    """Trafilatura sometimes keeps the headline as the first line; the story has it as Title."""
    lines = markdown.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and title and re.sub(r"^#+\s*", "", lines[0]).strip() == title.strip():
        lines.pop(0)
    return "\n".join(lines).strip()


def extract_page(
    page: bytes | str,
    url: str | None = None,
    *,
    content_type: str | None = None,
    selectors: dict[str, str] | None = None,
    lang: str | None = None,
) -> Extracted:
    """Extract the story on a page (bytes are decoded by header, <meta> or a careful guess)."""
    encoding = encoding_reason = None
    if isinstance(page, bytes):
        decoded = decode_page(page, content_type)
        text, encoding, encoding_reason = decoded.text, decoded.encoding, decoded.reason
    else:
        text = page
    selectors = selectors or {}
    # No handler or unsafe URL survives in any tree an extractor sees; elements all stay, so that
    # trafilatura's own cleaning (and its rescue from JSON-LD) works on the page as it is.
    raw_tree = sanitize_attributes(parse_html(text))
    metas = _metas(raw_tree)
    declared = (
        raw_tree.get("lang") or _meta(metas, "og:locale", "content-language") or ""
    ).strip() or None
    for el in raw_tree.xpath("//meta[@http-equiv]"):
        if (el.get("http-equiv") or "").lower() == "content-language" and not declared:
            declared = (el.get("content") or "").strip() or None

    title = select_text(text, selectors["title"]) if "title" in selectors else ""
    date = None
    if "date" in selectors:
        date = parse_date_text(select_text(text, selectors["date"]))
    if not date:
        date = find_published(raw_tree, url)
    canonical = _canonical(raw_tree, metas)

    safe = security_clean(copy.deepcopy(raw_tree), attributes=False)
    cjk = _is_cjk(safe)
    markdown, how = "", ""
    if "body" in selectors:
        fragment = select_html(text, selectors["body"])
        if fragment:
            body_tree = clean_tree(
                sanitize_attributes(
                    parse_html(f"<html><body><article>{fragment}</article></body></html>")
                )
            )
            markdown, how = _trafilatura_markdown(body_tree, url, cjk), "selectors"
            if not markdown:
                markdown = body_tree.text_content().strip()
    cleaned = unwrap_layout_tables(copy.deepcopy(safe))
    found = find_content(cleaned)
    remove_chrome(cleaned, found)
    if not title:
        title = _find_title(cleaned, {}) or _find_title(raw_tree, metas)
    lead_allowed = not markdown
    if not markdown:
        page_size = _page_size(found, raw_tree, cjk)
        markdown, how = _choose_markdown(raw_tree, cleaned, found, url, cjk, page_size)
    markdown = sanitize_markdown(markdown, base_url=url)
    markdown = _drop_title_line(drop_chrome_lines(markdown), title)
    if lead_allowed:
        restored = _with_lead(markdown, safe, metas, title)
        if restored != markdown:
            markdown, how = sanitize_markdown(restored, base_url=url), how + "+lead"
    plain = markdown_to_text(markdown)
    return Extracted(
        url=url,
        title=title,
        date=date,
        lang=detect_lang(plain or title, declared, lang),
        markdown=markdown,
        text=plain,
        canonical_url=canonical,
        encoding=encoding,
        encoding_reason=encoding_reason,
        links=_links(raw_tree, url),
        extraction=how,
    )


def extraction_json(extracted: Extracted, extra: dict[str, object] | None = None) -> str:
    """One JSON line for `csrnews extract --json`."""
    data = extracted.as_dict()
    data.pop("links", None)
    data.update(extra or {})
    return json.dumps(data, ensure_ascii=False, default=str)
