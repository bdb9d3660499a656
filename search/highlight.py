"""Snippets as Whoosh's highlighter makes them, without running the whole analyzer on the text."""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from itertools import accumulate, compress, count
from operator import add
from typing import Any, cast

from csrnews.search import whoosh_compat
from csrnews.search.analysis import _ALNUM_SPLIT_RE, _CJK, _TOKEN_RE, MixedTokenizer
from whoosh.analysis import CompositeAnalyzer, Token
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    ContextFragmenter,
    Formatter,
    Fragment,
    HtmlFormatter,
    mkfrag,
    top_fragments,
)

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


# The tokenizer's pieces (a CJK run, a run of letters, a run of digits) as split() separators.
_PIECES_SPLIT = re.compile(rf"([{_CJK}]+|[^\W\d_{_CJK}]+|\d+)").split
_CJK_PAIR = re.compile(rf"[{_CJK}]{{2}}").search
_CJK_START = re.compile(rf"[{_CJK}]").match
# ASCII text: every character but a letter or digit becomes a space; letters "a", digits "0".
_ASCII_SPACES = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})
_ASCII_CLASSES = str.maketrans(
    {chr(i): "a" if chr(i).isalpha() else "0" if chr(i).isdigit() else " " for i in range(128)}
)


def mixed_token_columns(text: str) -> tuple[list[str], list[int], list[int]]:
    """The texts, start and end offsets of the tokens of ``mixed_raw_tokens``, as three lists.

    The runs between separators come from C-level ``split`` calls and their offsets from running
    sums of the lengths, with no Python step per token; only the runs that make several tokens
    (letters next to digits in ASCII text, runs of CJK characters: bigrams) are split again.
    """
    if text.isascii():
        chunks = text.translate(_ASCII_SPACES).split(" ")
        raws = list(filter(None, chunks))
        offsets = map(add, accumulate(map(len, chunks), initial=0), count())
        starts = list(compress(offsets, chunks))
        ends = list(map(add, starts, map(len, raws)))
        classes = text.translate(_ASCII_CLASSES)
        if "a0" in classes or "0a" in classes:
            mixed = [k for k, raw in enumerate(raws) if not (raw.isalpha() or raw.isdigit())]
            _split_tokens(raws, starts, ends, mixed, _alnum_pieces)
        return raws, starts, ends
    parts = _PIECES_SPLIT(text)
    bounds = list(accumulate(map(len, parts)))
    raws, starts, ends = parts[1::2], bounds[0:-1:2], bounds[1::2]
    if _CJK_PAIR(text) is None:
        return raws, starts, ends
    out: tuple[list[str], list[int], list[int]] = ([], [], [])
    for raw, start, end in zip(raws, starts, ends, strict=True):
        if end - start > 1 and _CJK_START(raw):  # a CJK run: overlapping bigrams
            out[0].extend(map(add, raw, raw[1:]))
            out[1].extend(range(start, end - 1))
            out[2].extend(range(start + 2, end + 1))
        else:
            out[0].append(raw)
            out[1].append(start)
            out[2].append(end)
    return out


def _split_tokens(
    raws: list[str],
    starts: list[int],
    ends: list[int],
    indexes: list[int],
    split: Callable[[str], list[tuple[str, int]]],
) -> None:
    """Replace the tokens at ``indexes`` by the (text, offset) pieces ``split`` makes of them."""
    for k in reversed(indexes):
        base = starts[k]
        pieces = split(raws[k])
        raws[k : k + 1] = [piece for piece, _ in pieces]
        starts[k : k + 1] = [base + offset for _, offset in pieces]
        ends[k : k + 1] = [base + offset + len(piece) for piece, offset in pieces]


def _alnum_pieces(word: str) -> list[tuple[str, int]]:
    return [(part.group(), part.start()) for part in _ALNUM_SPLIT_RE.finditer(word)]


