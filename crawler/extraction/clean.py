"""Sanitise hostile HTML before extraction and Markdown after it: no scripts, handlers, chrome."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree, html

# Elements whose content never belongs in a story body.
DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "form",
    "template",
    "svg",
    "canvas",
    "button",
    "input",
    "select",
    "textarea",
    "dialog",
    "nav",
    "aside",
    "link",
    "meta",
    "base",
)
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
SAFE_SCHEMES = ("http", "https", "mailto", "")

_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK_RE = re.compile(
    r"(!?)\[([^\]]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_BLOCK_RE = re.compile(
    r"<(script|style|iframe|object|embed|template|noscript)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_BLANKS_RE = re.compile(r"\n{3,}")


def _safe_url(url: str, base: str | None) -> str | None:
    """An absolute http(s)/mailto URL, or None for javascript:, data:, vbscript: and the like."""
    url = "".join(url.split())
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SAFE_SCHEMES:
        return None
    if base and scheme == "":
        url = urljoin(base, url)
        if urlsplit(url).scheme.lower() not in SAFE_SCHEMES:
            return None
    return url


def parse_html(text: str) -> html.HtmlElement:
    """Parse page text into a tree (an empty document for empty or broken input)."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        return html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError):
        return html.document_fromstring("<html><body></body></html>")


def clean_tree(tree: html.HtmlElement, base_url: str | None = None) -> html.HtmlElement:
    """Remove scripts, frames, handlers, unsafe links and site chrome from a tree, in place."""
    etree.strip_elements(
        tree, *DROP_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False
    )
    for el in list(tree.iter()):
        if not isinstance(el.tag, str):
            continue
        for attr in list(el.attrib):
            if attr.lower().startswith("on") or attr.lower() in ("style", "srcdoc"):
                del el.attrib[attr]
        for attr in ("href", "src", "action", "formaction", "data"):
            if attr in el.attrib:
                safe = _safe_url(el.attrib[attr], base_url)
                if safe is None:
                    del el.attrib[attr]
                else:
                    el.attrib[attr] = safe
    for anchor in tree.xpath("//a[not(@href)]"):
        anchor.drop_tag()  # a link without a (safe) target is just its text
    unwrap_layout_tables(tree)
    for el in list(tree.iter()):
        if not isinstance(el.tag, str) or el.tag in KEEP_TAGS or el.getparent() is None:
            continue
        words = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
        hidden = el.get("hidden") is not None or el.get("aria-hidden") == "true"
        in_story = bool(el.xpath("ancestor::article|ancestor::main"))
        if el.tag == "footer" or (el.tag == "header" and not in_story):
            hidden = True
        if (hidden or (words.strip() and CHROME_RE.search(words))) and not el.xpath(
            ".//article|.//main"
        ):
            el.drop_tree()
    return tree


_LAYOUT_TABLE_TAGS = {
    "table": "div",
    "tbody": "div",
    "thead": "div",
    "tfoot": "div",
    "tr": "div",
    "td": "div",
    "th": "div",
}


def unwrap_layout_tables(tree: html.HtmlElement) -> None:
    """Tables used for page layout (cells holding paragraphs or tables) become plain divs."""
    for table in tree.xpath(
        "//table[.//p or .//div or .//h1 or .//h2 or .//h3 or .//ul or "
        ".//table or .//font[@size>=4]]"
    ):
        for el in [table, *table.iter()]:
            if (
                isinstance(el.tag, str)
                and el.tag in _LAYOUT_TABLE_TAGS
                and not el.xpath(
                    "ancestor-or-self::table[not(.//p or .//div or .//table or .//ul)]"
                    "[ancestor::table]"
                )
            ):
                el.tag = _LAYOUT_TABLE_TAGS[el.tag]


def sanitize_markdown(markdown: str, base_url: str | None = None) -> str:
    """Drop raw HTML and unsafe links from Markdown; make relative links absolute."""

    def link(match: re.Match[str]) -> str:
        bang, label, url = match.groups()
        if bang:
            return label
        safe = _safe_url(url, base_url) if url else None
        if not safe:
            return label
        return f"[{label}]({safe})"

    text = _COMMENT_RE.sub("", markdown)
    text = _BLOCK_RE.sub("", text)
    text = _TAG_RE.sub("", text)
    text = _LINK_RE.sub(link, text)
    text = re.sub(r"(?<!!)\[([^\]\n]+)\](?![(\[:])", r"\1", text)  # a link without a target
    text = re.sub(r"(?i)\b(?:javascript|vbscript|data):\S*", "", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANKS_RE.sub("\n\n", "\n".join(lines)).strip()


_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def markdown_to_text(markdown: str) -> str:
    """Plain text of extracted Markdown: no link targets, heading marks, emphasis or table rules."""
    out: list[str] = []
    for line in markdown.split("\n"):
        line = _MD_LINK_RE.sub(r"\1", line)
        stripped = line.strip()
        if re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", stripped):
            continue
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
        line = re.sub(r"^\s*>\s?", "", line)
        if stripped.startswith("|"):
            line = " ".join(cell.strip() for cell in stripped.strip("|").split("|"))
        line = re.sub(r"(\*\*|__|\*|`)", "", line)
        out.append(line.strip())
    return _BLANKS_RE.sub("\n\n", "\n".join(out)).strip()
