"""Extraction's failure classes: chrome words around the article, whole-page forms, a guard on the
raw tree, leads, "read more" lines, link lists at the story's edges, credit lines, Markdown
escapes, control characters, encodings by evidence."""

from __future__ import annotations

import json

import markdown
import pytest
from csrnews.crawler.extraction import extract_page
from csrnews.crawler.extraction.chrome import remove_chrome
from csrnews.crawler.extraction.clean import markdown_to_text, parse_html, sanitize_markdown
from csrnews.crawler.extraction.encoding import decode_page
from csrnews.crawler.extraction.lines import drop_chrome_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from tests.fixtures.extraction.evaluate import FIXTURES, fixtures

PARAS = [
    "The regional chamber of commerce has asked its members to publish the results of their "
    "supplier audits, including the findings that were not fixed within a year.",
    "Forty companies have agreed so far; the chamber will collect the reports in one place and "
    "compare them with the commitments made at last year's general assembly.",
    "A working group of buyers and suppliers will propose a common format for the reports by the "
    "end of the summer, after consulting the trade unions in the region.",
]
BODY = "".join(f"<p>{p}</p>" for p in PARAS)


def page(body: str, head: str = "") -> str:
    head = f"<title>T</title>{head}"
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>'


def has_story(text: str) -> bool:
    flat = " ".join(text.split())
    return all(p in flat for p in PARAS)


def _fixture(name: str):
    fx = next(f for f in fixtures() if f["id"] == name)
    body = (FIXTURES / f"{name}.html").read_bytes()
    return fx, extract_page(body, fx["url"], content_type=fx.get("content_type"))


# -- chrome is removed around the content, never with it --------------------------------------


@pytest.mark.parametrize(
    "wrapper",
    [
        '<form id="aspnetForm" method="post" action="./Default.aspx">{}</form>',
        '<div class="page nav-open">{}</div>',
        '<div id="modal-root" class="has-overlay">{}</div>',
        '<div class="share-scope"><div class="related-layout">{}</div></div>',
        '<aside class="main">{}</aside>',
        '<div class="site-wrapper sidebar-layout"><div class="col">{}</div></div>',
        '<div aria-hidden="true">{}</div>',
        '<div class="comments-enabled widget-area">{}</div>',
    ],
)
def test_a_chrome_word_on_an_ancestor_does_not_take_the_article(wrapper: str) -> None:
    chrome = (
        '<div class="share-buttons">Share on LinkedIn</div>'
        '<div class="related-links"><a href="/a">Another story about audits</a></div>'
    )
    html = page(
        '<div class="menu"><a href="/">Home</a> <a href="/news">News</a></div>'
        + wrapper.format(f"<h1>T</h1>{BODY}{chrome}")
    )
    result = extract_page(html, "https://example.org/news/a")
    assert has_story(result.text), result.text
    assert "Share on LinkedIn" not in result.text
    assert "Another story about audits" not in result.text


def test_chrome_inside_the_story_still_goes() -> None:
    tree = parse_html(
        page(
            f'<article><h1>T</h1>{BODY}<div class="social-share">Tweet this</div>'
            '<nav class="pager"><a href="/p/2">Next page</a></nav></article>'
            '<div class="newsletter">Sign up for our weekly briefing</div>'
        )
    )
    remove_chrome(tree)
    text = tree.text_content()
    assert has_story(text)
    for chrome in ("Tweet this", "Next page", "Sign up"):
        assert chrome not in text, chrome


def test_like_siblings_that_hold_most_of_the_page_are_its_content() -> None:
    entries = "".join(
        f'<div class="live-comment"><div class="live-comment-body">{p}</div></div>' for p in PARAS
    )
    tree = parse_html(page(f'<div class="ticker">{entries}</div><div class="nav">Home</div>'))
    remove_chrome(tree)
    assert has_story(tree.text_content())
    assert "Home" not in tree.text_content()


