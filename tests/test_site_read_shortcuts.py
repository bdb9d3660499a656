"""The full build's reading shortcuts give what the long way gives: plain texts past Markdown's
inline patterns, plain summaries without a second conversion, ISO dates without dateutil, and
story HTML cleaned once (csr_reader, csr_meta, csr_markup)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from markdown import Markdown
from pelican.contents import Article
from pelican.readers import MarkdownReader
from pelican.utils import get_date

from csrnews.site.build import pelican_settings
from csrnews.site.plugins import csr_markup, csr_meta
from csrnews.site.plugins.csr_reader import (
    ReusingMarkdownReader,
    add_plain_text_marker,
    iso_date,
    plain_paragraph,
)

# Texts with and without Markdown's inline and block syntax, English and Chinese.
TEXTS = [
    "Plain words, with commas; quotes \"like this\" and 'these' (and brackets).",
    "一家公司发布了社会责任报告，涉及供应链与劳工标准。",
    "A *star* and _under_ score, **strong** and __strong__, a * lone star.",
    "Code `x = 1` and a back\\slash \\*escaped\\*, 5 \\< 6.",
    "A [link](https://example.org/a) and ![an image](/i.png) and [ref][r].\n\n[r]: /x",
    "An <https://example.org/auto> link and <mail@example.org> and <b>bold</b> html.",
    "Entities &amp; &#169; &copy; and a bare & ampersand, 3 < 4 > 2.",
    "A hard  \nbreak, and a soft\nbreak in one paragraph.",
    "# Heading\n\nPara one.\n\n- item *one*\n- item two\n\n1. first\n2. second",
    "> quoted _text_\n\n    indented code *not em*\n\n---\n\nafter the rule",
    "| a | b |\n| - | - |\n| *x* | [y](/y) |\n| plain | cell |",
    "```\nfenced *code* <b>\n```\n\nthen *text*",
    "<div>\nraw html block\n</div>\n\ntext after",
    "Under_scores_in_words and snake_case_names, file_name.txt",
    "",
]


def _markdown(settings: dict[str, Any]) -> Markdown:
    return Markdown(**settings["MARKDOWN"])


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("shortcuts")
    (root / "content").mkdir()
    conf = pelican_settings(root / "content", root / "out")
    MarkdownReader(conf)  # completes MARKDOWN's extension list as Pelican's reader does
    return conf


def test_plain_texts_skip_inline_patterns_with_the_same_html(settings: dict[str, Any]) -> None:
    marked, stock = _markdown(settings), _markdown(settings)
    assert add_plain_text_marker(marked)  # the project's Markdown settings get the shortcut
    assert not add_plain_text_marker(marked)  # once
    rng = random.Random(7)
    alphabet = "ab c_*`[]()<>&!\\#-|:.\n  一二"
    texts = TEXTS + ["".join(rng.choice(alphabet) for _ in range(40)) for _ in range(300)]
    for text in texts:
        assert marked.reset().convert(text) == stock.reset().convert(text), text


@pytest.mark.parametrize("extension", ["smarty", "nl2br", "extra", "toc"])
def test_other_inline_syntax_keeps_the_long_way(extension: str) -> None:
    assert not add_plain_text_marker(Markdown(extensions=[extension]))


def test_plain_summaries_are_what_markdown_makes(settings: dict[str, Any]) -> None:
    md = _markdown(settings)
    md.preprocessors.deregister("meta")  # as Pelican converts formatted fields
    plain = [
        "The organisers discussed corrective action plans, and chemical safety.",
        "企业社会责任峰会在北京举行。",
        "2024: a year (of reports) with 10.5% more; \"quoted\" and 'quoted' too?",
        "An e-mail: desk@example.org, a URL https://example.org/x and a 50-50 split.",
    ]
    for text in plain:
        assert plain_paragraph(text) == md.reset().convert(text), text
    not_plain = [
        "A *star*",
        "under_score",
        "1. a list",
        "- a list",
        "+ a list",
        "# heading",
        "> quote",
        "a & b",
        "a <b>",
        "a [link](x)",
        "    indented",
        "trailing  ",
        "two\nlines",
        "~~~",
        "",
    ]
    for text in not_plain:
        assert plain_paragraph(text) is None, text


def test_a_story_with_a_plain_summary_is_converted_once(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "story.md"
    path.write_text(
        "Title: A forum\nDate: 2024-05-01T09:30:00+08:00\nSummary: The forum met in Beijing.\n"
        "Tags: labour, audits\nCategory: Summit & forum\n\nThe *forum* met.\n",
        encoding="utf-8",
    )
    reader = ReusingMarkdownReader(settings)
    content, meta = reader.read(str(path))
    fresh_content, fresh_meta = MarkdownReader(settings).read(str(path))
    assert content == fresh_content and meta == fresh_meta
    assert list(meta) == list(fresh_meta)  # the same order of keys
    assert meta["summary"] == "<p>The forum met in Beijing.</p>"
    md = reader.markdown()
    assert "csr_plain_text" in md.treeprocessors  # plain texts skip the inline patterns
    conversions = []
    convert = md.convert
    md.convert = lambda text: conversions.append(text) or convert(text)  # type: ignore[method-assign]
    assert reader.read(str(path)) == (content, meta)
    assert len(conversions) == 1  # the story's text; its summary needs none


def test_iso_dates_are_read_as_pelican_reads_them() -> None:
    for text in [
        "2019-04-10T11:00:00+08:00",
        "2019-04-10T23:59:59-05:30",
        "2024-02-29T00:00:00+14:00",
        "2019-04-10",
    ]:
        ours, theirs = iso_date(text), get_date(text)
        assert ours == theirs and type(ours) is type(theirs), text
        assert ours is not None and ours.tzinfo is theirs.tzinfo, text  # dateutil's own objects
    # left to dateutil: UTC (its zone object follows the machine's), other forms, bad dates
    for text in [
        "2019-04-10T11:00:00Z",
        "2019-04-10T11:00:00+00:00",
        "2019-04-10 11:00",
        "2019-02-30",
    ]:
        assert iso_date(text) is None, text


def _story(settings: dict[str, Any], html: str, summary: str) -> Article:
    metadata = {"title": "A story", "slug": "a-story", "summary": summary}
    return Article(html, metadata=metadata, settings=settings, source_path="a-story.md")


def test_story_html_that_cleaning_leaves_unchanged_is_not_cleaned_again(
    settings: dict[str, Any],
) -> None:
    csr_meta.forget_taxa(None)
    csr_markup.forget(None)
    clean_body = "<h2>Heading</h2>\n<p>" + "A sentence of a story body. " * 60 + "</p>"
    story = _story(settings, clean_body, "<p>A summary.</p>")
    csr_meta.normalise(story)
    assert csr_meta.known_clean(story.content) and csr_meta.known_clean(story.summary)
    assert str(csr_markup.safe_html(story.content)) == csr_meta.clean_html(story.content)
    hostile = _story(settings, '<p onclick="x()">Hi<script>x()</script></p>', "<p>s</p>")
    csr_meta.normalise(hostile)
    assert hostile.content == "<p>Hi</p>"  # cleaned, and only what cleaning gave back is noted
    assert not csr_meta.known_clean('<p onclick="x()">Hi<script>x()</script></p>')
    assert str(csr_markup.safe_html("<p>a<script>x</script></p>")) == "<p>a</p>"
    csr_meta.forget_taxa(None)  # a build's end forgets them
    assert not csr_meta.known_clean(story.content)
    csr_markup.forget(None)


def test_a_full_build_makes_each_pages_key_once(tmp_path: Path, monkeypatch: Any) -> None:
    """A page with no file of a last build to keep is rendered: its key is made as it
    renders, not also beforehand (story pages were keyed twice in a full build)."""
    from collections import Counter

    from csrnews.site import incremental
    from csrnews.site.build import build_site
    from tests.golden_site import SAMPLES

    made: Counter[str] = Counter()
    page_key = incremental.Plan.page_key

    def counting(self: Any, template: Any, localcontext: Any) -> str:
        made[str(localcontext.get("output_file"))] += 1
        return page_key(self, template, localcontext)

    monkeypatch.setattr(incremental.Plan, "page_key", counting)
    out = tmp_path / "output"
    stats = build_site(SAMPLES, out, quiet=True)
    stories = [name for name in made if name.startswith("news/")]
    assert stories and stats.rendered > len(stories)
    assert [name for name, count in made.items() if count > 1] == []
    again = build_site(SAMPLES, out, quiet=True)  # and the keys hold for the next build
    assert again.rendered == 0 and again.unchanged == stats.rendered
