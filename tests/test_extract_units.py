"""Extraction units: encodings, dates, sanitising, selectors, language, Markdown shape."""

from __future__ import annotations

import pytest
from csrnews.crawler.extraction import extract_page
from csrnews.crawler.extraction.clean import markdown_to_text, sanitize_markdown
from csrnews.crawler.extraction.dates import parse_date_text, url_date
from csrnews.crawler.extraction.encoding import decode_html

ZH_BODY = (
    "<p>八月十五日，面向电子供应商的安全生产培训班在东莞开班，"
    "六十多家企业的安全负责人参加培训。"
    "培训内容包括化学品管理、消防安全和职业健康，讲师结合工厂案例进行讲解。</p>"
    "<p>主办方计划今年在珠三角地区再举办三期培训，并为中小企业提供免费名额。</p>"
)
EN_PARAS = (
    "<p>The first paragraph of the story is long enough to be kept by the extractor; it is about "
    "supply chain audits and labour standards in Shenzhen factories.</p>"
    "<p>The second paragraph continues the story with more detail about what the auditors found "
    "and how the factories responded to the corrective action plans.</p>"
)


def zh_page(charset_meta: str = "") -> str:
    return (
        f"<html><head>{charset_meta}<title>供应商安全生产培训在东莞开班</title></head><body>"
        f"<div class='nav'>首页 新闻</div><div class='article'>"
        f"<h1>供应商安全生产培训在东莞开班</h1>"
        f"<div class='content'>{ZH_BODY}</div></div></body></html>"
    )


@pytest.mark.parametrize("encoding", ["gbk", "gb2312", "big5", "utf-8"])
@pytest.mark.parametrize("where", ["header", "meta", "none"])
def test_chinese_pages_decode_in_every_encoding(encoding: str, where: str) -> None:
    page = zh_page()
    if encoding == "big5":
        page = page.replace("东莞", "東莞").replace("开班", "開班")
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">'
    html = zh_page(meta) if where == "meta" else page
    if encoding == "big5":
        html = html.replace("东莞", "東莞").replace("开班", "開班")
    body = html.encode(encoding, "xmlcharrefreplace")
    header = f"text/html; charset={encoding}" if where == "header" else "text/html"
    result = extract_page(body, "https://example.org/a", content_type=header)
    assert "\ufffd" not in result.text
    assert "化学品管理" in result.text or "化學品管理" in result.text
    assert result.lang == "zh"
    assert "培训在" in result.title or "培訓在" in result.title or "培训" in result.title


def test_a_wrong_declared_gb2312_uses_the_wider_gb18030() -> None:
    text = "<html><body><p>镕基𠀀测试</p></body></html>"
    decoded, encoding = decode_html(text.encode("gb18030"), "text/html; charset=gb2312")
    assert "镕基𠀀测试" in decoded and encoding == "gb18030"


def test_utf8_without_declaration_is_not_mistaken_for_latin1() -> None:
    decoded, _ = decode_html("<p>企业社会责任 café</p>".encode(), None)
    assert "企业社会责任 café" in decoded


HOSTILE = f"""<html lang="en"><head><title>Hostile</title>
<meta property="article:published_time" content="2019-06-11"></head>
<body onload="evil()"><nav><a href="javascript:alert(1)">Menu</a></nav><article><h1>Hostile</h1>
{EN_PARAS}<script>alert('x')</script><iframe src="https://evil.invalid/"></iframe>
<p onclick="steal()">A third paragraph with a <a href="javascript:alert(document.cookie)">bad
link</a>, a <a href=" JaVaScRiPt:void(0)">second one</a>, a <a href="data:text/html,x">data
link</a> and a <a href="/good">good relative link</a> that must stay.</p>
<img src="x" onerror="fetch('https://evil.invalid')"><object data="x.swf"></object>
</article><footer>Copyright footer</footer></body></html>"""


def test_hostile_markup_is_dropped_not_escaped() -> None:
    result = extract_page(HOSTILE, "https://example.org/news/hostile")
    md = result.markdown.lower()
    for weapon in (
        "<script",
        "alert",
        "<iframe",
        "onclick",
        "onerror",
        "javascript",
        "data:",
        "evil.invalid",
        "&lt;",
        "<img",
        "<object",
    ):
        assert weapon not in md, weapon
    text = " ".join(result.text.split())
    assert "with a bad link, a second one, a data link and a good" in text
    assert "[good relative link](https://example.org/good)" in result.markdown
    assert "Copyright footer" not in result.text and "Menu" not in result.text


