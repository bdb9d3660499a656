"""A story's search document: Markdown made plain text the same as the step-by-step definition."""

from __future__ import annotations

import random
import re

from csrnews.search.document import _MD_LINK_RE, _MD_MARK_RE, markdown_to_text


def _plain(markdown: str) -> str:
    """markdown_to_text as first written: every step over the whole text."""
    text = _MD_LINK_RE.sub(r"\1", markdown)
    text = re.sub(r"<[^>]+>", " ", text)
    text = _MD_MARK_RE.sub(" ", text)
    text = re.sub(r"^\s*-{3,}\s*$", " ", text, flags=re.MULTILINE)
    return re.sub(r"[ \t]+", " ", text).strip()


def test_markdown_to_text_equals_the_plain_steps() -> None:
    samples = [
        "",
        "One space only between words.",
        "two  spaces,\ta tab, \t mixed \t\t runs  ",
        "a [link](http://x) and ![an image](i.png) <b>bold</b> ---",
        "text\n## Heading\n\n- item\n1. first\n---\n> quote | cell *em* __strong__ `code`",
        "line\n   ---   \nafter",
    ]
    rng = random.Random(23)
    alphabet = " \t\n\r#>*_`-+|.0123456789ab[]()!</\u3000\u00a0\x85"
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(30000)
    ]
    for text in samples:
        assert markdown_to_text(text) == _plain(text), repr(text)
