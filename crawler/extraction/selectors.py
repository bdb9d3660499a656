"""Per-source CSS or XPath selectors for title, date and body, where automatic extraction fails."""

from __future__ import annotations

from parsel import Selector
from parsel.csstranslator import HTMLTranslator

_XPATH_PREFIXES = ("/", "(", "./", "xpath:")


def _is_xpath(expr: str) -> bool:
    return expr.startswith(_XPATH_PREFIXES)


def _strip(expr: str) -> str:
    return expr[len("xpath:") :] if expr.startswith("xpath:") else expr


def check_selector(expr: str) -> str | None:
    """Return why a selector is invalid, or None when it compiles."""
    expr = expr.strip()
    try:
        if _is_xpath(expr):
            Selector(text="<html></html>").xpath(_strip(expr))
        else:
            HTMLTranslator().css_to_xpath(expr)
    except Exception as exc:  # parsel raises several types for bad expressions
        kind = "XPath" if _is_xpath(expr) else "CSS selector"
        return f"bad {kind}: {exc}"
    return None


def select(html: str, expr: str) -> list[Selector]:
    """Select nodes with a CSS selector or an XPath expression (starting with / or xpath:)."""
    sel = Selector(text=html)
    expr = expr.strip()
    return list(sel.xpath(_strip(expr)) if _is_xpath(expr) else sel.css(expr))


def select_text(html: str, expr: str) -> str:
    """The text of the first node a selector finds (attributes give their value)."""
    for node in select(html, expr):
        root = node.root
        if isinstance(root, str):
            return " ".join(root.split())
        value = node.xpath("normalize-space(string(.))").get() or ""
        if value:
            return value
    return ""


def select_html(html: str, expr: str) -> str:
    """The HTML of every node a selector finds, joined."""
    return "\n".join(node.get() for node in select(html, expr))
