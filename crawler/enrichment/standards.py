"""Standards: codes recognised by form (GB/T, SJ/T, ISO, SA8000 ...) and named standards."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from crawler.enrichment.textutil import PhraseIndex, alias_key, drop_overlaps, is_acronym

logger = logging.getLogger(__name__)

_CODE_KEY_RE = re.compile(r"^(.*?)\s*(\d{3,5})(?:-(\d{4}))?$")


@dataclass
class StandardsMatcher:
    """Compiled standards data: a regex for codes and patterns, a phrase index for names."""

    index: PhraseIndex
    pattern: re.Pattern[str] | None
    families: dict[str, dict[str, Any]]
    canonical: dict[str, str]
    by_code: dict[str, str]  # "SJ/T 16000" -> "SJ/T 16000-2016"
    pattern_names: dict[str, str]  # group name "p3" -> canonical name

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StandardsMatcher:
        families = {str(f["prefix"]): dict(f) for f in data.get("families") or []}
        canonical: dict[str, str] = {}
        by_code: dict[str, str] = {}
        pattern_names: dict[str, str] = {}
        index = PhraseIndex()
        branches: list[str] = []
        # Longest prefixes first, so "GB/T" is tried before "GB".
        for number, (prefix, family) in enumerate(
            sorted(families.items(), key=lambda kv: -len(kv[0]))
        ):
            form = str(family.get("pattern") or re.escape(prefix))
            digits = str(family.get("digits", "3,5"))
            branches.append(
                rf"(?P<c{number}>(?<![A-Za-z])(?P<c{number}_prefix>{form})\s*"
                rf"(?P<c{number}_num>\d{{{digits}}})"
                rf"(?:\s*[-:]\s*(?P<c{number}_year>(?:19|20)\d{{2}}))?(?!\d))"
            )
            pattern_names[f"c{number}"] = prefix
        for entry in data.get("standards") or []:
            name = str(entry["name"]).strip()
            for alias in [name, *(str(a) for a in entry.get("aliases") or [])]:
                canonical.setdefault(alias_key(alias), name)
                index.add(alias, name, ignore_case=not is_acronym(alias))
            code = _CODE_KEY_RE.match(name)
            if code and code.group(3):
                by_code[alias_key(f"{code.group(1)} {code.group(2)}")] = name
            for pat in entry.get("patterns") or []:
                group = f"p{len(pattern_names)}"
                pattern_names[group] = name
                branches.append(f"(?P<{group}>(?i:{pat}))")
        pattern = re.compile("|".join(branches)) if branches else None
        return cls(index, pattern, families, canonical, by_code, pattern_names)

    def _code_name(self, match: re.Match[str], group: str) -> str:
        family = self.families[self.pattern_names[group]]
        prefix = match.group(f"{group}_prefix")
        num, year = match.group(f"{group}_num"), match.group(f"{group}_year")
        base = f"{prefix}{family.get('join', ' ')}{num}"
        if family.get("year"):
            if year:
                return f"{base}-{year}"
            return self.by_code.get(alias_key(f"{prefix} {num}"), base)
        return self.canonical.get(alias_key(base), base)

    def find(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """Canonical standard names in order of first mention, and their spans."""
        matches = self.index.finditer(text)
        if self.pattern is not None:
            for match in self.pattern.finditer(text):
                group = match.lastgroup or ""
                if group.startswith("c"):
                    name = self._code_name(match, group)
                else:
                    name = self.pattern_names.get(group, "")
                matches.append((*match.span(), name))
        found: dict[str, None] = {}
        spans: list[tuple[int, int]] = []
        for start, end, name in drop_overlaps(matches):
            if name:
                found.setdefault(str(name), None)
                spans.append((start, end))
        return list(found), spans
