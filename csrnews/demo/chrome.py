"""The HTML chrome of each demo publisher: header, navigation, sidebar, banners and footer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import escape

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publisher:
    """One demo publisher's identity and the chrome text around its stories."""

    key: str
    name: str
    lang: str
    tagline: str
    nav: tuple[str, ...]
    cookie_text: str
    cookie_buttons: tuple[str, ...]
    share: tuple[str, str, str]  # Twitter, WeChat, email
    newsletter_text: str
    newsletter_button: str
    sidebar_heading: str
    footer: tuple[str, ...]  # copyright line, reprint notice, then footer links
    reprint_template: str  # "{name}" is the first publisher's name


PUBLISHERS: dict[str, Publisher] = {
    "herald": Publisher(
        key="herald",
        name="The CSR Herald",
        lang="en",
        tagline="Corporate responsibility news from China and beyond, since 2009",
        nav=(
            "Herald front page",
            "Summits and forums",
            "Standards and policy",
            "Reports desk",
            "Top 10 lists",
            "Subscribe to the Herald",
        ),
        cookie_text="We use cookies to remember your reading preferences and to measure our "
        "audience.",
        cookie_buttons=("Accept all cookies", "Manage cookie settings"),
        share=("Share on Twitter", "Share on WeChat", "Email this story"),
        newsletter_text="Get the Herald Briefing in your inbox every Monday morning.",
        newsletter_button="Sign up for the Herald Briefing",
        sidebar_heading="Most read on the Herald",
        footer=(
            "Copyright 2009-2020 The CSR Herald. All rights reserved.",
            "Reprints of Herald articles require written permission from the editors.",
            "About the Herald",
            "Contact the newsroom",
            "Herald privacy policy",
        ),
        reprint_template="This article first appeared in {name}.",
    ),
    "review": Publisher(
        key="review",
        name="Supply Chain Responsibility Review",
        lang="en",
        tagline="Independent reporting on labour, sourcing and supplier standards",
        nav=(
            "Review home",
            "Labour rights desk",
            "Sourcing and audits",
            "Case studies archive",
            "Review events calendar",
        ),
        cookie_text="This site stores small files on your device to keep you signed in and to "
        "count visits.",
        cookie_buttons=("Accept cookies", "Reject non-essential cookies"),
        share=("Tweet this article", "Share via WeChat", "Send by email"),
        newsletter_text="The Review Supply Chain Digest arrives once a fortnight.",
        newsletter_button="Subscribe to the Digest",
        sidebar_heading="More from the Review",
        footer=(
            "Copyright 2012-2020 Supply Chain Responsibility Review.",
            "Articles may be reprinted only with credit to the Review and a link to the original.",
            "Editorial standards",
            "Advertise with the Review",
        ),
        reprint_template="This article first appeared in {name} and is republished with "
        "permission.",
    ),
    "weekly": Publisher(
        key="weekly",
        name="企业社会责任周刊 China CSR Weekly",
        lang="zh",
        tagline="中国企业社会责任报道与研究",
        nav=("周刊首页", "政策与标准频道", "责任报告频道", "行业活动频道", "年度十大事件专题"),
        cookie_text="本网站使用Cookie以改善您的浏览体验，继续浏览即表示您同意我们的Cookie政策。",
        cookie_buttons=("我知道了",),
        share=("分享到推特", "分享到微信朋友圈", "通过邮件发送本文"),
        newsletter_text="订阅周刊电子报，每周五送达您的邮箱。",
        newsletter_button="立即订阅电子报",
        sidebar_heading="本周热门文章",
        footer=(
            "版权所有 2008-2020 企业社会责任周刊",
            "未经本刊书面授权，不得转载、摘编本网站作品。",
            "联系周刊编辑部",
            "京ICP备10000000号-1",
        ),
        reprint_template="本文转载自{name}，版权归原作者所有。",
    ),
    "esn": Publisher(
        key="esn",
        name="Electronics Sustainability News",
        lang="en",
        tagline="News for responsible electronics manufacturing",
        nav=(
            "ESN home",
            "Minerals desk",
            "Chemicals and safety desk",
            "Industry standards desk",
            "ESN events",
        ),
        cookie_text="ESN uses cookies for analytics and advertising. You can change your choice "
        "at any time.",
        cookie_buttons=("OK, got it", "Cookie preferences"),
        share=("Post to Twitter", "Forward on WeChat", "Email a colleague"),
        newsletter_text="Join 12,000 engineers who read the ESN Weekly Wrap.",
        newsletter_button="Sign me up for the Wrap",
        sidebar_heading="Trending on ESN",
        footer=(
            "Copyright 2014-2020 Electronics Sustainability News.",
            "Reproduction of ESN content without a licence is prohibited.",
            "ESN terms of use",
        ),
        reprint_template="Originally published by {name}.",
    ),
}

# Listing-page chrome of the weekly (it has no feed).
LISTING_TEXTS: dict[str, str] = {
    "heading": "最新文章",
    "next": "下一页",
    "prev": "上一页",
    "members": "会员专区：2019年电子行业社会责任指数完整数据",
    "dead": "往期回顾：2015年企业社会责任论坛通知",
}
SKIP_LINK = "Skip to main content"


def reprint_line(original: str, reprinter: str) -> str:
    """The reprint notice the second publisher prints, in its own words."""
    return PUBLISHERS[reprinter].reprint_template.format(name=PUBLISHERS[original].name)


def _chrome_texts() -> list[str]:
    texts: list[str] = [SKIP_LINK]
    for pub in PUBLISHERS.values():
        texts += [
            pub.name,
            pub.tagline,
            *pub.nav,
            pub.cookie_text,
            *pub.cookie_buttons,
            *pub.share,
            pub.newsletter_text,
            pub.newsletter_button,
            pub.sidebar_heading,
            *pub.footer,
        ]
        texts += [reprint_line(other, pub.key) for other in PUBLISHERS if other != pub.key]
    texts += list(LISTING_TEXTS.values())
    return list(dict.fromkeys(texts))


