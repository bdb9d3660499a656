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

from whoosh.analysis import (
    STOP_WORDS,
    Composable,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)

# Latin letters (with accents) or digits, or a run of CJK ideographs.
_TOKEN_RE = re.compile(
    r"(?P<cjk>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
    r"|(?P<word>[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
)
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


def mixed_analyzer(stem: bool = True) -> Composable:
    """The analyzer for text fields: mixed tokenizer, lower-case, English stop words, stems."""
    chain = MixedTokenizer() | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS, minsize=1)
    if stem:
        chain = chain | StemFilter()
    return chain


def normalise_code(code: str) -> str:
    """A standard code in one spelling for keyword matching: "SJ/T16000" -> "sj/t 16000"."""
    code = code.strip().lower().replace("／", "/")
    code = re.sub(r"(?<=[a-z])(?=\d)", " ", code)
    return " ".join(code.split())
