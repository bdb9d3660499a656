"""Choose between extractions of one page, and drop the chrome left inside the chosen one.

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

# "Read more: [headline](url)", "See also » [headline](url)", ">> [headline](url)": a paragraph
# that is a short label and one link points to another story.
_ONE_LINK_RE = re.compile(r"\[(?:\\.|[^\]\\\n])+\]\([^)\s]*\)")
_BAR_REST_RE = re.compile(r"[\s|>»/·•,;:\-–—*_\\]*")
_COPYRIGHT_RE = re.compile(r"(?i)^\W{0,6}(?:©|\(c\)\s|copyright\b)")
_LABEL_END = (":", "：", "»", ">>", "→", "|")
_EMPHASIS = "*_ \t\u00a0"


def weight(text: str) -> int:
    """Characters, a Chinese character counting three: Chinese says in 60 what English says in
    about 180."""
    return len(text) + 2 * len(_CJK_RE.findall(text))


def _visible(line: str) -> str:
    return _MARKS_RE.sub("", _LINK_RE.sub(r"\1", line)).strip()


def prose(markdown: str) -> int:
    """Weighted characters in lines long enough to be prose: not headings, labels, nor table
    rows (a layout table read as one row holds a whole page, chrome and all), nor lines that
    are mostly links (lists of headlines)."""
    total = 0
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("|", "#")):
            continue
        chars = weight(_visible(line))
        if chars < PROSE_MIN:
            continue
        linked = sum(weight(label) for label in _LINK_RE.findall(line))
        if linked < 0.5 * chars:
            total += chars
    return total


def size(markdown: str) -> int:
    """Weighted visible characters of Markdown."""
    return sum(weight(_visible(line)) for line in markdown.split("\n"))


def lost_story(cleaned: str, raw: str) -> bool:
    """Whether the cleaned extraction lost the story that the raw one has: it is empty, or it
    has much less prose. Headline lists that only the raw one keeps are not prose."""
    if not cleaned.strip():
        return bool(raw.strip())
    return prose(cleaned) < LOST * prose(raw)


def _is_see_also(line: str) -> bool:
    core = line.strip(_EMPHASIS)
    if not core.endswith(")") or "](" not in core or core[:1] in "-+" or core[:1].isdigit():
        return False
    start = core.find("[")
    label = core[:start].strip(_EMPHASIS)
    if not label or len(label) > 40 or not label.endswith(_LABEL_END):
        return False
    return _ONE_LINK_RE.fullmatch(core[start:].strip(_EMPHASIS)) is not None


def _is_link_bar(line: str) -> bool:
    """A line (or table row) of two or more links and nothing but separators: a navigation bar."""
    if line.count("](") < 2:
        return False
    rest = _ONE_LINK_RE.sub("", line)
    return _BAR_REST_RE.fullmatch(rest) is not None and len(_ONE_LINK_RE.findall(line)) >= 2


def _is_copyright(line: str) -> bool:
    """A short copyright or credit notice ("© 2020 Example Ltd. All rights reserved")."""
    visible = _visible(line)
    return len(visible) < 120 and _COPYRIGHT_RE.match(visible) is not None


def drop_chrome_lines(markdown: str) -> str:
    """Remove what is left of chrome in the chosen text: paragraphs that are only a label and a
    link to another story ("Read more: …"), bars of links, copyright notices."""
    return "\n".join(
        line
        for line in markdown.split("\n")
        if not (_is_see_also(line) or _is_link_bar(line) or _is_copyright(line))
    )
