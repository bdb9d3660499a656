"""Text helpers shared by the enrichment matchers: normalisation, alias regexes, phrase index."""

from __future__ import annotations

import re
import unicodedata

# Latin "word" boundaries that treat Chinese characters as non-word (unlike re's \b).
_LEFT = r"(?<![A-Za-z0-9])"
_RIGHT = r"(?![A-Za-z0-9])"
_LATIN_RE = re.compile(r"[A-Za-z0-9]")
_MARKDOWN_RE = re.compile(r"(\*\*|__|`|^#{1,6}\s+|^\s*[-*+]\s+|^\s*>\s?)", re.MULTILINE)
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def normalise(text: str) -> str:
    """NFKC-normalise (full-width letters and digits to ASCII), keep Chinese punctuation."""
    text = unicodedata.normalize("NFKC", text)
    # NFKC turns "（" into "(" and "：" into ":"; dashes stay, so unify the common ones.
    return text.replace("\u2014", "-").replace("\u2013", "-").replace("\u2010", "-")


def strip_markdown(text: str) -> str:
    """Plain text from simple Markdown: drop emphasis, heading and list marks, keep link text."""
    return _MARKDOWN_RE.sub("", _LINK_RE.sub(r"\1", text))


def alias_key(alias: str) -> str:
    """The lookup key of an alias or a matched span: whitespace folded, case folded."""
    return " ".join(normalise(alias).split()).casefold()


def alias_pattern(alias: str) -> str:
    """A regex for one literal alias: flexible whitespace, Latin word boundaries at Latin ends."""
    alias = " ".join(normalise(alias).split())
    body = r"\s+".join(re.escape(part) for part in alias.split(" "))
    left = _LEFT if _LATIN_RE.match(alias[0]) else ""
    right = _RIGHT if _LATIN_RE.match(alias[-1]) else ""
    return f"{left}{body}{right}"


def is_acronym(alias: str) -> bool:
    """Aliases written in capitals ("ISO", "SA8000", "EU") are matched case-sensitively."""
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and all("A" <= c <= "Z" for c in letters) and len(alias) <= 8


_TOKEN_RE = re.compile(r"[A-Za-z0-9]+")
_MEMO_WORDS = 200_000  # distinct words whose candidate phrases a PhraseIndex remembers


class _LazyPattern:
    """A regex compiled the first time it is tried."""

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int) -> None:
        self._source, self._flags = source, flags
        self._compiled: re.Pattern[str] | None = None

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self._source, self._flags)
        return self._compiled.match(text, pos)


class PhraseIndex:
    """Find many literal phrases fast: candidates are looked up by their first word or character.

    A single alternation of hundreds of phrases makes Python's regex engine try every phrase at
    every position; here a cheap scan finds word starts and known first characters, and only the
    few phrases filed under that word or character are tried. Matches are leftmost-longest and do
    not overlap, like an alternation sorted longest first.
    """

    def __init__(self) -> None:
        self._by_word: dict[str, list[tuple[int, _LazyPattern, object]]] = {}
        self._by_prefix: dict[str, list[tuple[int, _LazyPattern, object]]] = {}
        self._by_char: dict[str, list[tuple[str, object]]] = {}
        self._scan: re.Pattern[str] | None = None
        # A scanned word as written -> the phrases filed under it (most words: none).
        self._candidates: dict[str, list[tuple[int, _LazyPattern, object]]] = {}

    def add(
        self, phrase: str, payload: object, *, ignore_case: bool, wildcard: bool = False
    ) -> None:
        """File a phrase; `wildcard` lets its last word take any ending ("train*")."""
        phrase = " ".join(normalise(phrase).split())
        if not phrase:
            return
        first = _TOKEN_RE.match(phrase)
        if first is None:
            self._by_char.setdefault(phrase[0], []).append((phrase, payload))
            self._scan = None
            self._candidates = {}
            return
        pattern = alias_pattern(phrase)
        if wildcard:
            pattern = pattern.removesuffix(_RIGHT) + r"[A-Za-z-]*"
        # Compiled on first use: most aliases never meet their first word in a given corpus.
        entry = (len(phrase), _LazyPattern(pattern, re.IGNORECASE if ignore_case else 0), payload)
        word = first.group(0).casefold()
        is_prefix = wildcard and first.end() == len(phrase)
        (self._by_prefix if is_prefix else self._by_word).setdefault(word, []).append(entry)
        self._scan = None
        self._candidates = {}

    def _compile(self) -> re.Pattern[str]:
        for entries in (*self._by_word.values(), *self._by_prefix.values()):
            entries.sort(key=lambda e: -e[0])
        for phrases in self._by_char.values():
            phrases.sort(key=lambda e: -len(e[0]))
        chars = "".join(re.escape(c) for c in sorted(self._by_char))
        branches = [rf"{_LEFT}[A-Za-z0-9]+"] + ([f"[{chars}]"] if chars else [])
        return re.compile("|".join(branches))

    def _candidates_of(self, word: str) -> list[tuple[int, _LazyPattern, object]]:
        """The phrases that may start at `word`: filed under it, or under a prefix of it."""
        key = word.casefold()
        candidates = list(self._by_word.get(key, ()))
        if self._by_prefix:
            for size in range(1, len(key) + 1):
                candidates += self._by_prefix.get(key[:size], ())
        if len(self._candidates) >= _MEMO_WORDS:
            self._candidates.clear()
        self._candidates[word] = candidates
        return candidates

    def finditer(self, text: str) -> list[tuple[int, int, object]]:
        """(start, end, payload) of every match, in order, without overlaps."""
        if self._scan is None:
            self._scan = self._compile()
        results: list[tuple[int, int, object]] = []
        last_end = 0
        by_char, memo = self._by_char, self._candidates
        for token in self._scan.finditer(text):
            start = token.start()
            if start < last_end:
                continue
            word = token.group(0)
            best: tuple[int, object] | None = None
            if word in by_char:
                for phrase, payload in by_char[word]:
                    if text.startswith(phrase, start):
                        best = (start + len(phrase), payload)
                        break
            else:
                candidates = memo.get(word)
                if candidates is None:
                    candidates = self._candidates_of(word)
                for _, compiled, payload in candidates:
                    match = compiled.match(text, start)
                    if match and (best is None or match.end() > best[0]):
                        best = (match.end(), payload)
            if best is not None:
                results.append((start, best[0], best[1]))
                last_end = best[0]
        return results


def drop_overlaps(
    matches: list[tuple[int, int, object]],
) -> list[tuple[int, int, object]]:
    """Keep the leftmost, then longest, of overlapping matches."""
    kept: list[tuple[int, int, object]] = []
    last_end = -1
    for start, end, payload in sorted(matches, key=lambda m: (m[0], -m[1])):
        if start >= last_end:
            kept.append((start, end, payload))
            last_end = end
    return kept