def test_sanitize_markdown_directly() -> None:
    md = (
        'Text <script>x</script> <b onclick="y">bold</b> [a](javascript:alert(1)) '
        "[b](/rel) ![img](http://x/i.png) <!-- c --> [c]"
    )
    out = sanitize_markdown(md, "https://example.org/dir/page")
    assert out == "Text  bold a [b](https://example.org/rel) img  c"


def test_markdown_keeps_headings_lists_tables_and_links() -> None:
    page = f"""<html lang="en"><body><article><h1>T</h1>{EN_PARAS}
<h2>Standards named</h2><ul><li>ISO 26000 guidance</li><li>SA8000 certification</li></ul>
<table><tr><th>Year</th><th>Reports</th></tr><tr><td>2016</td><td>300</td></tr></table>
<p>See <a href="https://example.org/r">the full report</a> for the details of the survey.</p>
</article></body></html>"""
    result = extract_page(page, "https://example.org/x")
    assert "## Standards named" in result.markdown
    assert "- ISO 26000 guidance" in result.markdown
    assert "| Year | Reports |" in result.markdown
    assert "[the full report](https://example.org/r)" in result.markdown
    assert "Year Reports" in result.text and "the full report" in result.text


@pytest.mark.parametrize(
    ("head", "body", "url", "expected"),
    [
        (
            '<meta property="article:published_time" content="2017-06-14T09:30:00+08:00">',
            "",
            "",
            "2017-06-14T09:30:00+08:00",
        ),
        (
            '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":'
            '"NewsArticle","datePublished":"2018-03-05"}]}</script>',
            "",
            "",
            "2018-03-05",
        ),
        ("", '<time datetime="2016-09-30">30 September 2016</time>', "", "2016-09-30"),
        ("", '<div class="byline">Published March 5, 2018</div>', "", "2018-03-05"),
        ("", '<div class="info">发布时间：2019年4月8日 来源：本网</div>', "", "2019-04-08"),
        ("", '<div class="byline">By Li Na | 14 June 2017</div>', "", "2017-06-14"),
        ("", "", "https://example.org/news/2019/03/14/story.html", "2019-03-14"),
        ("", "", "https://example.org/a/20190314/story.html", "2019-03-14"),
    ],
)
def test_every_dating_style(head: str, body: str, url: str, expected: str) -> None:
    page = (
        f"<html><head>{head}</head><body><article><h1>Title</h1>{body}{EN_PARAS}"
        f"<p>The event itself took place on 2 May 2015 in Beijing.</p></article></body></html>"
    )
    assert extract_page(page, url or "https://example.org/story").date == expected


def test_date_parsing_rejects_nonsense() -> None:
    assert parse_date_text("2019-02-30") is None
    assert parse_date_text("Version 1.2.3") is None
    assert parse_date_text("Published 2019-02-03T08:00:00Z") == "2019-02-03T08:00:00+00:00"
    assert url_date("https://e.org/2019/13/01/x") is None


def test_selectors_override_automatic_extraction() -> None:
    page = f"""<html><body><div id="x"><span class="t">Selector title</span>
<span class="d">Posted 2015-05-18</span><div class="b">{EN_PARAS}</div></div>
<div class="other"><h1>Wrong title</h1><p>Wrong text that should not be in the story.</p></div>
</body></html>"""
    result = extract_page(
        page,
        "https://example.org/s",
        selectors={"title": "span.t", "date": "//span[@class='d']", "body": "div.b"},
    )
    assert result.title == "Selector title"
    assert result.date == "2015-05-18"
    assert "Wrong text" not in result.text and "second paragraph" in result.text


def test_language_from_text_and_declaration() -> None:
    en = f"<html lang='en'><body><article><h1>T</h1>{EN_PARAS}</article></body></html>"
    fr = en.replace("lang='en'", "lang='fr-FR'")
    assert extract_page(en).lang == "en"
    assert extract_page(fr).lang == "fr"
    assert extract_page(en.replace("lang='en'", "lang='zh-CN'")).lang == "en"


def test_markdown_to_text() -> None:
    md = "## Head\n\n- item [link](http://x)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n**bold** text"
    assert markdown_to_text(md) == "Head\n\nitem link\n\na b\n1 2\n\nbold text"
