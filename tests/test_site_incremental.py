"""Incremental builds: the same site as a full build, less work, the previous site never touched."""

from __future__ import annotations

import hashlib
import pickle
import re
import shutil
from pathlib import Path

import pytest

from csrnews.site import incremental
from csrnews.site.build import build_site
from csrnews.site.incremental import MANIFEST
from csrnews.story import codekey
from tests.conftest import run_cli

SAMPLES = Path(__file__).resolve().parent / "samples" / "content"
NEWS = "news"

NEW_STORY = """Title: Water stewardship forum in Kunming
Date: 2025-12-20T09:00:00+08:00
Slug: water-stewardship-forum-in-kunming
Lang: en
Summary: Brewers and growers met on water stewardship.
Category: Summit & forum
Tags: water
Organisations: amfori
Standards: ISO 26000
Locations: Kunming
Source: CSR Daily
Source_url: https://news.example.com/water-stewardship-forum-in-kunming

Growers and brewers compared water stewardship plans for the dry season.
"""


def tree(site: Path) -> dict[str, bytes]:
    """Every file of a built site by relative path (the manifest is bookkeeping, not site)."""
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def digest_tree(site: Path) -> dict[str, tuple[str, int]]:
    """Content hash and modification time of every file, to show a folder was not written to."""
    return {
        p.relative_to(site).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    problems = [f"only in the incremental build: {n}" for n in sorted(a.keys() - b.keys())]
    problems += [f"only in the full build: {n}" for n in sorted(b.keys() - a.keys())]
    problems += [f"differs: {n}" for n in sorted(a.keys() & b.keys()) if a[n] != b[n]]
    return problems


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(SAMPLES, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def nightly_changes(content: Path) -> None:
    """What a night brings: a new story, edited text and title, a hidden and a deleted story."""
    news = content / NEWS
    (news / "2025" / "water-stewardship-forum-in-kunming.md").write_text(
        NEW_STORY, encoding="utf-8"
    )
    edit(
        news / "2025" / "iso-26000-forum-in-shanghai.md",
        "Speakers will discuss",
        "Editors corrected this: speakers will discuss",
    )
    edit(
        news / "2024" / "annual-csr-report-of-a-textile-group.md",
        "Title: ",
        "Title: Revised: ",
    )
    edit(
        news / "2025" / "csr-award-for-community-projects.md",
        "Lang: en",
        "Lang: en\nStatus: hidden",
    )
    (news / "2025" / "supply-chain-due-diligence-report.md").unlink()


def test_an_incremental_build_equals_a_full_build(content: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = build_site(content, site, quiet=True)
    assert first.rendered > 100 and first.unchanged == 0  # nothing to reuse yet
    nightly_changes(content)
    again = build_site(content, site, quiet=True)
    full = build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert again.incremental
    assert 0 < again.rendered < first.rendered / 2, (again.rendered, first.rendered)
    assert again.unchanged > 0 and again.removed > 0  # the deleted story's page went
    assert differences(tree(site), tree(tmp_path / "full")) == []
    assert not (site / NEWS / "2025" / "supply-chain-due-diligence-report").exists()
    assert "Revised: " in (
        site / NEWS / "2024" / "annual-csr-report-of-a-textile-group" / "index.html"
    ).read_text(encoding="utf-8")
    assert full.unchanged == 0 and full.rendered >= again.rendered + again.unchanged - 1


def test_a_new_story_changes_only_the_newest_page_of_each_list(
    content: Path, tmp_path: Path
) -> None:
    # Lists are numbered from the oldest story (csrnews.site.pagination): a story newer than
    # all others goes onto the newest page of each of its lists; every numbered page keeps its
    # URL and its file (a link to the live site's file, not rendered again).
    settings = {"DEFAULT_PAGINATION": 2}
    live, nxt = tmp_path / "live", tmp_path / "next"
    build_site(content, live, quiet=True, extra_settings=settings)
    numbered = sorted(p.relative_to(live) for p in live.rglob("page/*/index.html"))
    assert len(numbered) > 10
    (content / NEWS / "2025" / "water-stewardship-forum-in-kunming.md").write_text(
        NEW_STORY, encoding="utf-8"
    )
    stats = build_site(content, nxt, quiet=True, previous=live, extra_settings=settings)
    stories = re.compile(r'class="story-title"><a href="([^"]+)"')
    kept, relinked = 0, []
    for name in numbered:
        if (nxt / name).stat().st_ino == (live / name).stat().st_ino:
            kept += 1
            continue
        # The one page below a newest page that was full: same stories, and its "Newer" link
        # now goes to the page the new story split off (the newest page's 2 oldest stories).
        before, after = (live / name).read_text("utf-8"), (nxt / name).read_text("utf-8")
        assert stories.findall(before) == stories.findall(after), name
        number = int(name.parent.name)
        split_off = name.parent.parent / str(number + 1) / "index.html"
        assert not (live / split_off).exists() and (nxt / split_off).is_file(), name
        relinked.append(name)
    assert kept + len(relinked) == len(numbered) and kept > len(relinked), (kept, relinked)
    home = (nxt / "index.html").read_text(encoding="utf-8")
    assert "Water stewardship forum in Kunming" in home
    assert "Water stewardship forum in Kunming" in (nxt / "org/amfori/index.html").read_text(
        encoding="utf-8"
    )
    build_site(content, tmp_path / "full", quiet=True, incremental=False, extra_settings=settings)
    assert differences(tree(nxt), tree(tmp_path / "full")) == []
    assert stats.unchanged > stats.rendered, stats


def test_an_edit_to_a_storys_text_renders_its_page_and_feeds_not_the_lists(
    content: Path, tmp_path: Path
) -> None:
    # Lists and links show a story's title, date, summary...: what the theme's templates
    # read of it. Its text and a Modified date show on its own page and in the feeds only.
    live, nxt = tmp_path / "live", tmp_path / "next"
    build_site(content, live, quiet=True)
    story = content / NEWS / "2025" / "iso-26000-forum-in-shanghai.md"
    edit(story, "\n\n", "\nModified: 2026-01-06T02:00:00+00:00\n\nA new first paragraph.\n\n")
    build_site(content, nxt, quiet=True, previous=live)

    def kept(name: str) -> bool:
        return (nxt / name).stat().st_ino == (live / name).stat().st_ino

    page = "news/2025/iso-26000-forum-in-shanghai/index.html"
    assert not kept(page) and "A new first paragraph." in (nxt / page).read_text("utf-8")
    assert not kept("feeds/all.atom.xml")
    for listing in ("index.html", "org/index.html", "2025/index.html", "archives/index.html"):
        assert kept(listing), listing
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(nxt), tree(tmp_path / "full")) == []
    # a new title shows in every list: those are rendered again
    edit(story, "Title: ", "Title: Revised: ")
    build_site(content, tmp_path / "third", quiet=True, previous=nxt)
    assert "Revised: " in (tmp_path / "third" / "index.html").read_text("utf-8")


def test_a_top10_edit_and_a_theme_change_rebuild_what_shows_them(
    content: Path, tmp_path: Path
) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(Path(__file__).resolve().parent.parent / "theme", theme)
    site = tmp_path / "site"
    settings = {"THEME": str(theme)}
    build_site(content, site, quiet=True, extra_settings=settings)
    edit(content / "top10" / "2024.yaml", "The first summit", "The very first summit")
    after_list = build_site(content, site, quiet=True, extra_settings=settings)
    assert "The very first summit" in (site / "top10" / "2024" / "index.html").read_text(
        encoding="utf-8"
    )
    base = theme / "templates" / "base.html"
    base.write_text(
        base.read_text(encoding="utf-8").replace("</body>", "<!-- v2 --></body>"), encoding="utf-8"
    )
    after_theme = build_site(content, site, quiet=True, extra_settings=settings)
    assert after_theme.unchanged == 0 and after_theme.rendered >= after_list.rendered
    full = build_site(
        content, tmp_path / "full", quiet=True, extra_settings=settings, incremental=False
    )
    assert full.files == after_theme.files
    assert differences(tree(site), tree(tmp_path / "full")) == []
    assert "<!-- v2 -->" in (site / "index.html").read_text(encoding="utf-8")


def test_the_previous_site_is_never_written_to(content: Path, tmp_path: Path) -> None:
    live = tmp_path / "live"
    build_site(content, live, quiet=True)
    before = digest_tree(live)
    nightly_changes(content)
    stats = build_site(content, tmp_path / "next", quiet=True, previous=live)
    assert stats.unchanged > 0 and stats.rendered > 0
    assert digest_tree(live) == before
    # the new site's kept pages are links to the live files, not copies
    kept = tmp_path / "next" / "about" / "index.html"
    assert kept.stat().st_ino == (live / "about" / "index.html").stat().st_ino


def test_a_failed_incremental_build_keeps_the_last_site(content: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    broken = content / NEWS / "2025" / "broken.md"
    broken.write_text("Title: Broken\nDate: not a date at all\n\nBody\n", encoding="utf-8")
    stats = build_site(content, site, quiet=True)  # one bad story: left out, nothing else
    assert [q.path for q in stats.quarantined] == ["news/2025/broken.md"]
    assert stats.rendered == 0  # the site is the same as before, no page rendered again
    before = digest_tree(site)
    broken.unlink()
    (content / "top10").mkdir(exist_ok=True)
    (content / "top10" / "2025.yaml").write_text("year: 2025\nstatus: [published\n")
    with pytest.raises(Exception, match=r"2025.yaml"):  # a failure of the whole build
        build_site(content, site, quiet=True)
    assert digest_tree(site) == before
    assert not list(tmp_path.glob(".site.building-*"))


@pytest.mark.slow
def test_rebuilding_unchanged_content_renders_nothing_across_processes(
    content: Path, tmp_path: Path
) -> None:
    """Keys must be the same in a new process (no memory addresses, no set order in them)."""
    site, index = tmp_path / "site", tmp_path / "index"
    args = ("build", "--content", str(content), "--output", str(site), "--index", str(index))
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    second = run_cli(*args)
    assert second.returncode == 0, second.stderr
    match = re.search(
        r"\((\d+) rendered, (\d+) unchanged pages kept\)", second.stdout + second.stderr
    )
    assert match, second.stdout + second.stderr
    assert int(match.group(1)) == 0 and int(match.group(2)) > 100
    full = run_cli(*args, "--full")
    assert full.returncode == 0, full.stderr
    assert "unchanged pages kept" not in full.stdout + full.stderr


def test_a_link_to_another_story_follows_that_story(content: Path, tmp_path: Path) -> None:
    news = content / NEWS
    edit(
        news / "2025" / "iso-26000-forum-in-shanghai.md",
        "Speakers will discuss",
        "See [the report]({filename}/news/2025/supply-chain-due-diligence-report.md). "
        "Speakers will discuss",
    )
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    page = site / NEWS / "2025" / "iso-26000-forum-in-shanghai" / "index.html"
    assert "/news/2025/supply-chain-due-diligence-report/" in page.read_text(encoding="utf-8")
    edit(
        news / "2025" / "supply-chain-due-diligence-report.md",
        "Slug: supply-chain-due-diligence-report",
        "Slug: due-diligence-report-2025",
    )
    build_site(content, site, quiet=True)
    assert "/news/2025/due-diligence-report-2025/" in page.read_text(encoding="utf-8")
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(site), tree(tmp_path / "full")) == []


def test_a_page_saved_over_the_front_page_stays_over_it(content: Path, tmp_path: Path) -> None:
    # Two outputs of one name (the front page, then a page saved as index.html over it): the
    # second build must not keep the page's "unchanged" file after re-rendering the front page,
    # nor delete the page when Pelican sends the front page to /dev/null.
    (content / "pages" / "welcome.md").write_text(
        "Title: Welcome\nSave_as: index.html\n\nWelcome to the CSR news site.\n", encoding="utf-8"
    )
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)
    assert "Welcome to the CSR news site." in (site / "index.html").read_text(encoding="utf-8")
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(site), tree(tmp_path / "full")) == []


