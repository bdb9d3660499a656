"""Sanitise hostile HTML and the Markdown made from it: no scripts, handlers or unsafe links."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree, html

# Elements that hold nothing a reader of the story sees, or that could run code: always removed.
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
    "template",
    "svg",
    "canvas",
    "link",
    "meta",
    "base",
)
SAFE_SCHEMES = ("http", "https", "mailto", "")

_TAG_RE = re.compile(r"\\?</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK_RE = re.compile(
    r"(!?)\[([^\]]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_BLOCK_RE = re.compile(
    r"\\?<(script|style|iframe|object|embed|template|noscript)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_BLANKS_RE = re.compile(r"\n{3,}")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def _safe_url(url: str, base: str | None) -> str | None:
    """An absolute http(s)/mailto URL, or None for javascript:, data:, vbscript: and the like."""
    url = "".join(url.split())
    try:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in SAFE_SCHEMES:
            return None
        if base and scheme == "":
            url = urljoin(base, url)
            if urlsplit(url).scheme.lower() not in SAFE_SCHEMES:
                return None
    except ValueError:  # a malformed URL (an unclosed or bogus [IPv6] host) is no link
        return None
    return url


_CHAR_REF_RE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")


def _xml_safe_reference(match: re.Match[str]) -> str:
    """A numeric character reference, or nothing when it names a character XML cannot hold."""
    hexa, decimal = match.groups()
    code = int(hexa, 16) if hexa else int(decimal)
    if code > 0x10FFFF or (code < 0x20 and code not in (9, 10, 13)):
        return ""
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return ""
    return match.group(0)


def parse_html(text: str) -> html.HtmlElement:
    """Parse page text into a tree (an empty document for empty or broken input)."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    # Control characters are not allowed in XML: lxml refuses them when the extractor copies
    # text between elements, and the whole page would be lost for one stray byte.
    text = _CONTROL_RE.sub("", text)
    text = _CHAR_REF_RE.sub(_xml_safe_reference, text)
    try:
        return html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError):
        return html.document_fromstring("<html><body></body></html>")


# Handlers and styles, and URL attributes with a colon that do not start with http(s)://: the
# only attributes that can run code (most URLs are plain http(s) or relative; XPath skips them).
_RISKY_ATTRS = etree.XPath(
    "//@*[starts-with(name(), 'on') or name() = 'style' or name() = 'srcdoc'"
    " or ((name() = 'href' or name() = 'src' or name() = 'action' or name() = 'formaction'"
    " or name() = 'data') and contains(., ':')"
    " and not(starts-with(., 'https://') or starts-with(., 'http://')))]"
)
_SCHEME_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_NOISE_RE = re.compile(r"[\x00-\x20]+")  # browsers ignore these inside a URL's scheme


def sanitize_attributes(tree: html.HtmlElement) -> html.HtmlElement:
    """Remove event handlers, inline styles and URLs with an unsafe scheme (javascript:, data:,
    vbscript:, ...) from every element; in place. No element is removed. (Links in the Markdown
    made from the tree are checked and made absolute again by `sanitize_markdown`.)"""
    for value in _RISKY_ATTRS(tree):
        name, el = value.attrname, value.getparent()
        if name.startswith("on") or name in ("style", "srcdoc"):
            del el.attrib[name]
            continue
        scheme = _SCHEME_RE.match(_URL_NOISE_RE.sub("", value))
        if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
            del el.attrib[name]
            if el.tag == "a":
                el.drop_tag()  # a link to an unsafe target is its text, as a reader sees it
    return tree


def security_clean(tree: html.HtmlElement, *, attributes: bool = True) -> html.HtmlElement:
    """Remove what could run or load code: scripts, frames, handlers, unsafe links; in place
    (`attributes=False` when the tree's attributes were sanitised already).

    Nothing a reader sees as text is removed here, so content detection still sees the page.
    """
    etree.strip_elements(
        tree, *DROP_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False
    )
    if attributes:
        sanitize_attributes(tree)
    return tree


