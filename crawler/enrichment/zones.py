"""Where a word stands in a story: headline, lead or body, and whether it only names a venue."""

from __future__ import annotations

import re
from dataclasses import dataclass

ZONES = ("headline", "lead", "body")

_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“‘'(0-9])|(?<=[。！？])")
# A dateline or portal opener before the lead proper: "BRUSSELS - ", "本网讯 ", "记者 陈晨 报道 ".
_DATELINE_RE = re.compile(
    r"^(?:[A-Z][A-Z .'-]{2,30}(?:,\s*[^-–—]{3,30})?\s+[-–—]+\s+"
    r"|(?:本刊讯|本网讯|本报讯|讯)\s*|记者\s*\S{1,8}\s*(?:报道|摄)\s*)"
)
_LEAD_MIN_CHARS = 40  # shorter paragraphs before the lead are headings ("Event", "【项目背景】")
_LEAD_SENTENCES = 2

# A setting rather than the event: "at the China-ASEAN Business Summit", "在…年会上",
# "论坛期间", and what happens "同期" (alongside) the main event.
_VENUE_EN = re.compile(
    r"(?<![A-Za-z])(?:at|during|on the sidelines of|on the margins of|ahead of|alongside)\s+"
    r"(?:the\s+|this\s+year's\s+|its\s+)?(?:[^\s.,;:!?]+\s+){0,8}?"
    r"(?:summit|forum|conference|meeting|congress|expo|fair|symposium|roundtable|week)s?"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_VENUE_ZH = re.compile(
    r"在[^，。；！？,;\s]{2,30}?(?:峰会|论坛|年会|大会|会议|研讨会|博览会|交流会|活动)(?:上|期间|现场)"
    r"|[^，。；！？,;\s]{2,30}?(?:峰会|论坛|年会|大会|会议|研讨会|博览会|交流会)期间"
    r"|同期[^，。；！？,;\s]{0,12}"
)


@dataclass
class Zones:
    """A story cut into the parts that weigh differently for its event type."""

    headline: str
    lead: str
    body: str

    def items(self) -> list[tuple[str, str]]:
        return [("headline", self.headline), ("lead", self.lead), ("body", self.body)]


def _long_enough(paragraph: str) -> bool:
    wide = sum(1 for c in paragraph if "\u4e00" <= c <= "\u9fff")
    return len(paragraph) + wide >= _LEAD_MIN_CHARS


def split_zones(title: str, body: str) -> Zones:
    """Headline (the title), lead (the first real paragraph, at most two sentences), body."""
    text = body.strip()
    paragraphs = [p.strip() for p in _PARAGRAPH_RE.split(text) if p.strip()]
    if len(paragraphs) <= 1 and "\n" in text:
        paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    lead_parts: list[str] = []
    rest: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if not _long_enough(paragraph) and index + 1 < len(paragraphs) and len(lead_parts) < 3:
            lead_parts.append(paragraph)
            continue
        paragraph = _DATELINE_RE.sub("", paragraph, count=1)
        sentences = _SENTENCE_RE.split(paragraph)
        lead_parts.append(" ".join(sentences[:_LEAD_SENTENCES]))
        tail = " ".join(sentences[_LEAD_SENTENCES:]).strip()
        rest = ([tail] if tail else []) + paragraphs[index + 1 :]
        break
    return Zones(title.strip(), "\n".join(lead_parts), "\n\n".join(rest))


def venue_spans(text: str) -> list[tuple[int, int]]:
    """Spans that name where or alongside what something happened, not what happened."""
    spans = [m.span() for m in _VENUE_EN.finditer(text)]
    spans += [m.span() for m in _VENUE_ZH.finditer(text)]
    return spans
