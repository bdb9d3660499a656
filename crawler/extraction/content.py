"""Choose a page's content before any chrome is removed: text lengths and the story's node."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree, html

# Elements that hold a run of story text (readability's paragraph-like blocks).
TEXT_BLOCKS = frozenset({"p", "pre", "blockquote", "td", "li", "dd", "div", "section", "font"})
# Elements that make their container a layout block rather than a text block.
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "table",
        "ul",
        "ol",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "blockquote",
        "form",
        "header",
        "footer",
        "aside",
        "nav",
    }
)
MIN_BLOCK_CHARS = 25  # a text block shorter than this (without links) says nothing about content
MOST_OF_PAGE = 0.5  # an element holding this share of the page's text is never chrome


def _length(text: str | None) -> int:
    return len(text.strip()) if text else 0


@dataclass
class Content:
    """The story's node (or None), the elements that must survive chrome removal, text lengths."""

    node: html.HtmlElement | None
    protected: set[html.HtmlElement] = field(default_factory=set)
    lengths: dict[html.HtmlElement, int] = field(default_factory=dict)
    page: int = 0  # characters of non-link text in the page's body
    story: list[html.HtmlElement] = field(default_factory=list)  # the node and its ancestors

    def in_story(self, el: html.HtmlElement) -> bool:
        """Whether an element sits inside <article>, <main> or the story's node."""
        for anc in el.iterancestors():
            if anc is self.node or anc.tag in ("article", "main"):
                return True
        return False


def text_lengths(
    tree: html.HtmlElement,
) -> tuple[dict[html.HtmlElement, int], dict[html.HtmlElement, bool]]:
    """Characters of text outside links under each element, and which elements hold blocks."""
    lengths: dict[html.HtmlElement, int] = {}
    has_block: dict[html.HtmlElement, bool] = {}
    for el in reversed(list(tree.iter(etree.Element))):  # children before their parents
        total = 0 if el.tag == "a" else _length(el.text)
        block = False
        for child in el:
            if not isinstance(child.tag, str):
                continue
            total += _length(child.tail)
            if el.tag != "a":
                total += lengths.get(child, 0)
            block = block or child.tag in BLOCK_TAGS or has_block.get(child, False)
        lengths[el] = total
        has_block[el] = block
    return lengths, has_block


def find_content(tree: html.HtmlElement) -> Content:
    """The node holding the story, found by where the runs of non-link text are (readability's
    idea: every text block scores its parent fully and its grandparent by half)."""
    lengths, has_block = text_lengths(tree)
    scores: dict[html.HtmlElement, float] = {}
    for el, length in lengths.items():
        if length < MIN_BLOCK_CHARS or el.tag not in TEXT_BLOCKS or has_block[el]:
            continue
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + length
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + length / 2
    node = max(scores, key=scores.__getitem__) if scores else None
    protected: set[html.HtmlElement] = set()
    story: list[html.HtmlElement] = []
    if node is not None:
        story = [node, *node.iterancestors()]
        protected.update(story)
    body = tree.find(".//body")
    page = lengths.get(body if body is not None else tree, 0)
    if page:
        protected.update(el for el, n in lengths.items() if n >= MOST_OF_PAGE * page)
    return Content(node, protected, lengths, page, story)


_LEAD_BLOCKS = frozenset(
    {"p", "div", "section", "header", "h2", "h3", "h4", "li", "td", "dd", "blockquote", "span"}
)
LEAD_KEY = 24  # characters of the description that find the lead's text node


def _norm(text: str) -> str:
    return " ".join(text.split())


def _position(el: html.HtmlElement) -> float:
    """An element's place in document order (its count of preceding elements and ancestors)."""
    return float(el.xpath("count(preceding::*) + count(ancestor::*)"))


def _text_block(node: etree._ElementUnicodeResult) -> html.HtmlElement | None:
    """The block element that holds a text node."""
    block = node.getparent()
    if block is not None and node.is_tail:
        block = block.getparent()
    while block is not None and block.tag not in _LEAD_BLOCKS:
        block = block.getparent()
    if block is not None and block.tag == "span" and block.getparent() is not None:
        block = block.getparent()
    return block


def find_lead(tree: html.HtmlElement, description: str, story_start: str = "") -> str | None:
    """The page's lead paragraph, found as the visible block that starts like the page's own
    description (<meta name="description">, og:description); None when there is none.

    News and magazine pages put the lead ("standfirst", "intro", "deck") above the body, where
    content detection often leaves it out, and repeat it as the page's description. A lead comes
    before the story: a block after the story's first words (`story_start`), such as a site's
    description repeated in its footer, is none.
    """
    desc = _norm(description).rstrip(".…").strip()
    if len(desc) < 2 * LEAD_KEY:
        return None
    key = desc[:LEAD_KEY]
    check = _norm(desc[: 2 * LEAD_KEY])
    for node in tree.xpath("//body//text()[contains(., $key)]", key=key):
        block = _text_block(node)
        if block is None:
            continue
        text = _norm(block.text_content())
        links = sum(len(_norm(a.text_content())) for a in block.iter("a"))
        if check not in text or links >= 0.3 * len(text) or len(text) > 3 * len(desc) + 200:
            continue
        found = tree.xpath("//body//text()[contains(., $s)]", s=story_start) if story_start else []
        story = _text_block(found[-1]) if found else None  # the last: teasers repeat it above
        if story is None or story is block or _position(block) < _position(story):
            return text
    return None
