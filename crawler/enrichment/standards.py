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
    """Compiled standards data: one regex for codes, a regex per named pattern, a phrase index."""

    index: PhraseIndex
    codes: re.Pattern[str] | None
    families: dict[str, dict[str, Any]]
    canonical: dict[str, str]
    by_code: dict[str, str]  # "SJ/T 16000" -> "SJ/T 16000-2016"
    patterns: list[tuple[re.Pattern[str], str]]  # named standards that vary in form

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
        return cls(index, codes, families, canonical, by_code, patterns)

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
        if family.get("year"):
            if year:
                return f"{base}-{year}"
            return self.by_code.get(alias_key(f"{prefix} {num}"), base)
        return self.canonical.get(alias_key(base), base)

    def find(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """Canonical standard names in order of first mention, and their spans."""
        matches = self.index.finditer(text)
        if self.codes is not None:
            for match in self.codes.finditer(text):
                name = self._code_name(match)
                if name:
                    matches.append((*match.span(), name))
        for pattern, name in self.patterns:
            matches += [(*m.span(), name) for m in pattern.finditer(text)]
        found: dict[str, None] = {}
        spans: list[tuple[int, int]] = []
        for start, end, name in drop_overlaps(matches):
            if name:
                found.setdefault(str(name), None)
                spans.append((start, end))
        return list(found), spans