# Every sentence and label of chrome text: none may ever appear in an extracted story body.
CHROME_TEXTS: list[str] = _chrome_texts()


def _nav(pub: Publisher) -> str:
    items = [f'<li><a href="/{pub.key}/">{escape(pub.nav[0])}</a></li>']
    items += [
        f'<li><a href="/{pub.key}/#section-{i}">{escape(label)}</a></li>'
        for i, label in enumerate(pub.nav[1:], 1)
    ]
    return "<ul>" + "".join(items) + "</ul>"


def _sidebar(pub: Publisher, headlines: list[tuple[str, str]]) -> str:
    links = "".join(
        f'<li><a href="{escape(href)}">{escape(title)}</a></li>' for href, title in headlines
    )
    return f'<h3>{escape(pub.sidebar_heading)}</h3><ol class="headlines">{links}</ol>'


def _share(pub: Publisher, share_id: str) -> str:
    if not share_id:
        return ""
    twitter, wechat, mail = pub.share
    q = escape(share_id)
    return (
        f'<div class="share"><a class="share-twitter" href="/{pub.key}/share?to=twitter&amp;'
        f'id={q}">{escape(twitter)}</a> <a class="share-wechat" href="/{pub.key}/share?to='
        f'wechat&amp;id={q}">{escape(wechat)}</a> <a class="share-mail" href="/{pub.key}/'
        f'share?to=email&amp;id={q}">{escape(mail)}</a></div>'
    )


def _cookie(pub: Publisher) -> str:
    buttons = "".join(f"<button>{escape(b)}</button>" for b in pub.cookie_buttons)
    return (
        f'<div id="cookie-consent" class="cookie-banner" role="dialog"><p>'
        f"{escape(pub.cookie_text)}</p>{buttons}</div>"
    )


def _newsletter(pub: Publisher) -> str:
    return (
        f'<form class="newsletter" action="/{pub.key}/newsletter" method="post"><p>'
        f'{escape(pub.newsletter_text)}</p><input type="email" name="email" '
        f'placeholder="you@example.com"><button type="submit">'
        f"{escape(pub.newsletter_button)}</button></form>"
    )


def _footer(pub: Publisher) -> str:
    copyright_line, notice, *links = pub.footer
    link_html = " | ".join(
        f'<a href="/{pub.key}/#footer-{i}">{escape(text)}</a>' for i, text in enumerate(links)
    )
    return (
        f'<p class="copyright">{escape(copyright_line)}</p><p class="reprint-notice">'
        f'{escape(notice)}</p><p class="footer-links">{link_html}</p>'
    )


def page(
    publisher: str,
    *,
    title: str,
    lang: str,
    head: str,
    main: str,
    headlines: list[tuple[str, str]],
    share_id: str = "",
) -> str:
    """Wrap main content (already HTML) in the publisher's full page chrome."""
    pub = PUBLISHERS[publisher]
    html_lang = "zh-CN" if lang == "zh" else "en"
    doc_title = f"{escape(title)} - {escape(pub.name)}"
    nav, side, share = _nav(pub), _sidebar(pub, headlines), _share(pub, share_id)
    cookie, news, foot = _cookie(pub), _newsletter(pub), _footer(pub)
    css = f'<link rel="stylesheet" href="/static/{publisher}.css">'
    top = (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n{head}<title>{doc_title}'
        f"</title>\n{css}\n</head>\n"
    )
    skip = f'<a class="skip" href="#main">{SKIP_LINK}</a>'
    if publisher == "herald":
        body = (
            f'<body class="herald">{skip}{cookie}<div class="site-wrap"><header class='
            f'"masthead"><a class="logo" href="/herald/">{escape(pub.name)}</a><p class='
            f'"tagline">{escape(pub.tagline)}</p><nav class="primary">{nav}</nav></header>'
            f'<div class="columns"><main id="main">{main}{share}</main><aside class='
            f'"sidebar">{side}{news}</aside></div><footer class="site-footer">{foot}'
            f"</footer></div></body>"
        )
    elif publisher == "review":
        body = (
            f'<body class="review">{skip}<header id="top"><div class="brand"><a href="/'
            f'review/">{escape(pub.name)}</a></div><div class="strap">'
            f'{escape(pub.tagline)}</div><nav>{nav}</nav></header><div class="layout">'
            f'<aside class="rail">{side}</aside><main id="main">{share}{main}{news}</main>'
            f"</div><footer>{foot}</footer>{cookie}</body>"
        )
    elif publisher == "weekly":
        body = (
            f'<body class="weekly">{skip}<div id="header"><div class="logo"><a href="/weekly/">'
            f'{escape(pub.name)}</a></div><div class="slogan">{escape(pub.tagline)}</div>'
            f'<div id="menu">{nav}</div></div><div id="content"><div class="left" id="main">'
            f'{main}{share}</div><div class="right">{side}{news}</div></div><div id="footer">'
            f"{foot}</div>{cookie}</body>"
        )
    else:
        body = (
            f'<body class="esn">{skip}{cookie}<div class="container"><div class="topbar">'
            f'<a class="brand" href="/esn/">{escape(pub.name)}</a><span>'
            f'{escape(pub.tagline)}</span></div><nav class="navbar">{nav}</nav><div '
            f'class="row"><main id="main" class="col-main">{main}{share}{news}</main><div '
            f'class="col-side">{side}</div></div><footer class="bottom">{foot}</footer>'
            f"</div></body>"
        )
    return top + body + "\n</html>\n"