def merged_matches(
    hits: list[int], starts: list[int], ends: list[int], norms: list[str]
) -> list[Token]:
    """The matched tokens as ``Highlighter._merge_matched_tokens`` yields them, in order.

    ``hits`` are the indexes of the matched tokens (offsets increasing), ``norms`` their texts.
    Whoosh merges a matched token into the pending one when it touches it (``startchar <=
    endchar``), appending the end of its text; a matched token that does not touch is
    yielded alone after the pending one, and the next matched token starts a new one; an
    unmatched token ends the pending one. Each token carries ``pos``, the index of its first
    tokenizer token, and ``endchar`` is that of its last (ends only increase).
    """
    out: list[Token] = []
    pending: Token | None = None
    previous = -2
    for i, norm in zip(hits, norms, strict=True):
        if pending is not None and i != previous + 1:
            out.append(pending)
            pending = None
        previous = i
        if pending is None:
            pending = _match_token(norm, i, starts[i], ends[i])
        elif starts[i] <= pending.endchar:
            pending.text += norm[pending.endchar - ends[i] :]
            pending.endchar = ends[i]
        else:
            out.append(pending)
            out.append(_match_token(norm, i, starts[i], ends[i]))
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def _match_token(text: str, pos: int, startchar: int, endchar: int) -> Token:
    """A matched token with the attributes of a fragmenter's copy of the tokenizer's token."""
    token = Token(positions=True, chars=True, removestops=False, mode="index", text=text)
    token.pos = pos
    token.startchar = startchar
    token.endchar = endchar
    token.matched = True
    return token


def context_fragments(
    text: str,
    starts: list[int],
    ends: list[int],
    lengths: list[int],
    matches: list[Token],
    fragmenter: ContextFragmenter,
) -> list[Fragment]:
    """``fragmenter.fragment_tokens`` of the tokens, stepping from match to match.

    ``starts``/``ends`` are the offsets of all tokens (both increasing), ``lengths`` the running
    sums of their lengths (``lengths[i]`` for tokens before ``i``), ``matches`` the merged
    matched tokens of ``merged_matches``; every other token is unmatched. Whoosh's rules:

    * it stops at the first token ending past ``charlimit`` (a merged token counts whole);
    * before a fragment, its "firsts" keep the starts of the unmatched tokens read since the
      last fragment, dropping those more than ``surround`` before the last one's end: the
      fragment starts at the first kept one, else at the match, whose countdown then gets
      ``surround`` more ("unused front context");
    * in a fragment each matched token restarts the countdown at ``surround``, every token
      (matched or not) takes its length off the countdown and adds it to the fragment's
      length; the fragment ends at the token that takes the countdown to zero or below, or
      that would take the length past ``maxchars`` (that token, if matched, is dropped);
    * a matched token longer than ``maxchars`` outside a fragment, or the token after a
      fragment whose countdown ended at exactly zero, makes a fragment without matches;
    * at the end of the tokens (or at the token past ``charlimit``) an unfinished fragment
      ends at that last token read.
    """
    maxchars, surround, charlimit = fragmenter.maxchars, fragmenter.surround, fragmenter.charlimit
    count = len(starts)
    stop = bisect_right(ends, charlimit) if charlimit else count  # tokens read: before stop
    final = ends[stop] if stop < count else ends[-1]  # the end of the last token read
    fragments: list[Fragment] = []
    tks: list[Token] = []  # the open fragment's matches (empty: no open fragment)
    first = countdown = size = 0
    zero = False  # the last fragment ended with its countdown at exactly zero
    free = 0  # the first token read after the last fragment (where "firsts" start)
    read = 0  # the next token to read

    def close(endchar: int, exact: bool) -> None:
        nonlocal tks, zero
        fragments.append(mkfrag(text, tks, startchar=first, endchar=endchar))
        tks, zero = [], exact

    def read_unmatched(end: int) -> None:
        """Read the unmatched tokens from ``read`` to ``end``."""
        nonlocal countdown, size, zero, free, read
        if read < end and tks:
            # The first token whose running length reaches the countdown or passes maxchars.
            budget = min(countdown, maxchars - size + 1)
            last = bisect_left(lengths, lengths[read] + budget, read + 1, end + 1) - 1
            used = lengths[min(last + 1, end)] - lengths[read]
            if last >= end:
                countdown, size = countdown - used, size + used
            else:
                close(ends[last], size + used <= maxchars and countdown == used)
                free = read = last + 1
        if read < end and zero:  # countdown at zero: the next token ends an empty fragment
            fragments.append(Fragment(text, [], 0, ends[read]))
            zero, free = False, read + 1
        read = max(read, end)

    for token in matches:
        index, startchar, endchar = token.pos, token.startchar, token.endchar
        if charlimit and endchar > charlimit:
            if index <= stop:  # Whoosh stops at this merged token, not at an unmatched one
                stop, final = index, endchar
            break
        read_unmatched(index)
        length = endchar - startchar
        if not tks and length > maxchars:
            fragments.append(Fragment(text, [], 0, endchar))
            zero = False
        elif not tks:
            firsts = bisect_left(starts, ends[index - 1] - surround, free, index)
            if firsts < index:
                first, countdown = starts[firsts], surround - length
            else:  # no context before: the match starts the fragment
                first, countdown = startchar, 2 * surround - length
            tks, size, zero = [token], length, False
            if countdown <= 0:
                close(endchar, countdown == 0)
        elif size + length > maxchars:
            close(endchar, False)
        else:
            tks.append(token)
            size, countdown = size + length, surround - length
            if countdown <= 0:
                close(endchar, countdown == 0)
        read = bisect_right(ends, endchar, index)  # past the merged token
        if not tks:
            free = read
    read_unmatched(stop)
    if tks:
        fragments.append(mkfrag(text, tks, startchar=first, endchar=final))
    return fragments