def test_an_empty_cache_file_of_a_killed_build_is_not_fatal(content: Path, tmp_path: Path) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert cached
    for path in cached:
        path.write_bytes(b"")  # killed while Pelican wrote its cache
    nightly_changes(content)
    build_site(content, site, quiet=True, cache_dir=cache)
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(site), tree(tmp_path / "full")) == []


def test_a_cache_dir_is_never_a_site_nor_emptied_of_other_folders(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live"
    build_site(content, live, quiet=True)
    before = digest_tree(live)
    monkeypatch.chdir(tmp_path)
    for cache_dir in (live, live / "cache", Path("live"), Path("live/cache")):
        with pytest.raises(Exception, match="inside the site"):
            build_site(content, tmp_path / "next", quiet=True, previous=live, cache_dir=cache_dir)
    assert digest_tree(live) == before
    shared = tmp_path / "shared"
    (shared / "keep-me").mkdir(parents=True)
    (shared / "keep-me" / "notes.txt").write_text("an operator's notes", encoding="utf-8")
    build_site(content, tmp_path / "other", quiet=True, cache_dir=shared)
    assert (shared / "keep-me" / "notes.txt").is_file()


def _cache_files(cache: Path) -> dict[str, int]:
    """Pelican's reader cache files (not the story checks' cache, which a file changed within
    the racy window of its check has rewritten on a later build, by design)."""
    return {
        p.name: p.stat().st_mtime_ns
        for p in cache.rglob("*")
        if p.is_file() and p.name.startswith(("Articles", "Pages"))
    }


def test_the_reader_cache_is_written_only_when_a_story_was_read(
    content: Path, tmp_path: Path
) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    written = _cache_files(cache)
    assert any(name.startswith("Articles") for name in written), written
    again = build_site(content, site, quiet=True, cache_dir=cache)
    assert again.rendered == 0
    assert _cache_files(cache) == written  # every story came from the cache: not rewritten
    nightly_changes(content)
    build_site(content, site, quiet=True, cache_dir=cache)
    after = _cache_files(cache)
    articles = next(name for name in written if name.startswith("Articles"))
    # stories were read: they are saved, in the journal beside the cache (tests/test_site_keys)
    assert after[articles] == written[articles]
    assert after[articles + incremental.JOURNAL_SUFFIX] > written[articles]
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(site), tree(tmp_path / "full")) == []


