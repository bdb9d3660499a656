"""Top-10 items inside a story: "No.2 MOFCOM convenes ...", "Reason for listing:", "入选理由：".

The layouts real lists use: the number and headline as a heading ("## No.2 ...",
"### 2. ..."), a bold line ("**No.2 ...**") or a plain line ("No.2 ... . More text"); the
reason label on its own line or inline; the reason running over several paragraphs until the
next entry, a heading, or the page's closing links ("See also", "相关阅读" ...). A page of
one entry (a list published entry by entry) gives one item when it has a reason.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SEP = r"[\s、:：.,，|｜)）\-–—]"
_ITEM_RE = re.compile(
    r"^(?:"
    r"No\.?\s*(?P<n1>\d{1,2})(?![\d,])"
    rf"|第\s*(?P<n2>[一二三四五六七八九十]{{1,3}}|\d{{1,2}})\s*(?:名|位)?(?={_SEP})"
    r"|(?P<n3>\d{1,2})\s*[.、)）](?!\d)"
    r"|(?P<n4>[一二三四五六七八九十]{1,3})\s*、"
    rf"){_SEP}*(?P<rest>.*)$",
    re.IGNORECASE,
)
_LABEL = (
    r"(?:Reasons?\s+for\s+(?:listing|selection|inclusion)|Why\s+it\s+matters|Why\s+it\s+was\s+chosen"
    r"|入选理由|上榜理由|推荐理由|评选理由)"
)
# The label at the start of a line, with its text after it (empty when alone on the line).
_REASON_RE = re.compile(
    rf"^(?:\*\*|__)?\s*{_LABEL}\s*(?:\*\*|__)?\s*[:：]?\s*(?:\*\*|__)?\s*(?P<text>.*)$",
    re.IGNORECASE,
)
# The same label inside a line ("... takes shape. Reason for listing: ...").
_INLINE_REASON_RE = re.compile(
    rf"(?:\*\*|__)?{_LABEL}\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?", re.IGNORECASE
)
_CLOSING_RE = re.compile(
    r"^(?:see\s+also|related(?:\s+(?:stories|articles|links|reading))?|read\s+more|more\s+on|"
    r"further\s+reading|back\s+to|previous|next|share\s+(?:this|on)|tags?|"
    r"相关阅读|相关链接|相关新闻|延伸阅读|推荐阅读|更多|返回|上一篇|下一篇|分享到?|责任编辑|编辑|"
    r"来源|source)\s*[:：|]",
    re.IGNORECASE,
)
_LINK_ONLY_RE = re.compile(r"^(?:[-*•|]?\s*\[[^\]]*\]\([^)]*\)\s*)+$|^[←→«»].*$")
_HEADING_RE = re.compile(r"^#{1,6}\s+")
_EMPHASIS_RE = re.compile(r"^(\*\*|__)(?P<inner>.+?)\1\s*(?P<after>.*)$")
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])|(?<=[。！？])")
_END_PUNCT = tuple(".!?。！？…:：;；\"”'’)）")


def _rank(match: re.Match[str]) -> int:
    text = next(t for t in match.group("n1", "n2", "n3", "n4") if t)
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS[text[1]]
    tens, _, units = text.partition("十")
    return _CN_DIGITS[tens] * (10 if "十" in text else 1) + (_CN_DIGITS[units] if units else 0)


def _clean(text: str) -> str:
    return text.replace("**", "").replace("__", "").strip()


def _headline(rest: str, whole_line: bool) -> str:
    """The bold lead if there is one; the whole line for a heading; else the first sentence."""
    rest = rest.strip().lstrip("|｜:：-–— ").strip()
    if rest.startswith("**") and "**" in rest[2:]:
        lead = rest[2:].split("**", 1)[0].strip()
        if lead:
            return lead.rstrip(".。 ")
    if "**" in rest:
        lead = rest.split("**", 1)[0].strip()
        if lead:
            return lead.rstrip(".。 ")
    if whole_line:
        return _clean(rest).rstrip(".。 ")
    first = _SENTENCE_END_RE.split(rest, maxsplit=1)[0]
    return _clean(first).rstrip(".。 ")


def _entry_start(line: str) -> tuple[re.Match[str], bool] | None:
    """The numbered entry a line starts, and whether the line is a heading or bold line."""
    marked = bool(_HEADING_RE.match(line))
    line = _HEADING_RE.sub("", line).strip()
    emphasis = _EMPHASIS_RE.match(line)
    if emphasis and not emphasis.group("after"):
        line, marked = emphasis.group("inner").strip(), True
    elif line.startswith(("**", "__")):
        line = line[2:].strip()
    match = _ITEM_RE.match(line)
    if match is None or not match.group("rest").strip(" *_"):
        return None
    return match, marked


def _is_heading_like(line: str) -> bool:
    """A short line without a sentence's end: a section heading ("Selection panel's comment")."""
    if _HEADING_RE.match(line):
        return True
    plain = _clean(line)
    return len(plain) <= 60 and not plain.endswith(_END_PUNCT)


