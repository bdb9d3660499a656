"""Chrome left inside the chosen text, found line by line in its Markdown: "Read more" lines, bars
of links, copyright and picture-credit lines, and the link lists at the text's edges."""

from __future__ import annotations

import re

from csrnews.crawler.extraction.choose import PROSE_MIN, prose, visible, weight

# "Read more: [headline](url)", "See also » [headline](url)", ">> [headline](url)": a paragraph
# that is a short label and one link points to another story.
_ONE_LINK_RE = re.compile(r"\[(?:\\.|[^\]\\\n])+\]\([^)\s]*\)")
_LINK_PARTS_RE = re.compile(r"\[((?:\\.|[^\]\\\n])+)\]\(([^)\s]*)\)")
_BAR_REST_RE = re.compile(r"[\s|>»/·•,;:\-–—*_\\]*")
_COPYRIGHT_RE = re.compile(r"(?i)^\W{0,6}(?:©|\(c\)\s|copyright\b)")
# "Photo: …", "Bild: …", "Crédits photos : …", "Source: …", "图片来源：…", "（责任编辑：…）": who
# took a picture or where a text came from, a line of its own under a picture or the story.
_CREDIT_RE = re.compile(
    r"(?i)^\W{0,3}(?:photos?|fotos?|bild(?:er)?|images?|pictures?|credits?|crédits?(?: photos?)?"
    r"|titelbild|beitragsbild|abbildung|illustration|quellen?|sources?|fuente|图片来源|图片|图|摄影"
    r"|供图|责任编辑)\s*(?:\([^)]*\)\s*)?[:：|/]"
)
CREDIT_MAX = 100  # characters: a credit line is short; a paragraph that starts so is prose
_LABEL_END = (":", "：", "»", ">>", "→", "|")
_EMPHASIS = "*_ \t\u00a0"
# List bullets, quote and heading marks, and the dashes and arrows sites put before a link.
_LEADING_MARKS_RE = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d+[.)]\s+|\\?[-–—»>]\s*)*")
_LINK_REST_RE = re.compile(r"[\s|·•,;:.\-–—»>()\\*_]*")
# A link to a file (a picture, a PDF, a spreadsheet) is part of the story, not a way out of it.
_FILE_RE = re.compile(
    r"(?i)\.(?:jpe?g|png|gif|webp|svg|pdf|docx?|xlsx?|pptx?|zip|mp3|mp4)(?:[?#]|$)"
)
_URL_LABEL_RE = re.compile(r"(?i)^(?:https?://|www\.)|^\S+@\S+\.\w+$")
LINK_LABEL_MAX = 250  # characters: a longer link label is a paragraph that happens to be linked
_SENTENCE_END = tuple('.!?:;)"“”»…。！？：；）」』')


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
    text = visible(line)
    return len(text) < 120 and _COPYRIGHT_RE.match(text) is not None


def is_credit(line: str) -> bool:
    """A short line that says who took a picture or where the text came from ("Photo: …")."""
    text = visible(line)
    return len(text) < CREDIT_MAX and _CREDIT_RE.match(text) is not None


def is_link_line(line: str) -> bool:
    """A line that is one link to another page and nothing else: a teaser of another story, a
    "back to the list" link. A visible URL or e-mail address and a link to a file are the
    story's own."""
    core = _LEADING_MARKS_RE.sub("", line.strip()).strip(_EMPHASIS)
    found = _LINK_PARTS_RE.search(core)
    if found is None:
        return False
    rest = (core[: found.start()] + core[found.end() :]).strip(_EMPHASIS)
    if _LINK_REST_RE.fullmatch(rest) is None:
        return False
    label, target = found.group(1).strip(_EMPHASIS), found.group(2)
    if not label or len(label) > LINK_LABEL_MAX or _URL_LABEL_RE.search(label):
        return False
    return _FILE_RE.search(target) is None


def _is_list_title(line: str) -> bool:
    """A heading, a bold line or a short label ending in ":" or "?" ("Read also:", "Related")."""
    stripped = line.strip()
    if not stripped or "](" in stripped:
        return False
    text = visible(stripped)
    if weight(text) >= PROSE_MIN:
        return False
    bold = re.fullmatch(r"(\*\*|__).+\1", stripped) is not None
    return stripped.startswith("#") or bold or text.endswith((":", "：", "?", "？"))


def _is_dangling_label(line: str) -> bool:
    """A short label ending in a colon ("Read also:", "相关阅读："), with no link of its own."""
    text = visible(line)
    return "](" not in line and weight(text) < PROSE_MIN and text.endswith((":", "："))


def _ends_sentence(line: str) -> bool:
    stripped = line.strip()
    text = visible(stripped).rstrip(_EMPHASIS)
    return not text or text.endswith(_SENTENCE_END) or stripped.startswith(("#", "|", "- ", "* "))


def _edge_links(lines: list[str]) -> set[int]:
    """The indexes of the link lists at the start and the end of a text: lines that are each
    one link to another page (teasers of other stories under "Read also:", "More from ...",
    a back link, a breadcrumb's last step), with the list's title. A link that ends a sentence
    of the paragraph before is the story's own."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    start = 0
    while start < len(filled) and is_link_line(lines[filled[start]]):
        start += 1
    end = len(filled)
    if end > start and _is_dangling_label(lines[filled[end - 1]]):
        end -= 1  # "Related:" whose links the extractor left out introduces nothing
    while True:  # list after list ("Related" links, then "Most read" links), from the end
        run_end = end
        while end > start and is_link_line(lines[filled[end - 1]]):
            end -= 1
        if end == run_end or end == start:
            break
        before = lines[filled[end - 1]]
        if _is_list_title(before):
            end -= 1
        elif not _ends_sentence(before):
            end = run_end  # "... details are on the [council's site](url)."
            break
    if not any(prose(lines[i]) for i in filled[start:end]):
        return set()  # the links are all there is: leave them
    return set(filled[:start]) | set(filled[end:])


def drop_chrome_lines(markdown: str) -> str:
    """Remove what is left of chrome in the chosen text: paragraphs that are only a label and a
    link to another story ("Read more: …"), bars of links, copyright and credit lines, and the
    lists of links to other pages at the text's start and end."""
    lines = markdown.split("\n")
    edges = _edge_links(lines)
    return "\n".join(
        line
        for i, line in enumerate(lines)
        if i not in edges
        and not (_is_see_also(line) or _is_link_bar(line) or _is_copyright(line))
        and not is_credit(line)
    )
