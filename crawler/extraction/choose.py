"""Choose between extractions of one page by how much prose each holds.

The cleaned tree (chrome removed around the content) usually gives the cleaner text; the raw
tree, left to trafilatura's own cleaning, is the guard when chrome removal lost the story.
"""

from __future__ import annotations

import re

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LINK_RE = re.compile(r"\[((?:\\.|[^\]\\])*)\]\([^)\s]*\)")
_MARKS_RE = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)|[*_`]")
PROSE_MIN = 60  # a line of fewer weighted characters is a label, a headline or a link
LOST = 0.5  # the cleaned text lost the story when it has less than this share of the prose
SHORT = 500  # a text shorter than this (weighted characters) is worth a retry in other modes


def weight(text: str) -> int:
    """Characters, a Chinese character counting three: Chinese says in 60 what English says in
    about 180."""
    return len(text) + 2 * len(_CJK_RE.findall(text))


def visible(line: str) -> str:
    """A Markdown line's text as a reader sees it: no link targets, marks or emphasis."""
    return _MARKS_RE.sub("", _LINK_RE.sub(r"\1", line)).strip()


def prose(markdown: str) -> int:
    """Weighted characters in lines long enough to be prose: not headings, labels, nor table
    rows (a layout table read as one row holds a whole page, chrome and all), nor lines that
    are mostly links (lists of headlines)."""
    total = 0
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("|", "#")):
            continue
        chars = weight(visible(line))
        if chars < PROSE_MIN:
            continue
        linked = sum(weight(label) for label in _LINK_RE.findall(line))
        if linked < 0.5 * chars:
            total += chars
    return total


def size(markdown: str) -> int:
    """Weighted visible characters of Markdown."""
    return sum(weight(visible(line)) for line in markdown.split("\n"))


def lost_story(cleaned: str, raw: str) -> bool:
    """Whether the cleaned extraction lost the story that the raw one has: it is empty, or it
    has much less prose. Headline lists that only the raw one keeps are not prose."""
    if not cleaned.strip():
        return bool(raw.strip())
    return prose(cleaned) < LOST * prose(raw)
