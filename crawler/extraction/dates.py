"""Find a page's publication date: JSON-LD, meta tags, <time>, a visible byline, then the URL."""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import date, datetime

from htmldate import find_date
from lxml import html

logger = logging.getLogger(__name__)

META_NAMES = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "citation_publication_date",
    "article.published",
    "published",
)
MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_ISO_RE = re.compile(
    r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?(?!\d)"
)
_ZH_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_EN_MDY_RE = re.compile(r"\b([A-Z][a-z]{2,8})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_EN_DMY_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Z][a-z]{2,8})\.?,?\s+(\d{4})\b")
_URL_RE = re.compile(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:[/._-]|$)")
_BYLINE_HINT = re.compile(
    r"(?i)published|posted|updated|date|byline|发布|日期|时间|来源|發佈|發布|作者"
)


def _valid(y: int, m: int, d: int) -> date | None:
    try:
        day = date(y, m, d)
    except ValueError:
        return None
    if not 1990 <= y <= datetime.now().year + 1:
        return None
    return day


def parse_date_text(text: str) -> str | None:
    """The first date in a string, as ISO 8601 (with the time and offset when given)."""
    if not text:
        return None
    match = _ISO_RE.search(text)
    if match:
        y, m, d, hh, mm, ss, tz = match.groups()
        day = _valid(int(y), int(m), int(d))
        if day:
            if hh is None:
                return day.isoformat()
            stamp = f"{day.isoformat()}T{int(hh):02d}:{mm}:{ss or '00'}"
            if tz:
                tz = "+00:00" if tz == "Z" else (tz if ":" in tz else f"{tz[:3]}:{tz[3:]}")
                stamp += tz
            return stamp
    match = _ZH_RE.search(text)
    if match:
        day = _valid(*(int(g) for g in match.groups()))
        if day:
            return day.isoformat()
    for regex, order in ((_EN_MDY_RE, "mdy"), (_EN_DMY_RE, "dmy")):
        for match in regex.finditer(text):
            if order == "mdy":
                month_name, d, y = match.groups()
            else:
                d, month_name, y = match.groups()
            month = MONTHS.get(month_name.lower())
            if month:
                day = _valid(int(y), month, int(d))
                if day:
                    return day.isoformat()
    return None


def _jsonld_dates(tree: html.HtmlElement) -> str | None:
    for node in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(node)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                for key in ("datePublished", "dateCreated", "uploadDate"):
                    value = item.get(key)
                    if isinstance(value, str):
                        found = parse_date_text(value)
                        if found:
                            return found
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
    return None


def _meta_dates(tree: html.HtmlElement) -> str | None:
    metas: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (meta.get(attr) or "").strip().lower()
            if key and key not in metas:
                metas[key] = meta.get("content") or ""
    for name in META_NAMES:
        if name in metas:
            found = parse_date_text(metas[name])
            if found:
                return found
    return None


def _time_dates(tree: html.HtmlElement) -> str | None:
    scopes = tree.xpath("//article|//main|//*[@itemprop='articleBody']/..") or [tree]
    for scope in [*scopes, tree]:
        for el in scope.xpath(".//*[@itemprop='datePublished'] | .//time"):
            for value in (el.get("datetime"), el.get("content"), el.text_content()):
                found = parse_date_text(value or "")
                if found:
                    return found
    return None


def _byline_dates(tree: html.HtmlElement) -> str | None:
    scopes = tree.xpath("//article|//main") or tree.xpath("//body") or [tree]
    candidates: list[str] = []
    for scope in scopes:
        for el in scope.xpath(".//*[not(self::script or self::style)]"):
            words = f"{el.get('class', '')} {el.get('id', '')}"
            own = (el.text or "") + " " + " ".join(c.tail or "" for c in el)
            if _BYLINE_HINT.search(words) or _BYLINE_HINT.search(own):
                text = el.text_content()
                if len(text) < 200:
                    candidates.append(text)
    for text in candidates:
        found = parse_date_text(" ".join(text.split()))
        if found:
            return found
    return None


def url_date(url: str | None) -> str | None:
    """A date written into a URL path (/2018/03/05/ or /20180305/)."""
    if not url:
        return None
    match = _URL_RE.search(url)
    if match:
        day = _valid(*(int(g) for g in match.groups()))
        if day:
            return day.isoformat()
    return None


def find_published(tree: html.HtmlElement, url: str | None = None) -> str | None:
    """The publication date of a page (before chrome is removed) as ISO 8601, or None. The tree
    is not changed."""
    for finder in (_jsonld_dates, _meta_dates, _time_dates, _byline_dates):
        found = finder(tree)
        if found:
            logger.debug("date %s for %s by %s", found, url, finder.__name__)
            return found
    found = url_date(url)
    if found:
        return found
    try:
        return find_date(copy.deepcopy(tree), extensive_search=True, original_date=True, url=url)
    except Exception:  # htmldate gives up in many ways on odd pages
        logger.debug("htmldate failed on %s", url, exc_info=True)
        return None
