"""Pelican's private names, one contract each, against the installed Pelican (pelican_compat).

Each private name csrnews.site.pelican_compat lists has a check here that fails, naming it,
when a Pelican (or Markdown) release renames it or changes what it does; and no other module
of the site stage reaches into those names.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from markdown import Markdown
from pelican.contents import Article, Content
from pelican.generators import ArticlesGenerator, Generator
from pelican.readers import MarkdownReader
from pelican.settings import DEFAULT_CONFIG
from pelican.urlwrappers import Tag
from pelican.writers import Writer

from csrnews.site import pelican_compat
from csrnews.site.plugins.csr_reader import ReusingMarkdownReader
from tests.conftest import ROOT

STORY = "Title: A forum\nDate: 2024-05-01\nTags: labour, audits\n\nThe *forum* met.\n"


@pytest.fixture()
def settings() -> dict[str, object]:
    return dict(DEFAULT_CONFIG)


def _article(settings: dict[str, object]) -> Article:
    return Article("<p>text</p>", {"title": "A forum", "summary": "<p>s</p>"}, settings=settings)


def check_content(settings: dict[str, object], tmp_path: Path) -> None:
    article = _article(settings)
    assert pelican_compat.raw_html(article) == "<p>text</p>"
    pelican_compat.set_raw_html(article, "<p>clean</p>")
    assert article.content == "<p>clean</p>"


def check_summary(settings: dict[str, object], tmp_path: Path) -> None:
    article = _article(settings)
    pelican_compat.set_summary_html(article, "<p>short</p>")
    article.refresh_metadata_intersite_links()  # Pelican takes a plugin's _summary here
    assert article.metadata["summary"] == "<p>short</p>" == article.summary


def check_context(settings: dict[str, object], tmp_path: Path) -> None:
    article = _article(settings)
    pelican_compat.set_context(article, {"localsiteurl": "/here"})
    assert vars(article)[pelican_compat.CONTENT_CONTEXT_ATTR] == {"localsiteurl": "/here"}
    assert article.get_siteurl() == "/here"  # Pelican reads a story's site URL from it


def check_from_settings(settings: dict[str, object], tmp_path: Path) -> None:
    tag = Tag("Supply chain", settings)
    assert pelican_compat.url_setting(tag, "URL") == tag.url
    assert pelican_compat.url_setting(tag, "SAVE_AS") == tag.save_as
    assert pelican_compat.url_setting(tag, "URL", get_page_name=True) == tag.page_name


def check_slug_from_name(settings: dict[str, object], tmp_path: Path) -> None:
    tag = Tag("Supply chain", settings)
    assert pelican_compat.slug_from_name(tag) is True
    tag.slug = "own-slug"
    assert pelican_compat.slug_from_name(tag) is False


def check_reader(settings: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text(STORY, encoding="utf-8")
    ours = ReusingMarkdownReader(settings)
    theirs = MarkdownReader(settings)
    for _ in range(2):  # the shared Markdown instance is reset between documents
        assert ours.read(str(path)) == theirs.read(str(path))
    assert ours.markdown() is not None
    params = list(inspect.signature(MarkdownReader._parse_metadata).parameters)
    assert params == ["self", "meta"]


def check_registry_priority(settings: dict[str, object], tmp_path: Path) -> None:
    md = Markdown(extensions=["markdown.extensions.meta"])
    priority = pelican_compat.preprocessor_priority(md, "meta")
    md.preprocessors.deregister("meta")
    assert "meta" not in md.preprocessors and priority > 0


def check_period_archives(settings: dict[str, object], tmp_path: Path) -> None:
    generator = object.__new__(ArticlesGenerator)
    build = pelican_compat.period_archives_builder(generator)
    assert build is not None
    assert list(inspect.signature(build).parameters) == [
        "self",
        "sorted_articles",
        "articles",
        "settings",
    ]
    pelican_compat.replace_period_archives(generator, len)
    assert vars(generator)["_build_period_archives"] is len


def check_source_paths(settings: dict[str, object], tmp_path: Path) -> None:
    assert list(inspect.signature(Generator._include_path).parameters) == [
        "self",
        "path",
        "extensions",
    ]
    assert list(inspect.signature(Generator._add_failed_source_path).parameters) == [
        "self",
        "path",
        "static",
    ]
    generator = object.__new__(Generator)
    pelican_compat.set_source_path_hooks(generator, bool, print)
    assert pelican_compat.source_path_hooks(generator) == (bool, print)


def check_writer(settings: dict[str, object], tmp_path: Path) -> None:
    conf = {**settings, "OUTPUT_PATH": str(tmp_path)}
    writer = pelican_compat.WriterBase(str(tmp_path), settings=conf)
    assert isinstance(writer.written_files(), set) and isinstance(writer.overridden_files(), set)
    target = str(tmp_path / "page.html")
    with writer.open_output(target, "utf-8") as out:  # Pelican's _open_w
        out.write("<p>page</p>")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == "<p>page</p>"
    assert target in writer.written_files()
    assert list(inspect.signature(Writer._open_w).parameters) == [
        "self",
        "filename",
        "encoding",
        "override",
    ]


def check_translations(settings: dict[str, object], tmp_path: Path) -> None:
    import pelican.generators
    from pelican.utils import process_translations as pelicans

    def stories() -> list[Article]:
        made = []
        for number, (slug, lang, translation) in enumerate(
            [
                ("forum", "en", None),
                ("forum", "zh", None),
                ("audit", "zh", None),
                ("report", "en", "true"),
                ("report", "fr", None),
                ("award", "en", None),
                ("award", "de", "true"),
            ]
        ):
            meta = {"title": f"{slug} {lang}", "slug": slug, "lang": lang}
            if translation:
                meta["translation"] = translation
            made.append(Article(f"<p>{number}</p>", meta, settings=settings))
        return made

    def shape(result: tuple[list[Article], list[Article]]) -> object:
        index, translations = result
        return (
            [a.content for a in index],
            [a.content for a in translations],
            [sorted(t.content for t in a.translations) for a in index + translations],
        )

    assert shape(pelican_compat.process_translations(stories(), "slug")) == shape(
        pelicans(stories(), "slug")
    )
    assert shape(pelican_compat.process_translations(stories(), ["slug", "lang"])) == shape(
        pelicans(stories(), ["slug", "lang"])
    )
    plain = stories()
    assert pelican_compat.process_translations(plain, None) == (plain, [])
    # ArticlesGenerator and PagesGenerator call the name through pelican.generators
    for generator in (pelican.generators.ArticlesGenerator, pelican.generators.PagesGenerator):
        assert "process_translations(" in inspect.getsource(generator.generate_context)
    original = pelican.generators.process_translations
    with pelican_compat.linear_translations():
        assert pelican.generators.process_translations is pelican_compat.process_translations
    assert pelican.generators.process_translations is original is pelicans


def check_content_memo(settings: dict[str, object], tmp_path: Path) -> None:
    article = _article(settings)
    assert article.content == "<p>text</p>" and article.summary == "<p>s</p>"
    held = [
        key
        for name in ("get_content", "get_summary")
        for key in vars(Content)[name].cache
        if key[0] is article
    ]
    assert len(held) == 2  # Pelican keeps the story in its class-wide memo ...
    pelican_compat.forget_rendered_content()
    assert article.content == "<p>text</p>"  # ... and renders it again once emptied
    pelican_compat.forget_rendered_content()
    assert not [key for key in vars(Content)["get_content"].cache if key[0] is article]


def check_file_stamps(settings: dict[str, object], tmp_path: Path) -> None:
    from pelican.cache import FileStampDataCacher

    for method in (FileStampDataCacher.get_cached_data, FileStampDataCacher.cache_data):
        assert "self._get_file_stamp(filename)" in inspect.getsource(method)
    (tmp_path / "content").mkdir()
    story = tmp_path / "content" / "a.md"
    story.write_text(STORY, encoding="utf-8")
    conf = {
        **settings,
        "CACHE_PATH": str(tmp_path / "cache"),
        "CACHE_CONTENT": True,
        "CONTENT_CACHING_LAYER": "generator",
    }
    generator = ArticlesGenerator(
        context={},
        settings=conf,
        path=str(tmp_path / "content"),
        theme=str(conf["THEME"]),
        output_path=str(tmp_path / "out"),
    )
    assert generator._get_file_stamp("a.md") == story.stat().st_mtime  # joined to its path
    pelican_compat.share_file_stamps(generator)
    asked: list[str] = []

    def stamp(path: str) -> float:
        asked.append(path)
        return os.path.getmtime(path)

    generator._filestamp_func = generator.readers._filestamp_func = stamp
    assert generator.get_cached_data("a.md", "none") == "none"
    assert generator.readers.get_cached_data(str(story), "none") == "none"
    generator.cache_data("a.md", "read")
    generator.readers.cache_data(str(story), "read")
    assert asked == [str(story)]  # one stamp for the generator's and the readers' lookups
    assert generator.get_cached_data("a.md") == "read"


def check_disabled_readers(settings: dict[str, object], tmp_path: Path) -> None:
    import pelican.generators

    for generator in (
        pelican.generators.ArticlesGenerator,
        pelican.generators.PagesGenerator,
        pelican.generators.StaticGenerator,
    ):
        assert "self._check_disabled_readers(" in inspect.getsource(
            generator.check_disabled_readers
        )
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(STORY, encoding="utf-8")
    (content / "b.rst").write_text("B\n=\n\ntext\n", encoding="utf-8")

    def checked(disabled: bool) -> list[str]:
        generator = ArticlesGenerator(
            context={},
            settings={**settings, "ARTICLE_PATHS": [""]},
            path=str(content),
            theme=str(settings["THEME"]),
            output_path=str(tmp_path / "out"),
        )
        if disabled:  # what Pelican does when docutils cannot be imported
            generator.readers.disabled_readers["rst"] = generator.readers.readers.pop("rst")
        seen: list[str] = []
        generator.readers.check_file = seen.append  # type: ignore[method-assign]
        with pelican_compat.quick_dates_and_paths():
            generator.check_disabled_readers()
        return seen

    assert [os.path.normpath(p) for p in checked(disabled=True)] == [
        "b.rst"
    ]  # Pelican's check, when a reader is disabled
    walked: list[str] = []
    original = Generator.get_files

    def get_files(self: Generator, *args: object, **kwargs: object) -> set[str]:
        walked.append("walk")
        return original(self, *args, **kwargs)

    Generator.get_files = get_files  # type: ignore[method-assign]
    try:
        assert checked(disabled=False) == [] and walked == []  # no walk when none is
    finally:
        Generator.get_files = original  # type: ignore[method-assign]
    assert "_check_disabled_readers" in vars(Generator)  # put back when the block ends
    assert vars(Generator)["_check_disabled_readers"].__module__ == "pelican.generators"


CHECKS: dict[str, Callable[[dict[str, object], Path], None]] = {
    "Content._content": check_content,
    "Content._summary": check_summary,
    "Content._context": check_context,
    "Content.get_content.cache": check_content_memo,
    "URLWrapper._from_settings": check_from_settings,
    "URLWrapper._slug_from_name": check_slug_from_name,
    "MarkdownReader._parse_metadata": check_reader,
    "MarkdownReader._source_path": check_reader,
    "MarkdownReader._md": check_reader,
    "ArticlesGenerator._build_period_archives": check_period_archives,
    "Generator._include_path": check_source_paths,
    "Generator._add_failed_source_path": check_source_paths,
    "FileStampDataCacher._get_file_stamp": check_file_stamps,
    "Writer._open_w": check_writer,
    "Writer._written_files": check_writer,
    "Writer._overridden_files": check_writer,
    "markdown.util.Registry._priority": check_registry_priority,
    "pelican.generators.process_translations": check_translations,
    "Generator._check_disabled_readers": check_disabled_readers,
}


def test_every_private_name_has_a_contract() -> None:
    assert set(CHECKS) == set(pelican_compat.PRIVATE_NAMES)


@pytest.mark.parametrize("name", sorted(pelican_compat.PRIVATE_NAMES))
def test_private_name_contract(name: str, settings: dict[str, object], tmp_path: Path) -> None:
    CHECKS[name](settings, tmp_path)


def test_only_the_door_uses_pelicans_private_names() -> None:
    names = {key.rsplit(".", 1)[1] for key in pelican_compat.PRIVATE_NAMES}
    names.discard("_content")  # csrnews.site.incremental has a method of that name
    names.discard("cache")  # functools.cache is another one
    found = []
    folders = [ROOT / "csrnews" / "site", ROOT / "csrnews" / "desk"]
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        if path.name == "pelican_compat.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.Constant) and node.value in names | {"_content"}:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, found
