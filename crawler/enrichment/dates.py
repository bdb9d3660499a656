"""Event date from phrases such as "On August 28" (resolved against publication), "8月28日"."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

logger = logging.getLogger(__name__)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# Month names are matched capitalised only ("May 12", not "may 12").
_MONTH = r"(?P<{g}>" + "|".join(n.capitalize() for n in sorted(_MONTHS, key=len, reverse=True))
_MONTH += r")\.?"
_DAY = r"(?P<{g}>[0-3]?\d)(?:st|nd|rd|th)?"
_DATE_RE = re.compile(
    "|".join(
        [
            # "August 28", "August 28, 2016", "Aug. 28 2016"
            rf"(?<![A-Za-z]){_MONTH.format(g='m1')}\s+{_DAY.format(g='d1')}"
            r"(?![\d:])(?:,?\s+(?P<y1>(?:19|20)\d{2}))?",
            # "28 August", "28 August 2016"
            rf"(?<![\d.]){_DAY.format(g='d2')}\s+{_MONTH.format(g='m2')}(?![A-Za-z])"
            r"(?:,?\s+(?P<y2>(?:19|20)\d{2}))?",
            # "in August 2016" (month precision)
            rf"(?<![A-Za-z]){_MONTH.format(g='m3')}(?:,)?\s+(?P<y3>(?:19|20)\d{{2}})(?!\d)",
            # "2016年8月28日", "8月28日", "2016年8月"
            r"(?:(?P<y4>(?:19|20)\d{2})\s*年\s*)?(?P<m4>1[0-2]|0?[1-9])\s*月\s*(?P<d4>[0-3]?\d)\s*[日号]",
            r"(?P<y5>(?:19|20)\d{2})\s*年\s*(?P<m5>1[0-2]|0?[1-9])\s*月(?!\s*\d)",
        ]
    ),
)
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
# "on Friday", "周五", "星期五", "yesterday", "昨日": relative to publication, used only when
# the text gives no explicit day.
_RELATIVE_RE = re.compile(
    r"(?<![A-Za-z])on\s+(?P<en>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?![A-Za-z])"
    r"|(?<![每隔])(?:上?周|星期|礼拜)(?P<zh>[一二三四五六日天])"
    r"|(?<![A-Za-z])(?P<yesterday>yesterday|昨天|昨日)"
)
# How far before publication an event may lie, and how far after (a story dated the evening
# before an event in another time zone).
_WINDOW_BEFORE = timedelta(days=400)
_WINDOW_AFTER = timedelta(days=2)


def _candidate(
    match: re.Match[str], published: date | None, retrospective: bool = False
) -> tuple[date, bool] | None:
    """The date a match names and whether it has day precision (None when it is not a date).
    `retrospective` (a look back, such as a top-10 list): a year-less date is the latest one
    not after publication, not the nearest."""
    g = match.groupdict()
    if g["m1"] or g["m2"]:
        month = _MONTHS[(g["m1"] or g["m2"]).lower().rstrip(".")]
        day, year_text, precise = int(g["d1"] or g["d2"]), g["y1"] or g["y2"], True
    elif g["m3"]:
        month, day, year_text, precise = _MONTHS[g["m3"].lower().rstrip(".")], 1, g["y3"], False
    elif g["m4"]:
        month, day, year_text, precise = int(g["m4"]), int(g["d4"]), g["y4"], True
    else:
        month, day, year_text, precise = int(g["m5"]), 1, g["y5"], False
    if year_text:
        year = int(year_text)
    elif published is not None:
        # A year-less date takes the year that puts it nearest publication: "On December 28"
        # in a January story is last year's, "from March 1" in a February story this year's.
        try:
            if retrospective:
                year = max(
                    y
                    for y in (published.year - 1, published.year)
                    if date(y, month, min(day, 28)) <= published + _WINDOW_AFTER
                )
            else:
                year = min(
                    (published.year + delta for delta in (-1, 0, 1)),
                    key=lambda y: abs((date(y, month, min(day, 28)) - published).days),
                )
        except ValueError:
            return None
    else:
        return None
    try:
        return date(year, month, day), precise
    except ValueError:
        return None


def _relative(text: str, published: date | None) -> date | None:
    """The first weekday or "yesterday" in the text, resolved against publication."""
    if published is None:
        return None
    match = _RELATIVE_RE.search(text)
    if match is None:
        return None
    if match.group("yesterday"):
        return published - timedelta(days=1)
    if match.group("en"):
        weekday = _WEEKDAYS[match.group("en").lower()]
    else:
        weekday = _ZH_WEEKDAYS[match.group("zh")]
    if match.group(0).startswith("上周"):
        # Last calendar week's day: back to this week's Monday, a week back, then forward.
        return published - timedelta(days=published.weekday() + 7 - weekday)
    # The most recent such day on or before publication.
    back = (published.weekday() - weekday) % 7
    return published - timedelta(days=back)


def find_event_date(text: str, published: date | None, retrospective: bool = False) -> date | None:
    """The first day-precise date near publication; else a weekday or "yesterday" resolved
    against publication; else the first month-precise date. `retrospective`: see _candidate."""
    month_only: date | None = None
    for match in _DATE_RE.finditer(text):
        found = _candidate(match, published, retrospective)
        if found is None:
            continue
        when, precise = found
        if published is not None:
            if when > published + _WINDOW_AFTER or when < published - _WINDOW_BEFORE:
                continue
        if precise:
            return when
        if month_only is None:
            month_only = when
    return _relative(text, published) or month_only
