"""Query syntax the parser would silently misread: find it, and the plain words to search instead.

Whoosh's parser never fails on a dangling ``AND`` or an unclosed quote: it searches the
operator as a word, or the quote as part of a term, and the reader gets no results without
knowing why. These checks name the problem; the search then runs on the query's words alone
and the answer says what was searched.
"""

from __future__ import annotations

import re

OPERATORS = ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")
_BINARY = {"AND", "OR", "ANDNOT", "ANDMAYBE"}
_WORD_RE = re.compile(r'"|\(|\)|[^\s"()]+')
_FIELD_ONLY_RE = re.compile(r"^[A-Za-z_]+:$")


def syntax_problem(qstring: str) -> str | None:
    """What makes the query unreadable as written, in a few words; None when it reads fine."""
    if qstring.count('"') % 2:
        return "a quotation mark is not closed"
    depth = 0
    for char in qstring.replace('"', " "):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return "a closing bracket has no opening one"
    if depth:
        return "a bracket is not closed"
    tokens = [t for t in _WORD_RE.findall(qstring) if t != '"']
    words = [t for t in tokens if t not in ("(", ")")]
    for token in words:
        if _FIELD_ONLY_RE.match(token):
            return f"{token} has nothing after it"
    previous = None
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if token in OPERATORS:
            if after is None or after == ")" or after in _BINARY:
                return f"{token} has nothing after it"
            if token in _BINARY and (previous is None or previous == "("):
                return f"{token} has nothing before it"
        previous = token
    return None


def plain_words(qstring: str) -> str:
    """The query's words without operators, quotes, brackets or field prefixes."""
    words = []
    for token in re.split(r'[\s"()]+', qstring):
        token = re.sub(r"^[A-Za-z_]+:", "", token)
        if token and token not in OPERATORS:
            words.append(token)
    return " ".join(words)
