"""Snippets as Whoosh's highlighter makes them, without running the whole analyzer on the text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import CompositeAnalyzer, Token
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    ContextFragmenter,
    Formatter,
    Highlighter,
    HtmlFormatter,
    top_fragments,
)

from search.analysis import _ALNUM_SPLIT_RE, _TOKEN_RE, MixedTokenizer

MAX_CACHED_WORDS = 200_000


def mixed_raw_tokens(text: str) -> list[tuple[int, int, str]]:
    """(startchar, endchar, text) of the tokens ``MixedTokenizer`` makes of ``text``, in order.

    The same expressions, without a Token object and a generator step per token.
    """
    out: list[tuple[int, int, str]] = []
    append = out.append
    for match in _TOKEN_RE.finditer(text):
        base = match.start()
        run = match.group("cjk")
        if run:
            if len(run) == 1:
                append((base, base + 1, run))
            else:
                out.extend((base + i, base + i + 2, run[i : i + 2]) for i in range(len(run) - 1))
            continue
        word = match.group("word")
        if word.isalpha():  # one run of letters: one token
            append((base, match.end(), word))
            continue
        for part in _ALNUM_SPLIT_RE.finditer(word):
            start = base + part.start()
            append((start, base + part.end(), part.group()))
    return out


def snippet_fragmenter() -> ContextFragmenter:
    """The fragmenter of search snippets: passages of up to 220 characters."""
    return ContextFragmenter(maxchars=220, surround=60)


def snippet_formatter() -> HtmlFormatter:
    """The formatter of search snippets (one per answer: it numbers the terms it has seen)."""
    return HtmlFormatter(tagname="mark", classname="hl", between=" … ")


class _NotOneToken(Exception):
    """A token that the filters turn into no token or several: use the plain analyzer."""


class FastHighlighter:
    """Highlights text for one field's analyzer, like ``Hit.highlights`` on re-tokenized text.

    Whoosh re-analyses the whole stored text for every hit (tokenizer, lower-case, stop words,
    stemming, a generator per filter per token). Here the tokenizer runs alone and each distinct
    word goes through the filters once, its result kept for later texts (the analyzer works a
    token at a time, so a word analysed alone gives the text it has in context). The tokens,
    fragmenter, scorer and formatter are Whoosh's, so the snippet is the same.
    """

    def __init__(self, analyzer: Any) -> None:
        self.analyzer = analyzer
        self.scorer = BasicFragmentScorer()
        self._words: dict[str, str | None] = {}
        self._lock = threading.Lock()
        # An analyzer that is a faster stand-in for a filter chain names the chain.
        chain = analyzer.reference() if callable(getattr(analyzer, "reference", None)) else analyzer
        self.chain = chain
        items = getattr(chain, "items", None)
        self.tokenizer = items[0] if isinstance(chain, CompositeAnalyzer) and items else None
        self.raw_tokens = type(self.tokenizer) is MixedTokenizer

    def _normalise(self, raw: str) -> str | None:
        texts = [t.text for t in self.chain(raw, mode="index", removestops=False)]
        return texts[0] if len(texts) == 1 else None

    def _tokens(self, text: str, words: frozenset[str]) -> Iterator[Token]:
        cache = self._words
        missing = object()
        raws = (
            mixed_raw_tokens(text)
            if self.raw_tokens
            else [
                (t.startchar, t.endchar, t.text)
                for t in self.tokenizer(text, chars=True, mode="index", removestops=False)
            ]
        )
        # One Token object, as Whoosh's tokenizers do: the fragmenter copies what it keeps.
        token = Token(positions=True, chars=True, removestops=False, mode="index")
        token.boost = 1.0
        token.stopped = False
        for pos, (startchar, endchar, raw) in enumerate(raws):
            norm = cache.get(raw, missing)
            if norm is missing:
                norm = self._normalise(raw)
                with self._lock:
                    if len(cache) >= MAX_CACHED_WORDS:
                        cache.clear()
                    cache[raw] = norm
            if norm is None:
                raise _NotOneToken(raw)
            token.text = norm
            token.pos = pos
            token.startchar = startchar
            token.endchar = endchar
            token.matched = norm in words
            yield token

    def _plain_tokens(self, text: str, words: frozenset[str]) -> Iterator[Token]:
        for token in self.analyzer(
            text, positions=True, chars=True, mode="index", removestops=False
        ):
            token.matched = token.text in words
            yield token

    def highlight(
        self,
        text: str,
        words: frozenset[str],
        formatter: Formatter,
        fragmenter: ContextFragmenter | None = None,
        top: int = 3,
        minscore: int = 1,
    ) -> str:
        """The formatted top fragments of ``text`` around the tokens whose text is in ``words``."""
        if not words or not text:
            return ""
        fragmenter = fragmenter or snippet_fragmenter()
        if self.tokenizer is not None:
            try:
                return self._format(
                    self._tokens(text, words), text, formatter, fragmenter, top, minscore
                )
            except _NotOneToken:
                pass
        return self._format(
            self._plain_tokens(text, words), text, formatter, fragmenter, top, minscore
        )

    def _format(
        self,
        tokens: Iterator[Token],
        text: str,
        formatter: Formatter,
        fragmenter: ContextFragmenter,
        top: int,
        minscore: int,
    ) -> str:
        # Materialise the fragments first: a fallback must not leave the formatter half-used.
        merged = Highlighter._merge_matched_tokens(tokens)
        fragments = list(fragmenter.fragment_tokens(text, merged))
        best = top_fragments(fragments, top, self.scorer, FIRST, minscore=minscore)
        return formatter.format(best)