def test_modifiers_and_state_classes_are_not_chrome_words() -> None:
    tree = parse_html(
        page(
            f'<section class="report__section report__section--ads">{BODY}</section>'
            '<div class="tag-social category-sharing post">Kept too, a taxonomy class</div>'
        )
    )
    remove_chrome(tree)
    assert has_story(tree.text_content()) and "Kept too" in tree.text_content()


@pytest.mark.parametrize("name", ["en-aspnet-form-page", "en-chrome-ancestor"])
def test_fixture_pages_of_the_chrome_class(name: str) -> None:
    fx, result = _fixture(name)
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8").splitlines()
    flat = " ".join(result.text.split())
    paragraphs = [line for line in expected if len(line) > 60]
    assert paragraphs and all(p in flat for p in paragraphs)
    assert result.title == fx["title"] and result.extraction.startswith("cleaned")
    for chrome in ("__VIEWSTATE", "Telephone 555", "Share on LinkedIn", "living wages by 2030"):
        assert chrome not in result.markdown, chrome


# -- the raw tree guards the cleaned one; nothing unsafe comes through it -----------------------


def test_a_story_only_in_json_ld_comes_through_the_raw_tree_and_is_sanitised() -> None:
    body = " ".join(PARAS) + " See [details](javascript:alert(2)) and <img src=x onerror=alert(1)>."
    data = json.dumps(
        {
            "@type": "NewsArticle",
            "headline": "T",
            "articleBody": body,
            "datePublished": "2021-03-01",
        }
    ).replace("</", "<\\/")
    html = page(
        '<div id="app"><nav><a href="javascript:alert(3)">Menu</a></nav>'
        '<div class="loading" onclick="steal()">Loading</div></div>',
        head=f'<script type="application/ld+json">{data}</script>',
    )
    result = extract_page(html, "https://example.org/news/a")
    assert result.extraction.startswith("raw")
    assert has_story(result.text)
    md = result.markdown.lower()
    for weapon in ("javascript", "onerror", "onclick", "<img", "alert(1)", "<script"):
        assert weapon not in md, weapon


def test_a_layout_table_read_as_one_row_does_not_beat_the_cleaned_text() -> None:
    _, result = _fixture("zh-gbk-tablelayout-nodecl")
    assert result.extraction.startswith("cleaned")
    assert "|" not in result.markdown


def test_a_short_chinese_story_beside_a_long_headline_list_stays_clean() -> None:
    heads = "".join(
        f"<li><a href='/n/{i}'>第{i}条：某市召开企业社会责任工作推进会部署全年重点任务安排</a></li>"
        for i in range(1, 16)
    )
    story = (
        "<p>十月九日，市工商联组织二十家民营企业签署诚信经营承诺书，承诺依法纳税、按时足额发放工资。</p>"
        "<p>工商联表示，将对承诺落实情况进行跟踪。</p>"
    )
    html = (
        '<html><head><meta charset="utf-8"><title>民营企业签署诚信经营承诺书</title></head><body>'
        '<div class="top">首页 | 新闻 | 公告</div><div class="wrap"><div class="main">'
        f'<h1>民营企业签署诚信经营承诺书</h1><div class="txt">{story}</div></div>'
        f'<div class="list-box"><h3>推荐阅读</h3><ul>{heads}</ul></div></div></body></html>'
    )
    result = extract_page(html.encode("utf-8"), "https://example.org/a")
    assert result.lang == "zh" and "签署诚信经营承诺书" in result.text
    assert "工作推进会" not in result.text and "推荐阅读" not in result.text


# -- leads, "read more" lines, escapes, control characters ------------------------------------


def test_the_lead_above_the_body_comes_back_once() -> None:
    _, result = _fixture("en-news-standfirst")
    lead = "A regional utility has agreed to buy all the output of a new wind farm"
    assert result.text.startswith(lead) and result.text.count(lead) == 1
    assert "Read more" not in result.text and "Offshore wind auction" not in result.text
    assert result.extraction == "cleaned+lead"


