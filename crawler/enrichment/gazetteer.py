"""Organisations: gazetteer look-up (English and Chinese aliases) and acronyms defined in text."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from crawler.enrichment.textutil import PhraseIndex, alias_key, is_acronym

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


@dataclass
class Gazetteer:
    """Compiled organisation data: a phrase index over every alias, a map from alias to name."""

    index: PhraseIndex
    canonical: dict[str, str]
    heads: frozenset[str] = field(default_factory=frozenset)
    heads_zh: tuple[str, ...] = ()
    ignore: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Gazetteer:
        canonical: dict[str, str] = {}
        index = PhraseIndex()
        for entry in data.get("organisations") or []:
            name = str(entry["name"]).strip()
            for alias in [name, *(str(a) for a in entry.get("aliases") or [])]:
                key = alias_key(alias)
                if key in canonical and canonical[key] != name:
                    logger.warning("alias %r of %r already names %r", alias, name, canonical[key])
                    continue
                canonical[key] = name
                index.add(alias, name, ignore_case=not is_acronym(alias))
        heads = frozenset(str(h) for h in data.get("acronym_heads") or [])
        heads_zh = tuple(str(h) for h in data.get("acronym_heads_zh") or [])
        ignore = frozenset(alias_key(str(n)) for n in data.get("acronym_ignore") or [])
        return cls(index, canonical, heads, heads_zh, ignore)

    def find(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """Canonical names in order of first mention, and the spans they were found at."""
        hits = [
            (start, end, str(name))
            for start, end, name in self.index.finditer(text)
            # "商务部门", "工信部门": a department, not the ministry.
            if not (text[end - 1 : end] == "部" and text[end : end + 1] == "门")
        ]
        hits += [(span[0], span[1], name) for name, span in self.defined_acronyms(text)]
        hits.sort()
        found = dict.fromkeys(name for _, _, name in hits)
        return list(found), [(start, end) for start, end, _ in hits]

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