def test_cached_stories_keep_their_urls(content: Path, tmp_path: Path) -> None:
    """Story URLs are formatted once, when a story is read, and kept in the reader cache."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    articles = next(p for p in cache.rglob("ArticlesGenerator") if p.is_file())
    with articles.open("rb") as handle:
        cached = pickle.load(handle)
    del cached[incremental.TOKEN_KEY]
    published = [story for _stamp, story in cached.values() if story.status == "published"]
    assert len(published) > 10
    for story in published:
        assert story.override_url == f"{NEWS}/{story.date:%Y}/{story.slug}/"
        assert story.override_save_as == f"{story.override_url}index.html"


def test_only_a_code_edit_of_the_sites_modules_renders_every_page_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An upgrade that only documents a plugin keeps every page (30,000 renders at 20k stories
    # otherwise); a change of its code, of a template or a setting renders them all again.
    root = tmp_path / "checkout"
    shutil.copytree(
        Path(incremental.__file__).resolve().parent.parent,
        root / "csrnews",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(Path(__file__).resolve().parent.parent / "theme", root / "theme")
    monkeypatch.setattr(incremental, "_PACKAGE", root / "csrnews")
    monkeypatch.setattr(incremental, "_ROOT", root)
    settings = {"THEME": str(root / "theme"), "PATH": str(SAMPLES), "SITENAME": "CSR News"}

    def fingerprints() -> tuple[str, str]:
        return (
            incremental.build_fingerprint(settings),
            incremental.build_fingerprint(settings, theme=False),
        )

    before = fingerprints()
    plugin = root / "csrnews" / "site" / "plugins" / "csr_related.py"
    edit(plugin, '"""Related stories by', '"""Related stories (a module docstring edited) by')
    edit(plugin, "    keys = [(", "    # a new comment\n    keys = [(")
    edit(plugin, "def _keys(article: Any)", "\ndef _keys(\n    article: Any,\n)")
    edit(plugin, '    """For each story, a digest', '    """For each story (edited), a digest')
    assert fingerprints() == before
    edit(plugin, "WINDOW = 50", "WINDOW = 51")
    after_code = fingerprints()
    assert after_code[0] != before[0] and after_code[1] != before[1]
    # the theme's files still count byte for byte, a setting by its value
    edit(root / "theme" / "templates" / "base.html", "</body>", "<!-- v2 --></body>")
    assert incremental.build_fingerprint(settings) != after_code[0]
    assert incremental.build_fingerprint(settings, theme=False) == after_code[1]
    settings["SITENAME"] = "CSR News Daily"
    assert fingerprints()[1] != after_code[1]


def test_a_build_parses_only_the_modules_whose_bytes_changed_since_the_last(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # parsing every module of csrnews/ for the fingerprint is about 0.3 CPU-s a build
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    parsed: list[bytes] = []

    def counted(source: bytes) -> bytes:
        parsed.append(source)
        return codekey.code_of(source)

    monkeypatch.setattr(incremental, "code_of", counted)
    incremental._module_key.cache_clear()  # what a new process remembers
    again = build_site(content, site, quiet=True, cache_dir=cache)
    assert parsed == [] and again.rendered == 0
    # a damaged file: every module parsed again, the same fingerprint
    (cache / incremental.MODULE_KEYS).write_text("{not JSON", encoding="utf-8")
    incremental._module_key.cache_clear()
    again = build_site(content, site, quiet=True, cache_dir=cache)
    assert len(parsed) == len(list(Path(incremental.__file__).parent.parent.rglob("*.py")))
    assert again.rendered == 0
    # only a module of other bytes is parsed; its key is that of its code
    parsed.clear()
    incremental._module_key.cache_clear()
    keys = incremental.ModuleKeys(cache / incremental.MODULE_KEYS)
    source = Path(incremental.__file__).read_bytes()
    known = keys(source)
    assert parsed == []
    edited = source + b"# a comment\n"
    assert keys(edited) == known and parsed == [edited]