def test_a_site_description_repeated_in_the_footer_is_no_lead() -> None:
    about = "Harbour News is the independent weekly of the port community since 1952, read by many."
    html = page(
        f"<article><h1>T</h1>{BODY}</article><footer><p>{about}</p></footer>",
        head=f'<meta name="description" content="{about}">',
    )
    result = extract_page(html, "https://example.org/news/a")
    assert has_story(result.text) and "independent weekly" not in result.text


def test_read_more_lines_go_but_labelled_list_items_stay() -> None:
    html = page(
        f"<article><h1>T</h1><p>{PARAS[0]}</p>"
        '<p><strong>Read more:</strong> <a href="/other">Chamber elects new board</a></p>'
        f"<p>{PARAS[1]}</p><ul><li><b>Report:</b> <a href='/r.pdf'>Audit summary 2021</a></li>"
        f"<li><b>Contact:</b> <a href='/c'>The chamber's office</a></li></ul><p>{PARAS[2]}</p>"
        "</article>"
    )
    result = extract_page(html, "https://example.org/news/a")
    assert has_story(result.text)
    assert "Chamber elects new board" not in result.text
    assert "Audit summary 2021" in result.text


def test_literal_brackets_stars_and_numbers_survive_as_text() -> None:
    html = page(
        f"<article><h1>T</h1>{BODY}<p>The survey [1] counted 3*4 sites and c_d items; "
        "see <a href='/r'>the report [PDF]</a>.</p><p>1. Quarter results were mixed.</p>"
        "<ol><li>First step</li><li>Second step</li></ol></article>"
    )
    result = extract_page(html, "https://example.org/news/a")
    assert "The survey [1] counted 3*4 sites and c_d items" in result.text
    assert "1. Quarter results were mixed." in result.text
    assert "1. First step" in result.text and "2. Second step" in result.text
    assert "the report [PDF]" in result.text
    assert "[the report \\[PDF\\]](https://example.org/r)" in result.markdown


def test_sanitising_keeps_escapes_and_drops_raw_html_around_them() -> None:
    md = "A \\[1\\] b \\*c\\* \\<script>x\\</script> [ok](/x) [bad](javascript:y) [label]\nz"
    out = sanitize_markdown(md, "https://example.org/p")
    assert out == "A \\[1\\] b \\*c\\*  [ok](https://example.org/x) bad label\nz"
    assert markdown_to_text(out) == "A [1] b *c*  ok bad label\nz"


def test_a_control_character_does_not_lose_the_page() -> None:
    html = page(f"<article><h1>T</h1><p>{PARAS[0]}\x0b <b>bold</b>\x01 tail</p>{BODY}</article>")
    result = extract_page(html, "https://example.org/news/a")
    assert has_story(result.text) and "bold" in result.text


# -- chrome inside the article's container: link lists at the edges, credit lines -------------


def test_link_lists_at_the_story_edges_go_with_their_title() -> None:
    html = page(
        '<article><a href="/news">Back to news overview</a><h1>T</h1>'
        f"{BODY}<h3>More from the chamber</h3><ul>"
        '<li><a href="/n/1">Members back a common audit format</a></li>'
        '<li><a href="/n/2">Chamber opens an office in the port</a></li></ul>'
        '<p><a href="/news">Back to the list</a></p></article>'
    )
    result = extract_page(html, "https://example.org/news/a")
    assert has_story(result.text)
    for chrome in ("Back to", "More from the chamber", "common audit format", "in the port"):
        assert chrome not in result.text, chrome


