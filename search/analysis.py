"""Text analysis for mixed English and Chinese: words, standard codes and CJK bigrams.

English words are lower-cased, stop words dropped and stems taken; a run of Chinese characters
becomes overlapping bigrams at consecutive positions (so that phrase queries match, unlike
jieba's stock ChineseAnalyzer, which stores character offsets as positions); letters and digits
are split where they meet, so that "ISO26000" and "ISO 26000" give the same tokens and
"SJ/T 11728-2018" is found by "SJ/T 11728" and by "11728".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import filterfalse
from typing import Any

from whoosh.analysis import (
    STOP_WORDS,
    Composable,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.analysis.analyzers import Analyzer
from whoosh.lang.porter import stem as porter_stem

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # the CJK ideograph ranges, for classes
# Latin letters (with accents) or digits, or a run of CJK ideographs.
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
_ALNUM_SPLIT_RE = re.compile(r"[^\W\d_]+|\d+")


class MixedTokenizer(Tokenizer):
    """Tokens for words (split at letter/digit boundaries) and bigrams for CJK runs."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _TOKEN_RE.finditer(value):
            if match.group("cjk"):
                run = match.group("cjk")
                base = match.start()
                pieces = (
                    [(run, 0)]
                    if len(run) == 1
                    else [(run[i : i + 2], i) for i in range(len(run) - 1)]
                )
                for text, offset in pieces:
                    yield self._emit(
                        token, text, pos, start_char + base + offset, positions, chars, keeporiginal
                    )
                    pos += 1
            else:
                base = match.start()
                for part in _ALNUM_SPLIT_RE.finditer(match.group("word")):
                    yield self._emit(
                        token,
                        part.group(),
                        pos,
                        start_char + base + part.start(),
                        positions,
                        chars,
                        keeporiginal,
                    )
                    pos += 1

    @staticmethod
    def _emit(
        token: Token,
        text: str,
        pos: int,
        startchar: int,
        positions: bool,
        chars: bool,
        keeporiginal: bool,
    ) -> Token:
        token.text = text
        token.boost = 1.0
        token.stopped = False
        if keeporiginal:
            token.original = text
        if positions:
            token.pos = pos
        if chars:
            token.startchar = startchar
            token.endchar = startchar + len(text)
        return token


# The tokenizer's pieces in one pass: a CJK run (group 1), or a run of letters, or of digits.
_PIECE_RE = re.compile(rf"([{_CJK}]+)|[^\W\d_{_CJK}]+|\d+")
_STOP_WORD = STOP_WORDS.__contains__
_STEM_CACHE: dict[str, str] = {}
_STEM_CACHE_MAX = 200_000


def _stem_all(words: list[str]) -> list[str]:
    """Porter stems of the words, through a module-wide cache (the stems are the same)."""
    cache = _STEM_CACHE
    out: list[Any] = list(map(cache.get, words))  # most words were stemmed before
    if None in out:
        for n, stemmed in enumerate(out):
            if stemmed is None:
                word = words[n]
                stemmed = cache.get(word)  # a word twice in ``words``: stemmed just now
                if stemmed is None:
                    if len(cache) >= _STEM_CACHE_MAX:
                        cache.clear()
                    stemmed = cache[word] = porter_stem(word)
                out[n] = stemmed
    return out


def _raw_pieces(value: str) -> list[str]:
    """The tokenizer's token texts (before lower-casing), without offsets."""
    out: list[str] = []
    append = out.append
    for cjk, word in _PIECE_FINDALL(value):
        if word:
            append(word)
        elif len(cjk) == 1:
            append(cjk)
        else:
            out.extend([cjk[i : i + 2] for i in range(len(cjk) - 1)])
    return out


def _raw_pieces_chars(value: str) -> list[tuple[str, int]]:
    """The tokenizer's token texts (before lower-casing) with their start offsets."""
    out: list[tuple[str, int]] = []
    append = out.append
    for match in _PIECE_RE.finditer(value):
        cjk = match.group(1)
        start = match.start()
        if cjk is None:
            append((match.group(), start))
        elif len(cjk) == 1:
            append((cjk, start))
        else:
            out.extend([(cjk[i : i + 2], start + i) for i in range(len(cjk) - 1)])
    return out


_PIECE_FINDALL = re.compile(rf"([{_CJK}]+)|([^\W\d_{_CJK}]+|\d+)").findall
# In ASCII text the pieces are runs of letters or of digits, and lower-casing the whole text
# first changes no piece boundary (only A-Z change, into letters): one findall gives them all.
_ASCII_PIECES = re.compile(r"[a-z]+|[0-9]+").findall


# ASCII characters other than a-z and 0-9 as spaces; and a-z as "a", 0-9 as "0", others " ".
_ASCII_SEPARATORS = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isdigit() and not "a" <= chr(c) <= "z"}
)
_ASCII_CLASSES = bytes(
    ord("0") if chr(c).isdigit() else ord("a") if "a" <= chr(c) <= "z" else ord(" ")
    for c in range(256)
)


