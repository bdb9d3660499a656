"""Top-10 items inside a story: "No.2 MOFCOM convenes ...", "Reason for listing:", "入选理由："."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ITEM_RE = re.compile(
    r"^\s*(?:\*\*|#{2,4}\s*)?\s*(?:"
    r"No\.?\s*(?P<n1>\d{1,2})(?![\d,])"
    r"|第\s*(?P<n2>[一二三四五六七八九十]{1,3}|\d{1,2})\s*(?:名|位)?(?=[\s、:：.,，])"
    r"|(?P<n3>\d{1,2})\s*[.、)](?!\d)"
    r"|(?P<n4>[一二三四五六七八九十]{1,3})\s*、"
    r")[\s、:：.,，]*(?P<rest>.*)$",
    re.IGNORECASE,
)
_REASON_RE = re.compile(
    r"(?:\*\*)?(?:Reasons?\s+for\s+(?:listing|selection|inclusion)|Why\s+it\s+matters"
    r"|入选理由|上榜理由|推荐理由|评选理由)\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])|(?<=[。！？])")


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


def _headline(body: str) -> str:
    """The bold lead if there is one, else the first sentence."""
    if "**" in body:
        lead = body.split("**", 1)[0].strip()
        if lead:
            return lead.rstrip(".。 ")
    first = _SENTENCE_END_RE.split(body.strip(), maxsplit=1)[0]
    return first.replace("**", "").strip().rstrip(".。 ")


def find_items(text: str) -> list[dict[str, object]]:
    """Numbered entries with their headline and reason for listing, in the order written."""
    items: list[dict[str, object]] = []
    open_item: dict[str, object] | None = None
    blank_since_item = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            blank_since_item = True
            continue
        start = _ITEM_RE.match(stripped)
        if start and start.group("rest").strip():
            body = start.group("rest").strip()
            open_item = {"rank": _rank(start), "body": body, "reason": ""}
            items.append(open_item)
            blank_since_item = False
        elif open_item is not None and not open_item["reason"]:
            if _REASON_RE.match(stripped) or not blank_since_item:
                open_item["body"] = f"{open_item['body']} {stripped}"
            else:
                open_item = None
        else:
            open_item = None
    results: list[dict[str, object]] = []
    for item in items:
        body = str(item["body"])
        parts = _REASON_RE.split(body, maxsplit=1)
        reason = parts[1].replace("**", "").strip() if len(parts) > 1 else ""
        headline = _headline(parts[0])
        if headline:
            results.append({"rank": item["rank"], "headline": headline, "reason": reason})
    ranks = [r["rank"] for r in results]
    if len(results) < 3 or len(set(ranks)) != len(ranks):
        return []
    return results
