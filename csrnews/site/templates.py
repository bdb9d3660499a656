"""The site build's Jinja templates: the same output, escaped and looked up for less CPU.

A site build renders some 30,000 pages at 20,000 stories, each printing a few hundred values
through the autoescape of ``{{ ... }}``. Two costs of Jinja's defaults are dropped:

- ``markupsafe.escape`` makes its ``Markup`` through ``Markup.__new__``, a Python method that
  asks every string for ``__html__``; a template's ``escape`` here makes the same ``Markup``
  from a plain string directly (anything else goes to markupsafe's own escape), and keeps
  the escaped form of short strings, which pages print again and again (the site URL, the
  menu, names of types and languages): at most ``ESCAPED_MAX`` of them, for one build;
- with ``auto_reload`` Jinja stats a template's file each time a page extends or imports it
  (``base.html``, ``_macros.html``): a build loads each template once and never sees it change.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from types import CodeType
from typing import Any

import markupsafe
from jinja2 import Environment, Template
from markupsafe import Markup

_escape_inner: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)

ESCAPED_MAX = 8192  # short strings whose escaped form a build keeps
ESCAPED_LENGTH = 64  # the longest string kept
_ESCAPED: dict[str, Markup] = {}


def _make_escape() -> Callable[[Any], Markup]:
    inner = _escape_inner
    escape = markupsafe.escape
    new = str.__new__
    kept = _ESCAPED
    known = kept.get

    def fast_escape(value: Any, /) -> Markup:
        if type(value) is not str:
            return escape(value)
        done = known(value)
        if done is None:
            # what markupsafe.escape does for a str, without Markup.__new__
            done = new(Markup, inner(value)) if inner is not None else escape(value)
            if len(value) <= ESCAPED_LENGTH and len(kept) < ESCAPED_MAX:
                kept[value] = done
        return done

    return fast_escape


fast_escape = _make_escape()
fast_escape.__doc__ = "markupsafe.escape's result; a plain string's made without Markup.__new__."


def forget() -> None:
    """Drop the escaped strings a build kept."""
    _ESCAPED.clear()


class FastEscapeTemplate(Template):
    """A Jinja template whose autoescape calls ``fast_escape``."""

    @classmethod
    def from_code(
        cls,
        environment: Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__  # the compiled module's names
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = fast_escape
        return template


def speed_up(generator: Any) -> None:
    """generator_init: this generator's templates escape with ``fast_escape``, load once."""
    env = getattr(generator, "env", None)
    if isinstance(env, Environment) and env.template_class is Template:
        env.template_class = FastEscapeTemplate
        env.auto_reload = False
