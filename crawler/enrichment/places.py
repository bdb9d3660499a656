"""Locations: cities, provinces and countries in English and Chinese, by canonical English name."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from csrnews.crawler.enrichment.textutil import PhraseIndex, drop_overlaps

logger = logging.getLogger(__name__)

# Where the story's event happened is named in a role, not merely mentioned:
# "gathered in Shenzhen", "signed in Beijing on 5 December", "the forum in Nanning",
# "the launch in London" (a word of happening or of an event, a few words, then "in").
_EN_EVENT_WORDS = (
    r"held|hosted|signed|gathered|convened|met|took\s+place|takes\s+place|opened|launched"
    r"|unveiled|announced|staged|organi[sz]ed|based"
    r"|forum|summit|conference|meeting|ceremony|workshop|seminar|symposium|roundtable"
    r"|congress|expo|fair|event|session|launch|training"
)
_EN_SLOT_RE = re.compile(
    rf"\b(?:{_EN_EVENT_WORDS})(?:[^\S\n]+[\w'-]+){{0,3}}?[^\S\n]+in[^\S\n]+(?:the[^\S\n]+)?$",
    re.IGNORECASE,
)
# "在南宁举行的峰会", "在北京签署合作谅解备忘录", "于杭州召开": 在/于, the place, then a verb of
# happening in the same clause.
_ZH_EVENT_VERBS = "举行|召开|举办|签署|签订|签约|揭晓|发布|开幕|闭幕|启动|开班|揭牌|颁奖"
_ZH_BEFORE_RE = re.compile(r"(?:在|(?<![由对关至属等])于)$")
_ZH_AFTER_RE = re.compile(rf"[^，。；;、:：,\n]{{0,15}}?(?:{_ZH_EVENT_VERBS})")
# A later event is not the story's: "Similar courses will be held in Xi'an", "后续培训将在江苏举办".
_FUTURE_RE = re.compile(
    r"\b(?:will|shall|next\s+year|plans?\s+to|planned\s+to)\b|\bto\s+be\s+held\b|[将拟]|计划|预计"
)
_CLAUSE_END_RE = re.compile(r"[.;!?。；！？\n]")
# "Venue: Marina Convention Centre, Singapore", "地点：上海国际会议中心": a venue line.
_VENUE_RE = re.compile(r"(?:^|\n)\s*(?:Venue|Location|Place|地点|会议地点|举办地点)\s*[:：][^\n]*$")
# A notice's addressees, a line of their own near the top ("各省、自治区、直辖市及计划单列市、
# 新疆生产建设兵团工业和信息化主管部门：", "To the competent departments of all provinces ...:"):
# bodies written to, not where anything happens.
_ADDRESSEES_RE = re.compile(r"^(?:各|To\s)[^\n]{0,200}[:：]\s*$", re.MULTILINE)
# A dateline opens the body: "NEW YORK, 20 September 2023 -", "NANNING -", "BEIJING (Reuters) -".
_DATELINE_RE = re.compile(r"\s*([A-Z][A-Z'.]*(?:[ -][A-Z][A-Z'.]*){0,3})\s*(?:,|-\s|\()")


@dataclass
class PlaceMatcher:
    """Compiled place data: case-sensitive names, and a regex for the idiom patterns."""

    index: PhraseIndex
    pattern: re.Pattern[str] | None
    pattern_names: dict[str, str]
    countries: frozenset[str] = frozenset()
    # Latin names and aliases, case-folded, for a dateline written in capitals.
    folded: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PlaceMatcher:
        index = PhraseIndex()
        pattern_names: dict[str, str] = {}
        branches: list[str] = []
        folded: dict[str, str] = {}
        for entry in data.get("locations") or []:
            name = str(entry["name"]).strip()
            for alias in [name, *(str(a) for a in entry.get("aliases") or [])]:
                index.add(alias, name, ignore_case=False)
                if alias.isascii():
                    folded.setdefault(" ".join(alias.split()).casefold(), name)
            for pat in entry.get("patterns") or []:
                group = f"p{len(pattern_names)}"
                pattern_names[group] = name
                branches.append(f"(?P<{group}>{pat})")
        pattern = re.compile("|".join(branches)) if branches else None
        countries = frozenset(
            str(e["name"]) for e in data.get("locations") or [] if e.get("kind") == "country"
        )
        return cls(index, pattern, pattern_names, countries, folded)

    def find(
        self,
        text: str,
        masked: Sequence[tuple[int, int]] = (),
        body_start: int = 0,
        slots_end: int | None = None,
        country: str | None = None,
    ) -> list[str]:
        """Canonical place names, the event's place first: places named as where something
        happens ("held in X", "在X举行", a venue line; not "will be held in X") in order, then
        the others in order of first mention, a dateline in capitals at `body_start`
        ("BEIJING, 22 April -") among them. Matches inside `masked` are skipped. A `country`
        (a national policy's) comes right after the event's places, before those mentioned."""
        matches = self.index.finditer(text)
        slots: dict[str, int] = {}
        if self.pattern is not None:
            for match in self.pattern.finditer(text):
                # The idiom patterns ("在京举行") name the event's place by construction.
                idiom = self.pattern_names[match.lastgroup or ""]
                matches.append((*match.span(), idiom))
                slots.setdefault(idiom, match.start())
        head = text[body_start : body_start + 400]
        masked = [
            *masked,
            *(
                (body_start + m.start(), body_start + m.end())
                for m in _ADDRESSEES_RE.finditer(head)
            ),
        ]
        dateline = self._dateline(text, body_start)
        if dateline is not None:
            matches.append(dateline)
        found: dict[str, None] = {}
        national: dict[str, None] = {}
        for start, end, name in drop_overlaps(matches):
            if not any(s < end and start < e for s, e in masked):
                found.setdefault(str(name), None)
                if (slots_end is None or start < slots_end) and self._in_slot(text, start, end):
                    slots.setdefault(str(name), start)
            elif name in self.countries:
                # "中国ESG研究院", "Canon (China)": a national body's country is the story's
                # scope too, after every place named in its own right.
                national.setdefault(str(name), None)
        first = sorted((n for n in slots if n in found), key=slots.__getitem__)
        if country is not None and country not in first:
            first.append(country)
        ordered = first + [n for n in found if n not in first]
        return ordered + [n for n in national if n not in ordered]

    def _dateline(self, text: str, body_start: int) -> tuple[int, int, str] | None:
        """The place of a dateline in capitals at the start of the body, if any."""
        match = _DATELINE_RE.match(text, body_start)
        name = match and self.folded.get(" ".join(match.group(1).split()).casefold())
        return (*match.span(1), name) if match and name else None

    @staticmethod
    def _in_slot(text: str, start: int, end: int) -> bool:
        """Whether the place at text[start:end] is named as where something happens."""
        before = text[max(0, start - 60) : start]
        if _VENUE_RE.search(before):
            return True
        if not (
            _EN_SLOT_RE.search(before)
            or (_ZH_BEFORE_RE.search(before) and _ZH_AFTER_RE.match(text, end))
        ):
            return False
        clause = _CLAUSE_END_RE.split(before)[-1]
        return not _FUTURE_RE.search(clause)
