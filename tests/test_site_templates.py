"""The site build's shortcuts give Jinja's, markupsafe's and Pelican's results: escaping,
templates loaded once, story files stamped once, dates formatted and paths made as Pelican does."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from jinja2 import DictLoader, Environment, Template
from markupsafe import Markup
from pelican import utils as pelican_utils
from pelican.contents import Article, Content
from pelican.settings import DEFAULT_CONFIG
from pelican.utils import SafeDatetime

from csrnews.site import pelican_compat, templates
from csrnews.site.build import build_site
from tests.conftest import ROOT
from tests.golden_site import SAMPLES


class _Html:
    def __html__(self) -> str:
        return "<b>own</b>"

    def __repr__(self) -> str:  # the test's id: the same in every process (pytest-xdist)
        return "_Html()"


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


def test_short_strings_are_kept_escaped_up_to_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    templates.forget()
    monkeypatch.setattr(templates, "ESCAPED_MAX", 3)
    first = templates.fast_escape("a & b")
    assert templates.fast_escape("a & b") is first == markupsafe.escape("a & b")
    long = "<" * (templates.ESCAPED_LENGTH + 1)
    assert templates.fast_escape(long) == markupsafe.escape(long)
    for n in range(10):
        assert templates.fast_escape(f"<{n}>") == f"&lt;{n}&gt;"
    assert len(templates._ESCAPED) == 3 and long not in templates._ESCAPED
    templates.forget()
    assert not templates._ESCAPED


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


FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/",
    "%-d %B %Y, %-H:%M",
    "%a %d %b %Y %H:%M:%S %z",
    "100%% of %Y %q %-q",
    "%Y年%-m月%-d日",
    "no directive",
    "",
    "%",
    "%-",
    "%%-d%-%",
]
DATES = [
    SafeDatetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    SafeDatetime(2019, 10, 20),
    dt.datetime(2020, 12, 31, 23, 0, 9),
    dt.date(2021, 7, 1),
]


def _outcome(strftime: Any, date: Any, date_format: str) -> Any:
    try:
        return strftime(date, date_format)
    except Exception as exc:  # a broken format fails the same way
        return type(exc)


@pytest.mark.parametrize("date_format", FORMATS)
def test_strftime_gives_what_pelicans_gives(date_format: str) -> None:
    for date in DATES:
        ours = _outcome(pelican_compat.strftime, date, date_format)
        assert ours == _outcome(pelican_utils.strftime, date, date_format)
        assert ours == _outcome(pelican_compat.strftime, date, date_format)  # format kept


def test_relative_source_paths_are_pelicans(tmp_path: Path) -> None:
    settings = {**DEFAULT_CONFIG, "PATH": str(tmp_path / "content")}
    story = Article("<p>x</p>", {"title": "t"}, settings=settings, source_path="")
    for source in [
        str(tmp_path / "content" / "news" / "2024" / "a.md"),
        str(tmp_path / "content" / "news" / ".." / "b.md"),
        str(tmp_path / "elsewhere" / "c.md"),
        "news/relative.md",
    ]:
        expected = Content.get_relative_source_path(story, source)
        with pelican_compat.quick_dates_and_paths():
            assert Content.get_relative_source_path is not expected
            assert story.get_relative_source_path(source) == expected
            assert story.get_relative_source_path(source) == expected
            story.source_path = source
            assert story.get_relative_source_path() == expected
            assert pelican_utils.strftime is pelican_compat.strftime
        story.source_path = ""
    assert pelican_utils.strftime is not pelican_compat.strftime  # Pelican's again after
    story.source_path = None
    with pelican_compat.quick_dates_and_paths():
        assert story.get_relative_source_path() is None


def test_theme_templates_import_only_macros_they_call() -> None:
    """An import ``with context`` runs the macro file again for every page rendered (story
    pages imported a list macro they never call: a module made for each of 20,000 pages)."""
    from jinja2 import nodes

    folder = ROOT / "theme" / "templates"
    env = Environment(loader=DictLoader({}), autoescape=True)
    unused = []
    for path in sorted(folder.glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        used = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
        for node in tree.find_all(nodes.FromImport):
            for name in node.names:
                local = name[1] if isinstance(name, tuple) else name
                if local not in used:
                    unused.append(f"{path.name}: {local}")
    assert unused == []
