"""Standards: codes recognised by form (GB/T, SJ/T, ISO, SA8000 ...) and named standards."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from csrnews.crawler.enrichment.instruments import (
    chinese_instruments,
    english_instruments,
    variant_key,
)
from csrnews.crawler.enrichment.textutil import PhraseIndex, alias_key, drop_overlaps, is_acronym

logger = logging.getLogger(__name__)

_CODE_KEY_RE = re.compile(r"^(.*?)\s*(\d{3,5})(?:-(\d{4}))?$")


@dataclass
class StandardsMatcher:
    """Compiled standards data: one regex for codes, a regex per named pattern, a phrase index."""

    index: PhraseIndex
    codes: re.Pattern[str] | None
    families: dict[str, dict[str, Any]]
    canonical: dict[str, str]
    by_code: dict[str, str]  # "SJ/T 16000" -> "SJ/T 16000-2016"
    patterns: list[tuple[re.Pattern[str], str]]  # named standards that vary in form
    variants: dict[str, str] | None = None  # variant_key(alias) -> canonical name

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StandardsMatcher:
        families = {str(f["prefix"]): dict(f) for f in data.get("families") or []}
        canonical: dict[str, str] = {}
        by_code: dict[str, str] = {}
        patterns: list[tuple[re.Pattern[str], str]] = []
        index = PhraseIndex()
        for family in families.values():
            low, _, high = str(family.get("digits", "3,5")).partition(",")
            family["_digits"] = (int(low), int(high or low))
            if family.get("pattern"):
                family["_re"] = re.compile(str(family["pattern"]))
        codes = None
        if families:
            # Longest prefixes first, so "GB/T" is tried before "GB".
            forms = [
                str(f.get("pattern") or re.escape(p))
                for p, f in sorted(families.items(), key=lambda kv: -len(kv[0]))
            ]
            codes = re.compile(
                rf"(?<![A-Za-z])(?P<prefix>{'|'.join(forms)})\s*(?P<num>\d{{1,5}})"
                r"(?:-(?P<part>\d{1,2})(?!\d|\.\d))?"
                r"(?:\s*[-:]\s*(?P<year>(?:19|20)\d{2}))?(?!\d)"
            )
        for entry in data.get("standards") or []:
            name = str(entry["name"]).strip()
            for alias in [name, *(str(a) for a in entry.get("aliases") or [])]:
                canonical.setdefault(alias_key(alias), name)
                index.add(alias, name, ignore_case=not is_acronym(alias))
            code = _CODE_KEY_RE.match(name)
            if code and code.group(3):
                by_code[alias_key(f"{code.group(1)} {code.group(2)}")] = name
            for pat in entry.get("patterns") or []:
                patterns.append((re.compile(str(pat), re.IGNORECASE), name))
        variants = {variant_key(alias): name for alias, name in canonical.items()}
        return cls(index, codes, families, canonical, by_code, patterns, variants)

    def _family(self, prefix: str) -> dict[str, Any] | None:
        family = self.families.get(prefix)
        if family is not None:
            return family
        for candidate in self.families.values():
            if "_re" in candidate and candidate["_re"].fullmatch(prefix):
                return candidate
        return None

    def _code_name(self, match: re.Match[str]) -> str:
        prefix, num, year = match.group("prefix"), match.group("num"), match.group("year")
        family = self._family(prefix)
        if family is None:
            return ""
        low, high = family["_digits"]
        if not low <= len(num) <= high:
            return ""
        base = f"{prefix}{family.get('join', ' ')}{num}"
        if match.group("part"):
            base += f"-{match.group('part')}"  # "ISO 14064-1": a part is its own standard
        if family.get("year"):
            if year:
                return f"{base}-{year}"
            return self.by_code.get(alias_key(f"{prefix} {num}"), base)
        return self.canonical.get(alias_key(base), base)

    def find(self, text: str, body_start: int = 0) -> tuple[list[str], list[tuple[int, int]]]:
        """Canonical standard names in order of first mention, and their spans. Instruments
        named only by the form of their English names are looked for from `body_start` on
        (a Title Case headline is all capitals)."""
        matches = self.index.finditer(text)
        if self.codes is not None:
            for match in self.codes.finditer(text):
                name = self._code_name(match)
                if name:
                    matches.append((*match.span(), name))
        for pattern, name in self.patterns:
            matches += [(*m.span(), name) for m in pattern.finditer(text)]
        known = [m for m in drop_overlaps(matches) if m[2]]
        found = [(start, end, str(name)) for start, end, name in known]
        by_form = [
            (s + body_start, e + body_start, n)
            for s, e, n in english_instruments(text[body_start:])
        ]
        by_form += chinese_instruments(text)
        # A title beside a code is that standard's title ("T/CESA 1288-2023《…指南》",
        # 'GB/T 36000-2015 "Guidance on Social Responsibility"'), wherever else it stands.
        titles: dict[str, str] = {}
        for start, end, name in by_form:
            beside = [n for s, e, n in known if _beside(text, start, end, s, e)]
            if beside:
                titles[variant_key(name)] = str(beside[0])
        for start, end, name in by_form:
            if any(s < end and start < e for s, e, _ in known):
                continue  # inside a known standard's name
            # Spellings of one instrument are one name: a known entry's, or the first seen.
            key = variant_key(name)
            canonical = (
                titles.get(key)
                or self.canonical.get(alias_key(name))
                or (self.variants or {}).get(key)
            )
            found.append((start, end, canonical or name))
        found.sort()
        first: dict[str, str] = {}
        names: dict[str, None] = {}
        for _start, _end, name in found:
            names.setdefault(first.setdefault(variant_key(name), name), None)
        return list(names), [(s, e) for s, e, _ in found]


def _beside(text: str, start: int, end: int, other_start: int, other_end: int) -> bool:
    """Whether [start, end) overlaps the other span or is only brackets or a colon away."""
    if start < other_end and other_start < end:
        return True
    gap = text[other_end:start] if other_end <= start else text[end:other_start]
    return len(gap) <= 3 and not gap.strip(" \t()（）:：,-\"“”'‘’《》")
