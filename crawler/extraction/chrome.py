"""Site chrome (navigation, sharing, related links, footers): found by tag and class words, and
removed only around and inside the content chosen first, never with it."""

from __future__ import annotations

import re

from csrnews.crawler.extraction.content import MOST_OF_PAGE, Content, find_content
from lxml import etree, html

# Elements that are site chrome by their tag: removed after the content is chosen, never when
# they hold it (ASP.NET wraps a whole page in one <form>; some themes put the story in <aside>).
CHROME_TAGS = frozenset({"form", "nav", "aside", "dialog", "menu", "footer"})
# class/id words of site chrome: navigation, cookie banners, share buttons, sidebars, footers.
CHROME_RE = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|breadcrumbs?|sidebar|side-bar|cookies?|consent|"
    r"gdpr|share|sharing|social|newsletter|subscribe|related|recommend(?:ed|ations)?|advert|ads|"
    r"sponsor(?:ed)?|promo|footer|site-header|masthead|comments?|popup|modal|toolbar|pagination|"
    r"pager|widget|skip-link|copyright|disclaimer|login|signup|search-box|searchbar|hot-?news|"
    r"most-read|trending|reprint(?:-line|-notice|-note)?|syndication)(?:$|[-_\s])",
    re.IGNORECASE,
)
KEEP_TAGS = frozenset({"html", "body", "main", "article"})


# State classes and CMS taxonomy classes ("tag-social", "category-sharing") say nothing of a role.
_STATE_RE = re.compile(r"(?i)^(?:is|has|with|no|show|hide|tag|category|format|status|type)-")


def chrome_words(el: html.HtmlElement) -> str:
    """The class, id and role words that can say an element is chrome.

    A BEM modifier ("section--ads", "page--nav-open") or a state class ("has-sidebar",
    "is-modal-open") describes a variant or a state of the element, not what it is.
    """
    words = []
    for token in f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}".split():
        token = token.split("--", 1)[0]
        if token and not _STATE_RE.match(token):
            words.append(token)
    return " ".join(words)


def is_chrome(el: html.HtmlElement, in_story: bool) -> bool:
    """Whether an element looks like site chrome by its tag, class/id/role words or visibility."""
    tag = el.tag
    if tag in CHROME_TAGS or (tag == "header" and not in_story):
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    raw = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
    if CHROME_RE.search(raw) is None:  # the words below are a subset: no match there either
        return False
    words = chrome_words(el)
    return bool(words) and CHROME_RE.search(words) is not None


def remove_chrome(tree: html.HtmlElement, found: Content | None = None) -> html.HtmlElement:
    """Remove site chrome around and inside the story, after the story's node is chosen; in place.

    A chrome-looking element is kept when it holds the story's node or most of the page's text,
    alone or with its like siblings: a class word such as "nav-open" or "modal" on an ancestor
    of the article, an ASP.NET `<form>` around the whole page, or a live ticker whose entries
    are each called "comment" must not take the story with them.
    """
    if found is None:
        found = find_content(tree)
    marked = [
        el
        for el in tree.iter(etree.Element)
        if el.tag not in KEEP_TAGS
        and el not in found.protected
        and el.getparent() is not None
        and is_chrome(el, el.tag == "header" and found.in_story(el))
    ]
    seen = set(marked)
    doomed = [el for el in marked if not any(a in seen for a in el.iterancestors())]
    groups: dict[tuple[object, str], list[html.HtmlElement]] = {}
    for el in doomed:
        groups.setdefault((el.getparent(), el.get("class", el.tag)), []).append(el)
    for members in groups.values():
        if sum(found.lengths.get(el, 0) for el in members) >= MOST_OF_PAGE * found.page:
            continue  # like siblings that together hold most of the page are its content
        for el in members:
            el.drop_tree()
    return tree


def plain_story(found: Content) -> bool:
    """Make the story's node and its ancestors plain elements (no chrome tag, class or id), so
    that the extractor's own boilerplate rules cannot drop them; in place. Whether any changed.

    Only a fallback: where the choice of the story's node is wrong (a long privacy notice in a
    pop-up, say), the extractor's own judgement of those words is the better one.
    """
    changed = False
    for el in found.story:
        if el.tag in CHROME_TAGS:
            el.tag = "div"  # a <form>, <aside>, ... around the story is a layout wrapper
            el.attrib.clear()
            changed = True
        elif el.tag not in KEEP_TAGS and is_chrome(el, True):
            for attr in ("class", "id", "role", "hidden", "aria-hidden"):
                el.attrib.pop(attr, None)
            changed = True
    return changed