def clean_tree(tree: html.HtmlElement) -> html.HtmlElement:
    """Security cleaning, layout tables as divs, then chrome removal around the chosen content."""
    from csrnews.crawler.extraction.chrome import (
        remove_chrome,  # chrome needs content, which is apart
    )

    security_clean(tree)
    unwrap_layout_tables(tree)
    return remove_chrome(tree)


_LAYOUT_TABLE_TAGS = {
    "table": "div",
    "tbody": "div",
    "thead": "div",
    "tfoot": "div",
    "tr": "div",
    "td": "div",
    "th": "div",
}


def unwrap_layout_tables(tree: html.HtmlElement) -> html.HtmlElement:
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
    return tree


# Markdown's backslash escapes (trafilatura writes literal brackets, stars, "1." as \[ \* 1\.).
_ESCAPABLE = "\\`*_{}[]()#+-.!|<>~"
_ESC_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_HIDDEN_RE = re.compile(r"\x00(\d\d)")
# "[label]" with no "(url)" after it: trafilatura writes a link without a target so; a literal
# bracket in the text is escaped ("\[1\]") and hidden when this runs.
_BARE_LINK_RE = re.compile(r"(?<!!)\[([^\[\]]{1,300})\](?![(\[:])")
_UNSAFE_TEXT_RE = re.compile(r"(?i)\b(?:(?:java|vb)script:\S*|data:[\w.+-]*[/,;]\S*)")


def _hide_escapes(text: str) -> str:
    """Replace each backslash escape by a placeholder, so that no rule below reads it as syntax."""
    return _ESC_RE.sub(lambda m: f"\x00{_ESCAPABLE.index(m.group(1)):02d}", text)


def _show_escapes(text: str, *, keep_backslash: bool) -> str:
    def back(m: re.Match[str]) -> str:
        char = _ESCAPABLE[int(m.group(1))]
        return f"\\{char}" if keep_backslash else char

    return _HIDDEN_RE.sub(back, text)


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that shows it as it is (no emphasis, links or HTML)."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def sanitize_markdown(markdown: str, base_url: str | None = None) -> str:
    """Drop raw HTML and unsafe links from Markdown; make relative links absolute.

    Escaped characters (\\[1\\], a\\*b) are literal text and stay as they are.
    """

    def link(match: re.Match[str]) -> str:
        bang, label, url = match.groups()
        if bang:
            return label
        safe = _safe_url(url, base_url) if url else None
        if not safe:
            return label
        return f"[{label}]({safe})"

    text = markdown.replace("\x00", "")
    text = _COMMENT_RE.sub("", text)
    text = _BLOCK_RE.sub("", text)
    text = _TAG_RE.sub("", text)
    text = _hide_escapes(text)
    text = _LINK_RE.sub(link, text)
    text = _BARE_LINK_RE.sub(r"\1", text)  # a link without a (safe) target is its text
    text = _UNSAFE_TEXT_RE.sub("", text)
    text = _show_escapes(text, keep_backslash=True)
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANKS_RE.sub("\n\n", "\n".join(lines)).strip()


_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def markdown_to_text(markdown: str) -> str:
    """Plain text of extracted Markdown: no link targets, heading marks, bullets, emphasis or
    table rules; escaped characters as themselves; ordered lists keep their numbers."""
    out: list[str] = []
    for line in _hide_escapes(markdown.replace("\x00", "")).split("\n"):
        line = _MD_LINK_RE.sub(r"\1", line)
        stripped = line.strip()
        if re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", stripped):
            continue
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"^\s*[-*+]\s+", "", line)
        line = re.sub(r"^\s*>\s?", "", line)
        if stripped.startswith("|"):
            line = " ".join(cell.strip() for cell in stripped.strip("|").split("|"))
        line = re.sub(r"(\*\*|__|\*|`)", "", line)
        out.append(_show_escapes(line.strip(), keep_backslash=False))
    return _BLANKS_RE.sub("\n\n", "\n".join(out)).strip()