def _lowered_pieces(value: str) -> list[str]:
    """The tokenizer's token texts, lower-cased (as LowercaseFilter lowers each token)."""
    if value.isascii():
        lowered = value.lower()
        if len(lowered) < 200:  # a title: one findall costs less than the checks
            return _ASCII_PIECES(lowered)
        classes = lowered.encode("ascii").translate(_ASCII_CLASSES)
        if b"a0" in classes or b"0a" in classes:  # a letter next to a digit: split there
            return _ASCII_PIECES(lowered)
        # otherwise the pieces are the runs between separators (a C split, no regex)
        return lowered.translate(_ASCII_SEPARATORS).split()
    # Elsewhere a token is lowered on its own: lowering the text could change a boundary
    # ("İ" lowers to two characters) or a letter's context (a final sigma).
    return [piece.lower() for piece in _raw_pieces(value)]


class MixedAnalyzer(Analyzer):
    """The mixed tokenizer, lower-casing, stop words and stems in one pass.

    Gives exactly the tokens of ``MixedTokenizer() | LowercaseFilter() | StopFilter(minsize=1)
    | StemFilter()`` (the ``reference()`` chain, which it uses itself for the rarer calls that
    keep stop words, originals or untokenized values), without a generator per filter.
    """

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem
        self.is_morph = stem

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.stem == self.stem

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.stem))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(stem={self.stem!r})"

    def __getstate__(self) -> dict[str, object]:
        return {"stem": self.stem, "is_morph": self.is_morph}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    def reference(self) -> Composable:
        """The filter chain this analyzer is a faster equivalent of."""
        chain = MixedTokenizer() | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
        return chain | StemFilter() if self.stem else chain

    def words(self, value: str, no_morph: bool = False) -> tuple[int, list[str]]:
        """The kept token texts of ``value`` and the tokenizer position of the first one."""
        memo = getattr(self, "_memo", None)
        if memo is not None and memo[0] is value:
            first, kept = memo[1], memo[2]
        else:
            lowered = _lowered_pieces(value)
            kept = list(filterfalse(_STOP_WORD, lowered))
            first = 0
            if kept and kept[0] != lowered[0]:
                first = next(i for i, word in enumerate(lowered) if word not in STOP_WORDS)
            # Whoosh analyses a spelling field's value again with no_morph right after
            # indexing it: keep the last value's words for that second call.
            self._memo = (value, first, kept)
        if self.stem and not no_morph:
            return first, _stem_all(kept)
        return first, kept

    def stems(self, words: list[str]) -> list[str]:
        """The indexed forms of kept (unstemmed) words: their stems, or the words unstemmed."""
        return _stem_all(words) if self.stem else words

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        no_morph: bool = False,
        **kwargs: object,
    ) -> Iterator[Token]:
        if keeporiginal or not removestops or not tokenize:
            return self.reference()(
                value,
                positions=positions,
                chars=chars,
                keeporiginal=keeporiginal,
                removestops=removestops,
                start_pos=start_pos,
                start_char=start_char,
                tokenize=tokenize,
                mode=mode,
                no_morph=no_morph,
                **kwargs,
            )
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if chars:
            return self._with_chars(token, value, positions, start_pos, start_char, no_morph)
        return self._plain(token, value, positions, start_pos, no_morph)

    def _plain(
        self, token: Token, value: str, positions: bool, start_pos: int, no_morph: bool
    ) -> Iterator[Token]:
        first, words = self.words(value, no_morph)
        if positions:
            for pos, text in enumerate(words, start_pos + first):
                token.text = text
                token.pos = pos
                yield token
        else:
            for text in words:
                token.text = text
                yield token

    def _with_chars(
        self,
        token: Token,
        value: str,
        positions: bool,
        start_pos: int,
        start_char: int,
        no_morph: bool,
    ) -> Iterator[Token]:
        pieces = _raw_pieces_chars(value)
        kept = []
        first = -1
        for index, (text, start) in enumerate(pieces):
            lowered = text.lower()
            if lowered not in STOP_WORDS:
                if first < 0:
                    first = index
                kept.append((lowered, start, start + len(text)))
        texts = [text for text, _, _ in kept]
        if self.stem and not no_morph:
            texts = _stem_all(texts)
        pos = start_pos + max(first, 0)
        for text, (_, start, end) in zip(texts, kept, strict=True):
            token.text = text
            if positions:
                token.pos = pos
                pos += 1
            token.startchar = start_char + start
            token.endchar = start_char + end
            yield token


def mixed_analyzer(stem: bool = True) -> Composable:
    """The analyzer for text fields: mixed tokenizer, lower-case, English stop words, stems."""
    return MixedAnalyzer(stem=stem)


def normalise_code(code: str) -> str:
    """A standard code in one spelling for keyword matching: "SJ/T16000" -> "sj/t 16000"."""
    code = code.strip().lower().replace("／", "/")
    code = re.sub(r"(?<=[a-z])(?=\d)", " ", code)
    return " ".join(code.split())
