"""The site's templates escape as markupsafe does and load once; story files are stamped once."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from jinja2 import DictLoader, Environment, Template
from markupsafe import Markup

from csrnews.site import templates
from csrnews.site.build import build_site
from tests.conftest import ROOT
from tests.golden_site import SAMPLES


class _Html:
    def __html__(self) -> str:
        return "<b>own</b>"


class _Text(str):
    """A str subclass: markupsafe's own path, not the plain string's."""


VALUES: list[Any] = [
    "",
    "plain",
    "a & b < c > d \"e\" 'f'",
    "中文 &amp; ünïcode",
    Markup("<i>safe</i>"),
    _Text("<sub>"),
    _Html(),
    3,
    4.5,
    None,
    ["<x>"],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_fast_escape_gives_what_markupsafe_gives(value: Any) -> None:
    ours, theirs = templates.fast_escape(value), markupsafe.escape(value)
    assert type(ours) is type(theirs) is Markup
    assert str(ours) == str(theirs)


TEMPLATES = {
    "base.html": (
        "<title>{% block title %}{{ name }}{% endblock %}</title>{% block body %}{% endblock %}"
    ),
    "_macros.html": "{% macro item(x) %}<li>{{ x }}{{ url }}</li>{% endmacro %}",
    "page.html": (
        '{% extends "base.html" %}{% from "_macros.html" import item with context %}'
        "{% block body %}{% for x in items %}{{ item(x) }}{% endfor %}{{ safe|safe }}"
        "{{ number }}{% endblock %}"
    ),
}


class _Generator:
    def __init__(self) -> None:
        self.env = Environment(loader=DictLoader(TEMPLATES), autoescape=True)


def test_speed_up_templates_render_the_same_bytes() -> None:
    plain, fast = _Generator(), _Generator()
    templates.speed_up(fast)
    assert fast.env.template_class is templates.FastEscapeTemplate
    assert fast.env.auto_reload is False and plain.env.auto_reload is True
    values = {
        "name": "A & B",
        "url": "/x?a=1&b=<2>",
        "items": ["<one>", Markup("<two>"), 3],
        "safe": "<p>kept</p>",
        "number": 7,
    }
    page = fast.env.get_template("page.html")
    assert page.root_render_func.__globals__["escape"] is templates.fast_escape
    assert page.render(values) == plain.env.get_template("page.html").render(values)
    assert "&lt;one&gt;" in page.render(values)
    templates.speed_up(fast)  # connected twice (or another class set): left as it is
    assert fast.env.template_class is templates.FastEscapeTemplate


def test_speed_up_leaves_another_template_class_alone() -> None:
    class Own(Template):
        pass

    generator = _Generator()
    generator.env.template_class = Own
    templates.speed_up(generator)
    assert generator.env.template_class is Own and generator.env.auto_reload is True


def test_a_build_stats_each_story_and_template_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pelican stamps a story four times (two caches, looked up and filled) and Jinja a
    template each time a page extends or imports it; a build does each once."""
    stamped: Counter[str] = Counter()
    getmtime = os.path.getmtime

    def counting(path: Any) -> float:
        stamped[os.path.abspath(os.fspath(path))] += 1
        return getmtime(path)

    monkeypatch.setattr(os.path, "getmtime", counting)
    stats = build_site(SAMPLES, tmp_path / "output", quiet=True, incremental=False)
    stories = {p: n for p, n in stamped.items() if p.endswith(".md")}
    assert len(stories) >= stats.articles > 0
    assert set(stories.values()) == {1}
    base = stamped[os.path.abspath(ROOT / "theme" / "templates" / "base.html")]
    assert 0 < base < stats.rendered / 2  # when a generator loads it, not for every page