def snippet_fragmenter() -> ContextFragmenter:
    """The fragmenter of search snippets: passages of up to 220 characters."""
    return ContextFragmenter(maxchars=220, surround=60)


def snippet_formatter() -> HtmlFormatter:
    """The formatter of search snippets (one per answer: it numbers the terms it has seen)."""
    return HtmlFormatter(tagname="mark", classname="hl", between=" … ")


_MISSING: Any = object()
_CJK_RUNS = re.compile(rf"[{_CJK}]{{2,}}").findall


def chinese_runs(qstring: str) -> tuple[str, ...]:
    """The runs of two or more Chinese characters a query string holds, each once.

    A run of three or more is searched as its overlapping bigrams (供应链: 供应 and 应链); an
    excerpt marks those bigrams only where the whole run stands (``FastHighlighter.highlight``),
    so that 供应链 does not mark the 供应 of 供应商. A run of two is one bigram, searched alone.
    """
    return tuple(dict.fromkeys(_CJK_RUNS(qstring)))


def run_starts(text: str, runs: tuple[str, ...], words: frozenset[str]) -> dict[str, set[int]]:
    """Where the bigrams of the query's ``runs`` may be marked in ``text``: for each bigram of a
    run of three or more characters, the offsets at which it starts inside a whole run.

    Left out (so marked wherever they stand, as Whoosh marks terms): bigrams not in ``words``
    (the terms being marked), bigrams the query also searches alone (a run of two), and the
    bigrams of a run that ``text`` does not hold whole anywhere.
    """
    alone = {run for run in runs if len(run) == 2}
    allowed: dict[str, set[int]] = {}
    loose: set[str] = set()  # bigrams of a run the text does not hold whole
    for run in runs:
        if len(run) < 3:
            continue
        bigrams = [run[k : k + 2] for k in range(len(run) - 1)]
        at = text.find(run)
        if at < 0:
            loose.update(bigrams)
        while at >= 0:
            for k, bigram in enumerate(bigrams):
                if bigram in words and bigram not in alone:
                    allowed.setdefault(bigram, set()).add(at + k)
            at = text.find(run, at + 1)
    for bigram in loose:
        allowed.pop(bigram, None)
    return allowed


def _may_mark(only: dict[str, set[int]], norm: str, startchar: int) -> bool:
    """Whether a matched token may be marked: anywhere, unless it is a bigram of a Chinese
    query run, which is marked only where it starts inside the whole run (``run_starts``)."""
    starts = only.get(norm)
    return starts is None or startchar in starts


class _NotOneToken(Exception):
    """A token that the filters turn into no token or several: use the plain analyzer."""


