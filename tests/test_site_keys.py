"""Page keys from digests kept in Pelican's reader cache: never stale, whatever a night changes."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pelican import signals

from csrnews.site import incremental, pelican_compat
from csrnews.site.build import build_site
from csrnews.site.plugins.csr_related import compute_related
from tests.test_site_incremental import SAMPLES, differences, edit, nightly_changes, tree

NEWS = SAMPLES / "news"
RELATED = re.compile(r'<section class="related".*?</section>', re.S)
LINK = re.compile(r'<a href="/([^"]+)">([^<]+)</a>')


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(SAMPLES, folder)
    return folder


def _stories(generator: Any) -> list[Any]:
    return [*generator.articles, *generator.translations]


def test_a_cached_digest_covers_what_the_story_still_holds(content: Path, tmp_path: Path) -> None:
    # The invariant the keys rest on: no attribute a cached digest covers changes after the
    # reader cache saved it, in the build that read the story or in a later one that loads it
    # from the cache (what changes each build, related stories, neighbours, top-10 badges, is
    # hashed each build).
    seen: list[tuple[Any, tuple[Any, ...]]] = []

    def check(generator: Any, writer: Any = None) -> None:
        listed = incremental.TemplateInputs.listed(generator.env)
        assert listed is not None
        for story in _stories(generator):
            stamp = vars(story).get(incremental.CACHED_DIGEST)
            assert stamp is not None, story.source_path
            # the part of its digest as lists show it was stamped too (for the theme's names)
            assert len(stamp) == 5 and stamp[3] == incremental.listed_key(listed)
            clone = object.__new__(type(story))
            vars(clone).update({k: v for k, v in vars(story).items() if k in stamp[1]})
            incremental.stamp_cached(clone, listed)
            seen.append((story, stamp))
            assert vars(clone)[incremental.CACHED_DIGEST] == stamp, story.source_path

    signals.article_writer_finalized.connect(check)
    try:
        site = tmp_path / "site"
        build_site(content, site, quiet=True)  # every story read, then saved in the cache
        first = len(seen)
        nightly_changes(content)
        build_site(content, site, quiet=True)  # most stories from the cache
    finally:
        signals.article_writer_finalized.disconnect(check)
    assert first >= 10 and len(seen) > first + 10
    # set after the cache was saved: hashed each build, not covered
    badged = [stamp[1] for s, stamp in seen[first:] if s.top10_badges]
    assert badged and all("top10_badges" not in covered for covered in badged)


def test_what_a_story_page_shows_of_other_stories_renders_it_again(
    content: Path, tmp_path: Path
) -> None:
    site, nxt = tmp_path / "site", tmp_path / "next"
    build_site(content, site, quiet=True)
    # a story page listing an earlier story among its related ones
    shown: tuple[str, str, str] | None = None
    for page in sorted(site.glob("news/*/*/index.html")):
        section = RELATED.search(page.read_text(encoding="utf-8"))
        if section:
            url, title = LINK.findall(section.group(0))[0]
            shown = (page.relative_to(site).as_posix(), url, title)
            break
    assert shown is not None
    page, url, title = shown
    source = content / (url.rstrip("/") + ".md")
    edit(source, f"Title: {title}", f"Title: {title} (corrected)")
    stats = build_site(content, nxt, quiet=True, previous=site)
    assert stats.unchanged > stats.rendered > 0

    def rendered(name: str, before: Path, after: Path) -> bool:
        return (after / name).stat().st_ino != (before / name).stat().st_ino

    assert rendered(page, site, nxt) and f"{title} (corrected)" in (nxt / page).read_text("utf-8")
    # a top-10 badge: the list's ranks change (the top-10 lists are part of every key)
    top10, third = content / "top10" / "2024.yaml", tmp_path / "third"
    edit(top10, "rank: 1\n    headline: Green", "rank: 2\n    headline: Green")
    edit(top10, "rank: 2\n    headline: amfori", "rank: 1\n    headline: amfori")
    build_site(content, third, quiet=True, previous=nxt)
    badge = "news/2024/green-supply-chain-summit-opens-in-shenzhen/index.html"
    assert rendered(badge, nxt, third) and "No. 2 in" in (third / badge).read_text("utf-8")
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(third), tree(tmp_path / "full")) == []


def _story(name: str, tags: list[str]) -> SimpleNamespace:
    return SimpleNamespace(
        name=name, organisations=[], standards=[], tags=[SimpleNamespace(slug=t) for t in tags]
    )


def _names(stories: list[SimpleNamespace]) -> list[list[str]]:
    return [[r.name for r in s.related] for s in stories]


def test_related_stories_of_a_last_build_are_kept_while_the_older_stories_keys_hold() -> None:
    # A story's related stories come from it and the older stories only: while their keys
    # are the same (new stories are newer), the last build's result is kept, and only then.
    tags = ["water", "labour", "climate", "audit"]
    stories = [_story(f"s{i}", [tags[i % 4], tags[(i * 7) % 3]]) for i in range(40)]
    known = compute_related(stories, limit=3)
    newer = [*(_story(f"n{i}", ["water", "audit"]) for i in range(3)), *stories]
    compute_related(newer, limit=3)
    fresh = _names(newer)
    compute_related(newer, limit=3, known=known)
    assert _names(newer) == fresh  # what is kept is what a computation from nothing gives
    # a result that no computation gives (the next older story), to see what is kept
    marked = {digest: (1,) for digest in list(known)[:-1]}
    compute_related(newer, limit=3, known=marked)
    assert all(s.related == [newer[i + 1]] for i, s in enumerate(newer[3:-1], start=3))
    assert _names(newer)[:3] == fresh[:3]  # the new stories: computed
    stories[20].tags = [SimpleNamespace(slug="climate")]  # an older story's keys change
    compute_related(newer, limit=3, known=marked)
    changed = newer.index(stories[20])
    assert all(s.related != [newer[i + 1]] for i, s in enumerate(newer[: changed + 1]))
    assert all(s.related == [newer[i + 1]] for i, s in enumerate(newer[:-1]) if i > changed)


def _journal(cache: Path) -> Path:
    return next(cache.rglob("ArticlesGenerator")).with_name(
        "ArticlesGenerator" + incremental.JOURNAL_SUFFIX
    )


def test_a_nightly_saves_the_stories_it_read_in_the_journal_not_the_whole_cache(
    content: Path, tmp_path: Path
) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    base = next(cache.rglob("ArticlesGenerator"))
    before = base.stat()
    assert not _journal(cache).exists()
    nightly_changes(content)
    build_site(content, site, quiet=True, cache_dir=cache)
    after = base.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    context: dict[str, Any] = {}
    journal = incremental.load_journal(_journal(cache), context)
    with base.open("rb") as handle:
        assert journal["token"] == pickle.load(handle)[incremental.TOKEN_KEY]
    # the stories without the build's context (every story of the site) they point to
    for _stamp, story in journal["entries"].values():
        assert vars(story)[pelican_compat.CONTENT_CONTEXT_ATTR] is context
    assert "news/2025/water-stewardship-forum-in-kunming.md" in journal["entries"]
    assert "news/2025/iso-26000-forum-in-shanghai.md" in journal["entries"]
    assert len(journal["entries"]) < 5
    # the next build takes the stories from the base and the journal: nothing to render
    assert build_site(content, site, quiet=True, cache_dir=cache).rendered == 0
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(site), tree(tmp_path / "full")) == []


def test_a_journal_is_used_only_with_the_base_it_was_written_for(
    content: Path, tmp_path: Path
) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    nightly_changes(content)
    build_site(content, site, quiet=True, cache_dir=cache)
    name = "news/2025/iso-26000-forum-in-shanghai.md"
    journal = _journal(cache)
    context: dict[str, Any] = {}
    data = incremental.load_journal(journal, context)
    titles: dict[str, str] = {}

    def note(generator: Any) -> None:
        titles.update({Path(s.source_path).name: s.title for s in _stories(generator)})

    def build_with(token: str) -> str:
        # what the journal holds is what the next build uses: a title only the journal has
        data["token"] = token
        data["entries"][name][1].title = "Title from the journal"
        incremental._write_atomically(str(journal), data, context)
        signals.article_generator_finalized.connect(note)
        try:
            build_site(content, site, quiet=True, cache_dir=cache)
        finally:
            signals.article_generator_finalized.disconnect(note)
        return titles[Path(name).name]

    with next(cache.rglob("ArticlesGenerator")).open("rb") as handle:
        token = pickle.load(handle)[incremental.TOKEN_KEY]
    assert build_with(token) == "Title from the journal"
    # a journal that names another base (one written since, or another's) is not used
    assert build_with("another base") != "Title from the journal"


def test_a_journal_past_a_tenth_of_the_cache_is_folded_into_a_new_base(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incremental, "_JOURNAL_MIN", 0)  # the samples' cache: a few stories
    site, cache = tmp_path / "site", tmp_path / "cache"
    build_site(content, site, quiet=True, cache_dir=cache)
    base = next(cache.rglob("ArticlesGenerator"))
    with base.open("rb") as handle:
        first = pickle.load(handle)
    nightly_changes(content)  # more stories read than a tenth of the cache
    build_site(content, site, quiet=True, cache_dir=cache)
    assert not _journal(cache).exists()
    with base.open("rb") as handle:
        again = pickle.load(handle)
    assert again[incremental.TOKEN_KEY] != first[incremental.TOKEN_KEY]
    name = "news/2025/water-stewardship-forum-in-kunming.md"
    assert name in again and name not in first
    build_site(content, tmp_path / "full", quiet=True, incremental=False)
    assert differences(tree(site), tree(tmp_path / "full")) == []


def test_a_cached_storys_digests_are_the_same_by_the_short_ways(
    content: Path, tmp_path: Path
) -> None:
    # Fingerprinter._content gives _own the names the stamp does not cover (sorted once for
    # both), and `of` takes a story straight to its digest as a list shows it: the digests
    # are those _own and _base make alone, for every story of a build from the reader cache.
    checked: list[Any] = []

    def check(generator: Any, writer: Any = None) -> None:
        listed = incremental.TemplateInputs.listed(generator.env)
        for story in _stories(generator):
            stamp = vars(story)[incremental.CACHED_DIGEST]
            names = sorted(vars(story).keys() - stamp[1])
            alone, given = incremental.Fingerprinter(listed), incremental.Fingerprinter(listed)
            assert given._own(story, names) == alone._own(story), story.source_path
            assert given.of(story) == alone._base(story), story.source_path
            checked.append(story)

    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    signals.article_writer_finalized.connect(check)
    try:
        build_site(content, site, quiet=True)  # every story from the cache, stamped
    finally:
        signals.article_writer_finalized.disconnect(check)
    assert len(checked) >= 10