@pytest.mark.parametrize(
    "ending",
    [
        "Details are on the\n\n[council's website](https://example.org/c).",  # ends a sentence
        "[Full report (PDF)](https://example.org/report.pdf)",  # a file of the story's
        "[https://example.org/petition](https://example.org/petition)",  # a visible address
        "[Contact the press office](https://example.org/press)\n\nThe chamber meets again in "
        "May to agree the next steps with the unions and the buyers of the region.",  # mid-text
    ],
)
def test_links_that_belong_to_the_story_stay(ending: str) -> None:
    story = "\n\n".join(PARAS)
    markdown = f"{story}\n\n{ending}"
    assert drop_chrome_lines(markdown) == markdown


def test_a_text_of_links_only_is_left_as_it_is() -> None:
    markdown = "\n\n".join(f"- [Headline number {i}](https://example.org/{i})" for i in range(5))
    assert drop_chrome_lines(markdown) == markdown


def test_lists_after_lists_and_a_dangling_label_go() -> None:
    story = "\n\n".join(PARAS)
    tail = (
        "**Read also:**\n\n[Members back a common format](https://example.org/1)\n\n"
        "## Most read\n\n1. [Port strike ends](https://example.org/2)\n"
        "2. [New mayor sworn in](https://example.org/3)\n\nRelated:"
    )
    assert drop_chrome_lines(f"{story}\n\n{tail}").strip() == story


@pytest.mark.parametrize(
    "line",
    [
        "Photo: Harbour Times / J. Miller",
        "*Foto: dpa*",
        "Crédits photos : Agence X",
        "Source: Ministry of Commerce",
        "图片来源：港口管理局",
        "（责任编辑：陈静）",
    ],
)
def test_credit_and_source_lines_go(line: str) -> None:
    story = "\n\n".join(PARAS)
    assert drop_chrome_lines(f"{PARAS[0]}\n\n{line}\n\n{story}") == f"{PARAS[0]}\n\n\n{story}"


def test_a_paragraph_that_starts_like_a_credit_stays() -> None:
    line = (
        "Source: the ministry said in its statement that the rules would be reviewed after "
        "eighteen months of use by the city's buyers."
    )
    assert drop_chrome_lines(f"{PARAS[0]}\n\n{line}") == f"{PARAS[0]}\n\n{line}"


@pytest.mark.parametrize("name", ["en-news-edge-links", "zh-news-edge-links"])
def test_fixture_pages_of_the_edge_chrome_class(name: str) -> None:
    fx, result = _fixture(name)
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8")
    assert "".join(result.text.split()) == "".join(expected.split())
    assert result.title == fx["title"] and result.lang == fx["lang"]


# -- encodings by evidence ---------------------------------------------------------------------

ZH = (
    "<p>九月二十七日，行业协会在北京发布供应链尽责管理指南，为会员企业识别和应对供应链中的社会与"
    "环境风险提供参考。指南分为风险识别、风险评估、风险应对和信息披露四个部分。</p>"
    "<p>协会表示，将在年内组织三场专题培训，帮助中小企业建立尽责管理制度。</p>"
)
ZH_PAGE = f"<html><head>{{meta}}<title>尽责管理指南发布</title></head><body>{ZH}</body></html>"


def test_utf8_wins_over_a_declared_gb2312_in_the_page_and_in_the_header() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    body = ZH_PAGE.format(meta=meta).encode("utf-8")
    for content_type in (None, "text/html; charset=GB2312"):
        decoded = decode_page(body, content_type)
        assert decoded.encoding == "utf-8" and "尽责管理指南" in decoded.text
        assert "valid UTF-8" in decoded.reason and "gb2312" in decoded.reason


def test_one_bad_byte_does_not_fail_an_undeclared_gbk_page() -> None:
    data = ZH_PAGE.format(meta="").encode("gbk").replace(b"</p><p>", b"</p>\xff<p>")
    decoded = decode_page(data, "text/html")
    assert decoded.encoding == "gb18030"
    assert "尽责管理指南" in decoded.text and "专题培训" in decoded.text
    assert "not declared" in decoded.reason and "undecodable" in decoded.reason
    result = extract_page(data, "https://example.org/a", content_type="text/html")
    assert result.lang == "zh" and "\ufffd" not in result.text


