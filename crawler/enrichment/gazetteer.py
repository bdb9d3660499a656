"""Organisations: gazetteer look-up (English and Chinese aliases) and acronyms defined in text."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from csrnews.crawler.enrichment.orgnames import (
    _ZH_NATIONAL,
    ChineseNames,
    english_names,
    linking_forms,
    short_forms,
)
from csrnews.crawler.enrichment.textutil import PhraseIndex, alias_key, is_acronym

logger = logging.getLogger(__name__)

# "China Electronics Standardization Association (CESA)": capitalised words (with small
# connectors) right before an acronym in brackets.
_WORD = r"(?:[A-Z][\w'&.-]*|of|and|for|the|on|in|&|für|de|du|des)"
_DEFINED_RE = re.compile(rf"((?:{_WORD}\s+)*{_WORD})\s*\(([A-Z][A-Za-z]{{1,9}})\)")
# "深圳绿色电子联盟（SGEA）" (brackets arrive NFKC-normalised): Chinese characters before it, cut
# after the last character that joins rather than names ("与", "由", "在" ...).
_DEFINED_ZH_RE = re.compile(r"([\u4e00-\u9fff]{2,30})\(([A-Z][A-Za-z]{1,9})\)")
_ZH_CUT_RE = re.compile(r"^.*[与及由在是被同向对为将据从把给跟了以经于]")
_CONNECTORS = {"of", "and", "for", "the", "on", "in", "&", "für", "de", "du", "des", "The"}
# Bodies of their own that carry a parent's name: a company's foundation ("Tencent Charity
# Foundation", "阿里巴巴公益基金会"), a ministry's institute ("商务部国际贸易经济合作研究院").
_OWN_EN_RE = re.compile(r"\b(?:Foundation|Charitable Trust|Charity Trust)$")
_OWN_ZH = ("基金会", "慈善会", "慈善总会")
_GOVERNMENT_ZH = ("部", "委", "局", "署", "厅", "总局")
_INSTITUTES_ZH = (
    "研究院", "研究所", "研究中心", "中心", "学院", "大学", "协会", "学会", "商会", "促进会",
)  # fmt: skip
# "United Nations (UN) Global Compact": an acronym in brackets inside a name does not cut it.
_INNER_ACRONYM_RE = re.compile(
    r"(?<=[A-Za-z])\s*\((?:[A-Z]{2,8}|(?:[A-Z]\.){2,4})\)(?=\s+[A-Z][a-z])"
)


def _case_sensitive(alias: str) -> bool:
    """Capitals-only aliases ("ISO") and one capitalised word ("Shift", "Apple", "Mars")
    match only as written; other Latin aliases ("amfori", "World Bank") in any case."""
    if is_acronym(alias):
        return True
    return alias.isascii() and " " not in alias.strip() and alias[:1].isupper()


def _own_body(text: str, start: int, end: int, inside: list[tuple[int, int]]) -> bool:
    """Whether the name text[start:end], which holds the known names at `inside`, is a body
    of its own: a foundation, or an institute of a government body named first."""
    name = text[start:end]
    if inside[-1][1] >= end:
        return False  # the known name is the whole name, or runs past it
    if _OWN_EN_RE.search(name) or name.endswith(_OWN_ZH):
        return True
    first_start, first_end = inside[0]
    head = next((h for h in _INSTITUTES_ZH if name.endswith(h)), "")
    return (
        bool(head)
        and first_start == start
        and text[first_start:first_end].endswith(_GOVERNMENT_ZH)
        and end - len(head) - first_end >= 2
    )


@dataclass
class Gazetteer:
    """Compiled organisation data: a phrase index over every alias, a map from alias to name."""

    index: PhraseIndex
    canonical: dict[str, str]
    heads: frozenset[str] = field(default_factory=frozenset)
    heads_zh: tuple[str, ...] = ()
    ignore: frozenset[str] = field(default_factory=frozenset)
    chinese: ChineseNames = field(default_factory=ChineseNames)
    places: tuple[str, ...] = ()
    english_places: frozenset[str] = frozenset()
    # Aliases that match only as written ("Shift", "ISO"), and their keys.
    exact: frozenset[str] = frozenset()
    exact_keys: frozenset[str] = frozenset()
    # A national government body's country, by canonical name ("MIIT": "China").
    countries: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Gazetteer:
        canonical: dict[str, str] = {}
        exact: set[str] = set()
        countries: dict[str, str] = {}
        index = PhraseIndex()
        for entry in data.get("organisations") or []:
            name = str(entry["name"]).strip()
            if entry.get("country"):
                countries[name] = str(entry["country"]).strip()
            for alias in [name, *(str(a) for a in entry.get("aliases") or [])]:
                key = alias_key(alias)
                if key in canonical and canonical[key] != name:
                    logger.warning("alias %r of %r already names %r", alias, name, canonical[key])
                    continue
                canonical[key] = name
                index.add(alias, name, ignore_case=not _case_sensitive(alias))
                if _case_sensitive(alias):
                    exact.add(alias)
        heads = frozenset(str(h) for h in data.get("acronym_heads") or [])
        heads_zh = tuple(str(h) for h in data.get("acronym_heads_zh") or [])
        ignore = frozenset(alias_key(str(n)) for n in data.get("acronym_ignore") or [])
        return cls(
            index,
            canonical,
            heads,
            heads_zh,
            ignore,
            exact=frozenset(exact),
            exact_keys=frozenset(alias_key(a) for a in exact),
            countries=countries,
        )

    def use_places(self, places: tuple[str, ...]) -> None:
        """Place names (English and Chinese) that may start an organisation's name."""
        self.places = places
        self.english_places = frozenset(p for p in places if p.isascii())
        chinese_places = tuple(p for p in places if not p.isascii() and len(p) >= 2)
        # Government bodies of the gazetteer start names whole ("商务部国际贸易经济合作研究院").
        government = tuple(
            key for key in self.canonical if not key.isascii() and key.endswith(_GOVERNMENT_ZH)
        )
        self.chinese = ChineseNames(
            tuple(p for p in places if not p.isascii()),
            anchors=tuple(sorted({*chinese_places, *_ZH_NATIONAL, *government}, key=len)),
        )

    def find(
        self, text: str, masked: list[tuple[int, int]] | tuple[()] = (), body_start: int = 0
    ) -> tuple[list[str], list[tuple[int, int]]]:
        """Canonical names in order of first mention, and the spans they were found at.

        Spans in `masked` (standards: "ISO 26000", "RBA Code of Conduct") hold no actor.
        Names found by their form are looked for from `body_start` on (a Title Case headline
        is all capitals) and only where the gazetteer found nothing.
        """

        def free(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
            return not any(s < end and start < e for s, e in taken)

        # Same length: spans found in the blanked text are spans of `text`.
        blanked = _INNER_ACRONYM_RE.sub(lambda m: " " * len(m.group(0)), text)
        hits = [
            (start, end, str(name))
            for start, end, name in self.index.finditer(blanked)
            # "商务部门", "工信部门": a department, not the ministry.
            if not (text[end - 1 : end] == "部" and text[end : end + 1] == "门")
            # "China-ASEAN Business Summit", "中国-东盟": a modifier of another name.
            and not (start >= 2 and text[start - 1] == "-" and text[start - 2].isalnum())
            and free(start, end, list(masked))
        ]
        hits += [
            (span[0], span[1], name)
            for name, span in self.defined_acronyms(text)
            if free(span[0], span[1], list(masked))
        ]
        taken = [(s, e) for s, e, _ in hits] + list(masked)
        # Names found by their form often start with their place ("Suzhou Ruida ...",
        # "东莞市商务局"): that place still counts, so only gazetteer spans are returned.
        known_spans = [(s, e) for s, e, _ in hits]
        by_form = english_names(text[body_start:], self.english_places)
        by_form = [(s + body_start, e + body_start, n) for s, e, n in by_form]
        by_form += self.chinese.find(text)
        linked: list[tuple[int, int, str]] = []
        kept, parents = self._beside_known(text, by_form, taken, known_spans)
        own_spans = {(s, e) for s, e, _ in kept if any(s <= p < e for p, _ in parents)}
        if parents:
            hits = [h for h in hits if (h[0], h[1]) not in parents]
            known_spans = [span for span in known_spans if span not in parents]
        for start, end, name in kept:
            # A legal name links to the entry of its company: "Haier Smart Home Co., Ltd.",
            # "Hangzhou Hikvision Digital Technology Co., Ltd.".
            known = self.canonical.get(alias_key(name)) or next(
                (
                    self.canonical[alias_key(form)]
                    for form in linking_forms(name, self.places)
                    if alias_key(form) in self.canonical
                    and (alias_key(form) not in self.exact_keys or form in self.exact)
                ),
                None,
            )
            if known is not None:
                linked.append((start, end, known))
                continue
            if alias_key(name) in self.ignore:
                continue
            linked.append((start, end, name))
        hits += linked
        # A company named in full may be named short later: "Huaxin Precision", "华新精密".
        for _start, _end, name in linked:
            for form in short_forms(name, self.places):
                at = text.find(form)
                while at >= 0:
                    if free(at, at + len(form), [(s, e) for s, e, _ in hits]):
                        hits.append((at, at + len(form), name))
                    at = text.find(form, at + len(form))
        hits.sort()
        found = list(dict.fromkeys(name for _, _, name in hits))
        # "Canon" beside "Canon (China)", "UN Global Compact" beside "UN Global Compact Network
        # China": the shorter name is the same body, present in a place and named short. A
        # foundation or an institute is a body of its own: "Tencent" beside "Tencent Charity
        # Foundation" stays.
        own = {name for s, e, name in kept if (s, e) in own_spans}
        fuller = {
            short: long
            for short in found
            for long in found
            if long != short
            and long not in own
            and long.startswith(short)
            and not long[len(short)].isalnum()
        }
        found = list(dict.fromkeys(fuller.get(name, name) for name in found))
        return found, sorted(known_spans)

    def _beside_known(
        self,
        text: str,
        by_form: list[tuple[int, int, str]],
        taken: list[tuple[int, int]],
        known: list[tuple[int, int]],
    ) -> tuple[list[tuple[int, int, str]], set[tuple[int, int]]]:
        """Names found by form that the gazetteer or a standard does not cover, and the known
        spans that turned out to be part of a body of its own. A run that joins a known body
        to another ("Inditex and IndustriALL Global Union") keeps the other; a run that only
        extends a known body ("Lenovo Supplier Academy", "Committee of CETC") is that body's
        unit and gives nothing; but a company's foundation ("Tencent Charity Foundation") and
        a ministry's institute ("商务部国际贸易经济合作研究院") are bodies of their own."""
        kept: list[tuple[int, int, str]] = []
        parents: set[tuple[int, int]] = set()
        for start, end, name in by_form:
            inside = sorted((s, e) for s, e in taken if s < end and start < e)
            if not inside:
                kept.append((start, end, name))
                continue
            if all(span in known for span in inside) and _own_body(text, start, end, inside):
                kept.append((start, end, name))
                parents.update(inside)
                continue
            if not name.isascii():
                continue
            cursor = start
            for s, e in [*inside, (end, end)]:
                segment = text[cursor:s]
                joined_after = cursor > start and re.match(r"\s*(?:,|and\b|&)", segment)
                joined_before = s < end and re.search(r"(?:,|\band|&)\s*$", segment)
                if segment.strip() and (joined_after or joined_before):
                    for s2, e2, n2 in english_names(segment, self.english_places):
                        kept.append((cursor + s2, cursor + e2, n2))
                cursor = max(cursor, e)
        return kept, parents

    def defined_acronyms(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """Bodies introduced as "Full Name (ACRONYM)" that the gazetteer does not know."""
        results = []
        for match in _DEFINED_RE.finditer(text):
            words, acronym = match.group(1).split(), match.group(2)
            if alias_key(acronym) in self.canonical:
                continue
            # Drop leading words until the name starts with the acronym's first letter.
            while words and (words[0] in _CONNECTORS or words[0][0] != acronym[0]):
                words.pop(0)
            if len(words) < 2 or words[-1] in _CONNECTORS:
                continue
            if words[-1].strip(".,") not in self.heads and words[0] != "Ministry":
                continue
            name = " ".join(words)
            if alias_key(name) in self.canonical or alias_key(name) in self.ignore:
                continue
            results.append((name, match.span()))
        for match in _DEFINED_ZH_RE.finditer(text):
            name, acronym = _ZH_CUT_RE.sub("", match.group(1)), match.group(2)
            if alias_key(acronym) in self.canonical or alias_key(name) in self.canonical:
                continue
            if alias_key(name) in self.ignore:
                continue
            if len(name) >= 4 and name.endswith(self.heads_zh):
                start = match.start(1) + len(match.group(1)) - len(name)
                results.append((name, (start, match.end())))
        return results
