"""The list-based snippet path (FastHighlighter.fast_fragments) makes Whoosh's fragments exactly.

The references are Whoosh's token pipeline (``_merge_matched_tokens`` and
``ContextFragmenter.fragment_tokens``) over the tokens of ``FastHighlighter._tokens`` (the
previous implementation) and over the whole analyzer's tokens; scoring, choice and HTML are
compared with Whoosh's ``top_fragments`` and ``HtmlFormatter``.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

import pytest
from csrnews.search.analysis import MixedTokenizer
from csrnews.search.document import markdown_to_text
from csrnews.search.highlight import (
    FastHighlighter,
    mixed_raw_tokens,
    mixed_token_columns,
    snippet_formatter,
    snippet_fragmenter,
)
from csrnews.search.schema import build_schema
from whoosh.analysis import Filter, LowercaseFilter, StandardAnalyzer, Token
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    ContextFragmenter,
    Fragment,
    Highlighter,
    top_fragments,
)

from bench.corpus import generate_corpus
from csrnews.story.storyfile import read_story

pytestmark = pytest.mark.slow

STORIES = 300

FRAGMENTERS = [
    snippet_fragmenter(),
    ContextFragmenter(maxchars=50, surround=10),
    ContextFragmenter(maxchars=40, surround=20, charlimit=700),
    ContextFragmenter(maxchars=120, surround=7, charlimit=0),
]


@pytest.fixture(scope="module")
def highlighter() -> FastHighlighter:
    return FastHighlighter(build_schema()["body"].analyzer)


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    content = tmp_path_factory.mktemp("content")
    texts = []
    for path in generate_corpus(content, STORIES):
        story = read_story(path)
        texts.append(markdown_to_text(story.body))
        if story.get("Summary"):
            texts.append(story.get("Summary"))
    return texts


def _shape(fragments: list[Fragment], skip: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """What the scorer and formatter read of the fragments (and the tokens' other fields)."""
    return [
        (
            f.startchar,
            f.endchar,
            sorted(f.matched_terms),
            [sorted(i for i in t.__dict__.items() if i[0] not in skip) for t in f.matches],
        )
        for f in fragments
    ]


def _whoosh_plain(hl: FastHighlighter, text: str, words: frozenset[str], fragmenter: Any) -> Any:
    """Whoosh's pipeline over the whole analyzer's tokens (as Hit.highlights re-tokenizes)."""
    merged = Highlighter._merge_matched_tokens(hl._plain_tokens(text, words))
    return list(fragmenter.fragment_tokens(text, merged))


def _html(fragments: list[Fragment], top: int, minscore: int) -> str:
    best = top_fragments(fragments, top, BasicFragmentScorer(), FIRST, minscore=minscore)
    return snippet_formatter().format(best)


def _check(
    hl: FastHighlighter, text: str, words: frozenset[str], fragmenter: Any, plain: bool = True
) -> None:
    fast = hl.fast_fragments(text, words, fragmenter)
    assert fast is not None
    reference = hl.whoosh_fragments(text, words, fragmenter)
    assert _shape(fast) == _shape(reference), (text[:200], sorted(words))
    # The analyzer's own tokens: its stop words are "stopped" and not counted in "pos" (which
    # neither the scorer nor the formatter reads).
    if plain:
        whoosh = _whoosh_plain(hl, text, words, fragmenter)
        assert _shape(fast, skip=("stopped", "pos")) == _shape(whoosh, skip=("stopped", "pos"))
    for top, minscore in ((2, 1), (3, 0)):
        assert _html(fast, top, minscore) == _html(reference, top, minscore)


def _norms(hl: FastHighlighter, text: str) -> list[str]:
    return [hl._norm(raw) or "" for _, _, raw in mixed_raw_tokens(text)]


def _word_sets(hl: FastHighlighter, text: str, rng: random.Random) -> list[frozenset[str]]:
    """Query words taken from the text: first, last, random, frequent, a long run, none."""
    norms = _norms(hl, text)
    if not norms:
        return [frozenset({"absent"})]
    common = [word for word, _ in Counter(norms).most_common(3)]
    window = rng.randrange(len(norms))
    return [
        frozenset({norms[0]}),
        frozenset({norms[-1]}),
        frozenset({norms[0], norms[-1]}),
        frozenset({rng.choice(norms)}),
        frozenset(rng.sample(norms, min(3, len(norms)))),
        frozenset(common[:1]),
        frozenset(common),
        frozenset(norms[window : window + 60]),  # a run of matches longer than maxchars
        frozenset(norms),  # every token matches
        frozenset({"zzzabsent"}),
    ]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_corpus_bodies_match_whoosh(highlighter: FastHighlighter, bodies: list[str]) -> None:
    rng = random.Random(7)
    # Every Chinese text (few: 44 of the 600) and the English texts of every other story (its
    # body and its summary come one after the other): 318 texts, long and short ones.
    texts = [text for n, text in enumerate(bodies) if n // 2 % 2 == 0 or _chinese(text)]
    chinese = sum(1 for text in texts if _chinese(text))
    assert chinese > 20 and len(texts) - chinese > 20  # both languages are covered
    # Every text with the site's fragmenter (and the plain-token reference); the other
    # fragmenters in turn, each on a third of the texts (about 100, with every word set).
    for number, text in enumerate(texts):
        others = FRAGMENTERS[1:]
        for words in _word_sets(highlighter, text, rng):
            _check(highlighter, text, words, FRAGMENTERS[0])
            _check(highlighter, text, words, others[number % len(others)], plain=False)


def test_texts_past_the_charlimit(highlighter: FastHighlighter, bodies: list[str]) -> None:
    rng = random.Random(11)
    # Every check tokenizes its whole text, and how far past the limit a text goes does not
    # matter: the cuts fall in the first four limits' worth (of about 650,000 characters).
    text = "\n\n".join(bodies)[: 4 * 2**15]
    assert len(text) == 4 * 2**15
    starts = [m.start() for m in re.finditer(r"\w+", text)]
    for cut in [*rng.sample(starts, 12), 2**15 - 3, 2**15 - 1, 2**15, 2**15 + 2]:
        long_text = text[: cut + 400]
        norms = _norms(highlighter, long_text)
        near = _norms(highlighter, text[2**15 - 30 : 2**15 + 30])
        for words in (
            frozenset(near),
            frozenset(rng.sample(norms, 3)),
            frozenset(norms[-40:]),
        ):
            _check(highlighter, long_text, words, snippet_fragmenter())


EDGE_CASES = [
    ("supply", {"suppli"}),
    ("   supply   ", {"suppli"}),
    ("Supply chain, supply CHAIN; supplies.", {"suppli", "chain"}),
    ("ISO26000 and ISO 26000 and SA8000", {"iso", "26000"}),
    ("ISO26000 and ISO 26000 and SA8000", {"sa", "8000", "and"}),
    ("CO2e emissions_data x²y café 1st", {"co", "2", "emiss", "data", "x²y", "1"}),
    ("供应链管理供应链", {"供应", "应链"}),
    ("supply 供应链 supply", {"suppli", "供应", "应链"}),  # a match that does not touch
    ("中 文 中文 中", {"中", "中文"}),
    ("ＡＢＣ１２３ 한국어 日本語です", {"ａｂｃ", "１２３", "日本", "語で"}),
    ("“Quoted” — supply’s chain…", {"suppli", "chain"}),
    ("a " + "x" * 300 + " b", {"x" * 300}),  # a match longer than maxchars
    ("x" * 300 + " a b c", {"x" * 300, "c"}),
    ("ab12" * 80, {"ab", "12"}),  # one merged token longer than maxchars
    ("供应" * 150 + " supply", {"供应", "应供", "suppli"}),
    (" ".join(["1234567890"] * 40), {"1234567890"}),
    # A countdown ending at exactly zero: 2 * 60 - 10 = 110 = 11 unmatched tokens of 10.
    (" ".join(["1234567890"] + ["0987654321"] * 30 + ["1234567890"]), {"1234567890"}),
    (" ".join(["0987654321"] * 3 + ["1234567890"] + ["0987654321"] * 30), {"1234567890"}),
    ("word " * 2000 + "target", {"target", "word"}),
]


@pytest.mark.parametrize(("text", "words"), EDGE_CASES)
def test_edge_cases(highlighter: FastHighlighter, text: str, words: set[str]) -> None:
    for fragmenter in FRAGMENTERS:
        _check(highlighter, text, frozenset(words), fragmenter)


def test_empty_fragments_are_kept() -> None:
    """A countdown at exactly zero makes the next token an empty fragment (minscore=0 shows it)."""
    hl = FastHighlighter(build_schema()["body"].analyzer)
    text = " ".join(["1234567890"] + ["0987654321"] * 12)
    fragments = hl.fast_fragments(text, frozenset({"1234567890"}), snippet_fragmenter())
    assert fragments is not None
    assert [(f.startchar, f.endchar, len(f.matches)) for f in fragments] == [
        (0, 131, 1),
        (0, 142, 0),
    ]


def test_highlight_uses_the_fast_path(highlighter: FastHighlighter, bodies: list[str]) -> None:
    text = bodies[0]
    words = frozenset(_norms(highlighter, text)[:3])
    formatter, reference_formatter = snippet_formatter(), snippet_formatter()
    for body in bodies[:20]:
        html = highlighter.highlight(body, words, formatter, top=2)
        fragments = highlighter.whoosh_fragments(body, words, snippet_fragmenter())
        best = top_fragments(fragments, 2, BasicFragmentScorer(), FIRST, minscore=1)
        assert html == reference_formatter.format(best)
    assert highlighter.highlight(text, frozenset(), formatter) == ""
    assert highlighter.highlight("", words, formatter) == ""


def test_token_columns(bodies: list[str]) -> None:
    extra = [
        "SA8000, CO2e; 2nd 5G_x a_b __ x²y é1 中a 中文abc123 一二三四",
        "Ａｂ１２ 한국어 日本語",
        "",
    ]
    for text in bodies + extra:
        raws, starts, ends = mixed_token_columns(text)
        assert list(zip(starts, ends, raws, strict=True)) == mixed_raw_tokens(text)


class _SplitAB(Filter):
    """Turns the token "ab" into two tokens (so a word is not one token)."""

    def __call__(self, tokens: Any) -> Any:
        for token in tokens:
            if token.text == "ab":
                for text in ("a", "b"):
                    token.text = text
                    yield token
            else:
                yield token


def test_fallbacks_are_whoosh() -> None:
    text = "The ab supply chain of ab and the supply of chains"
    words = frozenset({"supply", "chain", "a"})
    for analyzer in (StandardAnalyzer(), MixedTokenizer() | LowercaseFilter() | _SplitAB()):
        hl = FastHighlighter(analyzer)
        if hl.raw_tokens:  # a word that is not one token: Whoosh's pipeline decides
            assert hl.fast_fragments(text, words, snippet_fragmenter()) is None
        merged = Highlighter._merge_matched_tokens(t for t in _matched(analyzer, text, words))
        expected = list(snippet_fragmenter().fragment_tokens(text, merged))
        got = top_fragments(expected, 3, BasicFragmentScorer(), FIRST)
        assert hl.highlight(text, words, snippet_formatter()) == snippet_formatter().format(got)
        assert hl.highlight(text, words, snippet_formatter())


def _matched(analyzer: Any, text: str, words: frozenset[str]) -> Any:
    for token in analyzer(text, positions=True, chars=True, mode="index", removestops=False):
        token.matched = token.text in words
        yield token


def test_fast_path_is_taken(highlighter: FastHighlighter) -> None:
    hl = FastHighlighter(MixedTokenizer() | LowercaseFilter() | _SplitAB())
    assert hl.fast_fragments("the ab chain", frozenset({"chain"}), snippet_fragmenter()) is None
    fragments = highlighter.fast_fragments("the chain", frozenset({"chain"}), snippet_fragmenter())
    assert fragments is not None and len(fragments) == 1
    assert isinstance(fragments[0].matches[0], Token)