def test_a_wrong_latin1_header_on_a_gbk_page_is_overruled() -> None:
    meta = '<meta charset="gbk">'
    data = ZH_PAGE.format(meta=meta).encode("gbk")
    decoded = decode_page(data, "text/html; charset=ISO-8859-1")
    assert decoded.encoding == "gb18030" and "尽责管理指南" in decoded.text
    assert "iso-8859-1" in decoded.reason


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("<p>Die Straße für Größe und Übermaß – „Grüße“ aus München.</p>", "cp1252", "cp1252"),
        (
            "<p>兩岸企業社會責任論壇在廈門舉辦，與會者分享了綠色製造的經驗。</p>",
            "big5",
            "big5hkscs",
        ),
        ("<p>企业社会责任报告的质量参差不齐，部分企业缺少量化指标。</p>", "gb18030", "gb18030"),
    ],
)
def test_undeclared_pages_read_in_the_encoding_that_fits(
    text: str, encoding: str, expected: str
) -> None:
    decoded = decode_page(text.encode(encoding), None)
    assert decoded.encoding == expected and text in decoded.text
    assert decoded.reason.startswith("not declared")


def test_utf8_with_a_stray_latin1_byte_stays_utf8() -> None:
    text = "<p>Kühlschrank, Größe, Straße – alles für die Küche. " * 5 + "</p>"
    data = text.encode("utf-8") + "<p>K\xfcchenblogs</p>".encode("latin-1")
    decoded = decode_page(data, "text/html; charset=utf-8")
    assert decoded.encoding == "utf-8" and "Kühlschrank" in decoded.text
    assert decoded.reason == "declared in the HTTP header; 1 undecodable byte sequence dropped"


def test_a_byte_order_mark_and_pure_ascii() -> None:
    assert decode_page("\ufeff<p>é</p>".encode("utf-16-le"), None).reason == "byte order mark"
    ascii_page = decode_page(b"<p>plain</p>", "text/html; charset=iso-8859-1")
    assert ascii_page.reason == "ASCII only" and ascii_page.text == "<p>plain</p>"


@pytest.mark.parametrize("name", ["zh-utf8-declares-gb2312", "zh-gbk-nodecl-badbyte"])
def test_fixture_pages_of_the_encoding_class(name: str) -> None:
    fx, result = _fixture(name)
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8")
    assert result.title == fx["title"] and result.lang == "zh"
    assert "".join(result.text.split()) == "".join(expected.split())
    assert result.encoding_reason


def test_copyright_notices_in_the_story_go() -> None:
    html = page(f"<article><h1>T</h1>{BODY}<p>© 2021 Chamber News Ltd. All rights reserved.</p>")
    result = extract_page(html, "https://example.org/news/a")
    assert has_story(result.text) and "All rights reserved" not in result.text


# -- chrome in the story's last lines: other stories, calls to the reader; disclosures, dates ---

STORY = "\n\n".join(PARAS)
# A longer story, as news stories are: a section of other stories after it is short beside it.
LONG_STORY = "\n\n".join([*PARAS, *PARAS])


@pytest.mark.parametrize(
    "call",
    [
        "Never miss a story: sign up for our weekly newsletter.",
        "**Follow the Harbour Times on Twitter and Instagram.**",
        "If you enjoyed this article, please consider supporting our work: [donate](/d).",
        "Subscribe now to our e-paper for the full story.",
        "Zum Newsletter anmelden",
        "*Síguenos en [Telegram](https://t.me/x)*",
        "扫码关注我们，获取更多资讯。",
        "Let us know what you think: leave a comment below!",
    ],
)
def test_calls_to_subscribe_or_follow_at_the_end_go(call: str) -> None:
    markdown = f"{STORY}\n\n{call}\n\nFollow us on [LinkedIn](https://example.org/in)"
    assert drop_chrome_lines(markdown).strip() == STORY