def find_items(text: str) -> list[dict[str, object]]:
    """Numbered entries with their headline and reason for listing, in the order written."""
    items: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    paragraphs: list[str] = []  # the current reason's paragraphs
    blank = False
    for raw in text.splitlines():
        line = _ESCAPE_RE.sub(r"\1", raw.strip())
        if not line:
            blank = True
            continue
        start = _entry_start(line)
        if start is not None:
            match, marked = start
            rest = match.group("rest")
            reason_inline = ""
            parts = _INLINE_REASON_RE.split(rest, maxsplit=1)
            if len(parts) > 1:
                rest, reason_inline = parts
            paragraphs = [_clean(reason_inline)] if reason_inline.strip() else []
            current = {
                "rank": _rank(match),
                "headline": _headline(rest, marked),
                "has_reason": len(parts) > 1,
                "paragraphs": paragraphs,
            }
            items.append(current)
            blank = False
            continue
        if current is None:
            continue
        if _CLOSING_RE.match(line) or _LINK_ONLY_RE.match(line):
            current["closed"] = True
            current = None
            continue
        reason = _REASON_RE.match(line)
        if reason is not None and not current["has_reason"]:
            current["has_reason"] = True
            paragraphs = []
            current["paragraphs"] = paragraphs
            if reason.group("text").strip():
                paragraphs.append(_clean(reason.group("text")))
            blank = False
            continue
        if not current["has_reason"]:
            blank = False
            continue  # the entry's description, before its reason
        if paragraphs and _is_heading_like(line) and blank:
            current["closed"] = True
            current = None  # a new section after the reason ("Selection panel's comment")
            continue
        if paragraphs and not blank:
            paragraphs[-1] = f"{paragraphs[-1]} {_clean(line)}"
        else:
            paragraphs.append(_clean(line))
        blank = False
    return _finish(items)


def _finish(items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Items as written to `Top10_items`. A list's last reason that runs to the end of the
    page (no closing links, no new section) is as long as the list's other reasons: what
    follows is the page's own closing words."""
    reasons = [list(item["paragraphs"]) for item in items]  # type: ignore[call-overload]
    if len(items) >= 2 and reasons[-1] and not items[-1].get("closed"):
        longest = max((len(r) for r in reasons[:-1]), default=1)
        reasons[-1] = reasons[-1][: max(longest, 1)]
    results = [
        {"rank": item["rank"], "headline": item["headline"], "reason": "\n\n".join(reason)}
        for item, reason in zip(items, reasons, strict=True)
        if item["headline"]
    ]
    ranks = [r["rank"] for r in results]
    if len(set(ranks)) != len(ranks):
        return []
    if len(results) >= 3 or any(r["reason"] for r in results):
        return results
    return []


_TITLE_ENTRY_RE = re.compile(
    r"(?:^|[\s:：|｜\-–—])(?P<entry>No\.?\s*\d{1,2}(?!\d).*)$"
    r"|(?:十大|Top\s*10|Top\s*ten).*?之(?P<zh>[一二三四五六七八九十]{1,3})\s*[:：]?\s*(?P<zhrest>.+)$",
    re.IGNORECASE,
)


def find_items_with_title(title: str, text: str) -> list[dict[str, object]]:
    """Items of the text; for a page that is one entry whose number is only in its title
    ("2016 Top 10 CSR Events - No.3: ...", "十大事件之三：..."), that entry."""
    items = find_items(text)
    if items:
        return items
    match = _TITLE_ENTRY_RE.search(title.strip())
    if match is None:
        return []
    entry = match.group("entry") or f"第{match.group('zh')}：{match.group('zhrest')}"
    found = find_items(f"{entry}\n\n{text}")
    return found if len(found) == 1 and found[0]["reason"] else []
