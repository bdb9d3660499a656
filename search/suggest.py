""" "Did you mean": corrections from the index's own words, by edit distance and frequency.

Each Latin word of a query that the index does not know (or knows from only a few stories,
while a word one letter away is common) gets its candidates from the words the stories use
(the unstemmed ``spell_title`` and ``spell_body`` fields), ranked by Damerau–Levenshtein
distance, then by how many stories use them. The caller tries the best combinations as real
searches and offers only one that finds stories: a suggestion never leads to no results.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import STOP_WORDS

SPELL_FIELDS = ("spell_title", "spell_body")
FREQUENCY_FIELDS = ("title", "body")
_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]{1,23}")
MAX_WORDS = 6  # longer queries are not corrected
CANDIDATES_PER_WORD = 3
MAX_COMBINATIONS = 6  # searches tried to confirm a suggestion
RARE = 2  # a word in at most this many stories may be a typo the corpus shares ...
MORE_COMMON = 10  # ... when a word one edit away is this many times more common


def distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau–Levenshtein distance (optimal string alignment); ``limit`` + 1 when larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Speller:
    """Spelling candidates for one generation of the index (readers are passed in: a
    reader belongs to the thread searching with it, the speller to every thread)."""

    def __init__(self, analyzer: Any) -> None:
        self.analyzer = analyzer
        self._frequency: dict[str, int] = {}

    def frequency(self, reader: Any, word: str) -> int:
        """Stories whose title or body has the word (as the index stems it)."""
        found = self._frequency.get(word)
        if found is None:
            stems = [t.text for t in self.analyzer(word)]
            found = 0
            if len(stems) == 1:
                found = max(reader.doc_frequency(field, stems[0]) for field in FREQUENCY_FIELDS)
            self._frequency[word] = found
        return found

    def candidates(self, reader: Any, word: str) -> list[tuple[str, int, int]]:
        """(candidate, distance, frequency) for a word, best first; [] when it needs none."""
        low = word.lower()
        if not _LATIN_WORD_RE.fullmatch(word) or low in STOP_WORDS or len(low) < 3:
            return []
        own = self.frequency(reader, low)
        if own > RARE:
            return []
        maxdist = 1 if len(low) <= 4 else 2
        found: dict[str, tuple[int, int]] = {}
        for field in SPELL_FIELDS:
            for term in reader.terms_within(field, low, maxdist, prefix=1):
                text = term.decode("utf-8") if isinstance(term, bytes) else str(term)
                if text == low or text in found:
                    continue
                edits = distance(low, text, maxdist)
                if edits > maxdist:
                    continue
                count = self.frequency(reader, text)
                if count <= own or (own and (edits > 1 or count < own * MORE_COMMON)):
                    continue
                found[text] = (edits, count)
        ranked = sorted(found.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[0]))
        return [(text, edits, count) for text, (edits, count) in ranked[:CANDIDATES_PER_WORD]]

    @staticmethod
    def edits(qstring: str, corrected: str) -> int:
        """The edits between a query and a correction of it, word by word."""
        return sum(
            distance(a.lower(), b.lower())
            for a, b in zip(qstring.split(), corrected.split(), strict=False)
        )

    def corrections(self, reader: Any, qstring: str) -> Iterator[str]:
        """Corrected query strings to try, most likely first (none when every word is fine)."""
        words = qstring.split()
        if not 0 < len(words) <= MAX_WORDS:
            return
        options: list[list[tuple[str, int, int]]] = []
        for word in words:
            found = self.candidates(reader, word)
            options.append(found or [(word, 0, 0)])
        if all(len(o) == 1 and o[0][0] == w for o, w in zip(options, words, strict=True)):
            return
        combos = sorted(
            itertools.product(*options),
            key=lambda combo: (sum(c[1] for c in combo), -sum(c[2] for c in combo)),
        )
        for combo in combos[:MAX_COMBINATIONS]:
            yield " ".join(c[0] for c in combo)