def test_a_newsletter_in_the_story_itself_stays() -> None:
    inside = "The chamber will send the findings to its members in its monthly newsletter."
    last = (
        "Members who want the audit format before the summer can subscribe to the chamber's "
        "mailing list for suppliers, which will carry the drafts of the working group and the "
        "comments of the trade unions on them, along with a calendar of the hearings planned in "
        "the region's five districts and the names of the buyers who take part in each of them, "
        "so that suppliers can prepare their questions in advance and send them in writing."
    )
    markdown = f"{PARAS[0]}\n\n{inside}\n\n{PARAS[1]}\n\n{last}"
    assert drop_chrome_lines(markdown) == markdown


@pytest.mark.parametrize(
    "last",
    [
        "The green bond was three times oversubscribed.",
        "The findings were published in the association's newsletter.",
        "Companies can sign up for the pledge on the chamber's website.",
        "Farmers can download the app free of charge.",
    ],
)
def test_a_last_sentence_about_subscriptions_or_apps_stays(last: str) -> None:
    markdown = f"{STORY}\n\n{last}"
    assert drop_chrome_lines(markdown) == markdown


def test_a_section_of_other_stories_near_the_end_goes_with_its_teasers() -> None:
    section = (
        "## Related stories\n\n[Members back a common audit format](https://example.org/1)\n\n"
        "10 March 2022\n\nThe format covers wages, hours and safety.\n\n"
        "[Port strike ends after two weeks](https://example.org/2)\n\n2 March 2022\n\n"
        "Dock workers won a new safety charter."
    )
    assert drop_chrome_lines(f"{LONG_STORY}\n\n{section}").strip() == LONG_STORY


@pytest.mark.parametrize(
    "section",
    [
        "### 2 Comments\n\nDock worker\n\n12.05.2021, 18:02\n\nAbout time the chamber did this.",
        "## Kommentare\n\nHafenfreund\n\nEndlich! Das hätte man schon vor Jahren machen sollen.",
        "Leave a reply\n\nYou must be logged in to post a comment.",
    ],
)
def test_the_readers_comments_under_the_story_go(section: str) -> None:
    assert drop_chrome_lines(f"{LONG_STORY}\n\n{section}").strip() == LONG_STORY


@pytest.mark.parametrize(
    "ending",
    [
        "## Kommentare der Opposition\n\nDie Opposition nannte den Vorschlag überfällig.",
        f"## Recommended measures\n\n- {PARAS[0]}\n- {PARAS[1]}",
        f"## More about the project\n\n{PARAS[2]}",
    ],
)
def test_a_heading_that_only_starts_like_comments_or_related_stays(ending: str) -> None:
    markdown = f"{LONG_STORY}\n\n{ending}"
    assert drop_chrome_lines(markdown) == markdown


def test_a_box_of_other_stories_inside_the_story_goes_alone() -> None:
    # Near the end of a long read: the two paragraphs after the box are the story's own.
    box = "**Read also:**\n\n[Members back a common audit format](https://example.org/1)"
    ending = (
        "The chamber's president said the reports would be public from next year, whatever the "
        "working group decides about their format.\n\n"
        "Suppliers that refuse to publish will not be excluded, but their names will be listed."
    )
    markdown = "\n\n".join([LONG_STORY, LONG_STORY, LONG_STORY, box, ending])
    kept = drop_chrome_lines(markdown)
    assert ending in kept and "Read also" not in kept and "common audit format" not in kept


def test_a_see_also_heading_early_in_the_text_stays() -> None:
    markdown = f"{PARAS[0]}\n\n## See also the chamber's earlier survey\n\n{LONG_STORY}"
    assert drop_chrome_lines(markdown) == markdown