class FastHighlighter:
    """Highlights text for one field's analyzer, like ``Hit.highlights`` on re-tokenized text.

    Whoosh re-analyses the whole stored text for every hit (tokenizer, lower-case, stop words,
    stemming, a generator per filter per token). Here the tokenizer runs alone and each distinct
    word goes through the filters once, its result kept for later texts (the analyzer works a
    token at a time, so a word analysed alone gives the text it has in context).

    With ``MixedTokenizer`` and a plain ``ContextFragmenter`` the tokens stay as lists and the
    merging and fragmenting of Whoosh are reproduced from match to match (``merged_matches``,
    ``context_fragments``); otherwise Whoosh's own token pipeline runs (``whoosh_fragments``).
    Scoring, choice and formatting of the fragments are Whoosh's either way.
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

    def _norm(self, raw: str) -> str | None:
        """The text of the one token the filters make of ``raw`` (None: not one), cached."""
        cache = self._words
        norm = cache.get(raw, _MISSING)
        if norm is _MISSING:
            norm = self._normalise(raw)
            with self._lock:
                if len(cache) >= MAX_CACHED_WORDS:
                    cache.clear()
                cache[raw] = norm
        return norm

    def _tokens(
        self, text: str, words: frozenset[str], only: dict[str, set[int]] | None = None
    ) -> Iterator[Token]:
        tokenizer = self.tokenizer
        if tokenizer is None:  # the caller falls back to the plain tokens
            raise _NotOneToken
        raws = (
            mixed_raw_tokens(text)
            if self.raw_tokens
            else [
                (t.startchar, t.endchar, t.text)
                for t in tokenizer(text, chars=True, mode="index", removestops=False)
            ]
        )
        # One Token object, as Whoosh's tokenizers do: the fragmenter copies what it keeps.
        token = Token(positions=True, chars=True, removestops=False, mode="index")
        token.boost = 1.0
        token.stopped = False
        for pos, (startchar, endchar, raw) in enumerate(raws):
            norm = self._norm(raw)
            if norm is None:
                raise _NotOneToken(raw)
            token.text = norm
            token.pos = pos
            token.startchar = startchar
            token.endchar = endchar
            token.matched = norm in words and (not only or _may_mark(only, norm, startchar))
            yield token

    def _plain_tokens(
        self, text: str, words: frozenset[str], only: dict[str, set[int]] | None = None
    ) -> Iterator[Token]:
        for token in self.analyzer(
            text, positions=True, chars=True, mode="index", removestops=False
        ):
            token.matched = token.text in words and (
                not only or _may_mark(only, token.text, token.startchar)
            )
            yield token

    def highlight(
        self,
        text: str,
        words: frozenset[str],
        formatter: Formatter,
        fragmenter: ContextFragmenter | None = None,
        top: int = 3,
        minscore: int = 1,
        runs: tuple[str, ...] = (),
    ) -> str:
        """The formatted top fragments of ``text`` around the tokens whose text is in ``words``.

        ``runs`` are the query's runs of Chinese characters (``chinese_runs``): their bigrams
        are marked only where the whole run stands, when the text holds it somewhere.
        """
        if not words or not text:
            return ""
        fragmenter = fragmenter or snippet_fragmenter()
        only = run_starts(text, runs, words) if runs else {}
        fragments = None
        if self.raw_tokens and type(fragmenter) is ContextFragmenter:
            fragments = self.fast_fragments(text, words, fragmenter, only)
        if fragments is None:
            fragments = self.whoosh_fragments(text, words, fragmenter, only)
        best = top_fragments(fragments, top, self.scorer, FIRST, minscore=minscore)
        return formatter.format(best)

    def fast_fragments(
        self,
        text: str,
        words: frozenset[str],
        fragmenter: ContextFragmenter,
        only: dict[str, set[int]] | None = None,
    ) -> list[Fragment] | None:
        """The fragments of ``whoosh_fragments`` without a Python step per token.

        None when a word of the text is not one token after the filters: then Whoosh's
        pipeline decides (it falls back to the whole analyzer where it meets that word).
        """
        raws, starts, ends = mixed_token_columns(text)
        distinct = list(set(raws))
        norms = list(map(self._words.get, distinct))
        if None in norms:  # words not seen yet (or not one token)
            norms = [self._norm(raw) for raw in distinct]
            if None in norms:
                return None
        # Every norm is a word here (a None returned above).
        pairs = compress(zip(distinct, norms, strict=True), map(words.__contains__, norms))
        matched = cast("dict[str, str]", dict(pairs))
        if not matched:
            return []
        hits = list(compress(range(len(raws)), map(matched.__contains__, raws)))
        if only:  # a bigram of a Chinese query run: only inside the whole run
            hits = [i for i in hits if _may_mark(only, matched[raws[i]], starts[i])]
        matches = merged_matches(hits, starts, ends, [matched[raws[i]] for i in hits])
        lengths = list(accumulate(map(len, raws), initial=0))
        return context_fragments(text, starts, ends, lengths, matches, fragmenter)

    def whoosh_fragments(
        self,
        text: str,
        words: frozenset[str],
        fragmenter: ContextFragmenter,
        only: dict[str, set[int]] | None = None,
    ) -> list[Fragment]:
        """The fragments Whoosh's merging and fragmenter make of the text's tokens."""
        only = only or {}
        if self.tokenizer is not None:
            try:
                return self._fragments(self._tokens(text, words, only), text, fragmenter)
            except _NotOneToken:
                pass
        return self._fragments(self._plain_tokens(text, words, only), text, fragmenter)

    @staticmethod
    def _fragments(
        tokens: Iterator[Token], text: str, fragmenter: ContextFragmenter
    ) -> list[Fragment]:
        # Materialise the fragments: a fallback must not leave the formatter half-used.
        merged = whoosh_compat.merge_matched_tokens(tokens)
        return list(fragmenter.fragment_tokens(text, merged))