@pytest.mark.parametrize(
    "line",
    [
        "*Anzeige*",
        "Advertisement",
        "*This post contains affiliate links. We may earn a commission on purchases.*",
        "Dieser Artikel enthält Affiliate-Links.",
        "广告",
    ],
)
def test_advertising_disclosures_go(line: str) -> None:
    assert drop_chrome_lines(f"{line}\n\n{STORY}").strip() == STORY


def test_a_sentence_about_advertising_or_a_commission_stays() -> None:
    line = (
        "The commission said advertising for fast fashion should carry the same warnings as the "
        "labels of the garments themselves."
    )
    markdown = f"{PARAS[0]}\n\n{line}\n\n{PARAS[1]}"
    assert drop_chrome_lines(markdown) == markdown


@pytest.mark.parametrize(
    "line",
    [
        "23.10.2018",
        "Posted: Thursday, April 21, 2022. 10:11 pm",
        "Stand: 28.04.2020 18:00 Uhr",
        "**July 7, 2020**",
        "2022年3月15日 09:30",
    ],
)
def test_date_lines_at_the_edges_go(line: str) -> None:
    assert drop_chrome_lines(f"{line}\n\n{STORY}\n\n{line}").strip() == STORY


def test_a_date_in_the_story_stays() -> None:
    lines = [
        "Entries close on 3 November 2019.",  # a sentence, not a date line
        "(OLG Oldenburg, decision of 3.1.2022, 2 Ss 240/21)",  # a citation
    ]
    for line in lines:
        markdown = f"{line}\n\n{STORY}"
        assert drop_chrome_lines(markdown) == markdown, line
    middle = f"{PARAS[0]}\n\n12.05.2021\n\n{PARAS[1]}"
    assert drop_chrome_lines(middle) == middle


@pytest.mark.parametrize("name", ["en-news-tail-chrome", "zh-news-tail-chrome"])
def test_fixture_pages_of_the_tail_chrome_class(name: str) -> None:
    fx, result = _fixture(name)
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8")
    assert "".join(result.text.split()) == "".join(expected.split())
    assert result.title == fx["title"] and result.lang == fx["lang"]


# -- hostile input never breaks extraction, nothing executable comes out -----------------------

_FRAGMENTS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div class='nav share modal'>",
        "</div>",
        "<form id='aspnetForm'>",
        "<script>alert(1)</script>",
        "<a href='javascript:alert(1)'>x</a>",
        "<a href=' JaVa\tScRiPt:alert(2)'>y</a>",
        "<img src=x onerror=alert(3)>",
        "<iframe src='https://evil.invalid'></iframe>",
        "[label](javascript:alert(4))",
        "&lt;script&gt;alert(5)&lt;/script&gt;",
        "<meta charset='gb2312'>",
        "企业社会责任",
        PARAS[0],
        "\x00\x0b\ufffe",
        "<table><tr><td>",
        "<a href='http://[bogus'>z</a>",
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=30), st.sampled_from(["utf-8", "gb18030", "cp1252"]))
def test_hostile_pages_extract_without_error_or_anything_executable(
    parts: list[str], encoding: str
) -> None:
    data = "".join(parts).encode(encoding, "xmlcharrefreplace")
    for body in (data, data[: len(data) // 2] + b"\xff\x80" + data[len(data) // 2 :]):
        result = extract_page(body, "https://example.org/news/a")
        assert result.encoding and result.encoding_reason
        # What the site shows is the Markdown rendered: no element or attribute there may run
        # anything (text that only looks like a tag, "\\<img onerror=...>", is text).
        rendered = markdown.markdown(result.markdown)
        if not rendered.strip():
            continue
        for el in lxml_html.fragment_fromstring(rendered, create_parent="div").iter():
            assert el.tag not in ("script", "iframe", "img", "object", "embed", "style"), rendered
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), rendered
                assert not value.strip().lower().startswith(("javascript", "data:")), rendered
