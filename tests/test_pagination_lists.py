"""List pages kept whole by their signature (csrnews.site.pagination): only unchanged ones."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

from csrnews.site import pagination
from csrnews.site.build import build_site
from tests.test_site_incremental import (
    NEW_STORY,
    NEWS,
    content,  # noqa: F401 (the fixture)
    differences,
    edit,
    tree,
)

SETTINGS = {"DEFAULT_PAGINATION": 2}  # many numbered pages from the sample stories


def _lists(cache: Path) -> dict[str, dict[str, tuple[str, str]]]:
    (store,) = cache.glob(f"*/{pagination.STORE}")
    data = pickle.loads(store.read_bytes())
    assert data["format"] == pagination._FORMAT
    return data["lists"]


def _pages_showing(site: Path, text: str) -> set[Path]:
    return {
        p.relative_to(site)
        for p in site.rglob("index.html")
        if "/news/" not in f"/{p.relative_to(site).as_posix()}" and text in p.read_text("utf-8")
    }


def _first_build(folder: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The live site built (its lists recorded in the cache); the next site's folder; the cache."""
    live, nxt, cache = tmp_path / "live", tmp_path / "next", tmp_path / "cache"
    build_site(folder, live, quiet=True, cache_dir=cache, extra_settings=SETTINGS)
    return live, nxt, cache


def test_a_list_page_is_kept_only_when_its_stories_did_not_change(
    content: Path,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    live, nxt, cache = _first_build(content, tmp_path)
    recorded = _lists(cache)
    home = recorded.get("index\x00index.html")
    assert home and len(home) > 3, sorted(recorded)  # every page of the home list recorded
    news = content / NEWS
    # a listed story's new title (an old story: on a numbered page of each of its lists)
    edit(
        news / "2024" / "green-supply-chain-summit-opens-in-shenzhen.md", "Title: ", "Title: New: "
    )
    # a story moved from one organisation's list to another's
    edit(
        news / "2024" / "annual-csr-report-of-a-textile-group.md",
        "Organisations: CTIC",
        "Organisations: MIIT",
    )
    # a hidden story, and a new one (newer than all: the newest page of its lists)
    edit(
        news / "2025" / "csr-award-for-community-projects.md",
        "Lang: en",
        "Lang: en\nStatus: hidden",
    )
    (news / "2025" / "water-stewardship-forum-in-kunming.md").write_text(NEW_STORY, "utf-8")
    build_site(content, nxt, quiet=True, previous=live, cache_dir=cache, extra_settings=SETTINGS)
    build_site(content, tmp_path / "full", quiet=True, incremental=False, extra_settings=SETTINGS)
    assert differences(tree(nxt), tree(tmp_path / "full")) == []

    retitled = _pages_showing(nxt, "New: Green supply chain summit")
    assert len(retitled) > 3, retitled  # home, type, organisations, standard, source, year
    for name in retitled:  # rendered again: not the last build's file
        if (live / name).exists():
            assert (nxt / name).stat().st_ino != (live / name).stat().st_ino, name
    moved = _pages_showing(nxt, "Textile group publishes")
    assert not any(n.parts[:2] == ("org", "ctic") for n in moved), moved
    assert any(n.parts[:2] == ("org", "miit") for n in moved), moved
    hidden = _pages_showing(live, 'csr-award-for-community-projects/"')
    assert hidden and all(
        'csr-award-for-community-projects/"' not in (nxt / name).read_text("utf-8")
        for name in hidden
        if (nxt / name).exists()
    ), hidden
    # the pages no change reached are the last build's files, kept by the list rule
    numbered = sorted(p.relative_to(live) for p in live.rglob("page/*/index.html"))
    kept = [
        n
        for n in numbered
        if (nxt / n).exists() and (nxt / n).stat().st_ino == (live / n).stat().st_ino
    ]
    assert 0 < len(kept) < len(numbered), (kept, numbered)
    again = _lists(cache)
    for page, (_signature, key) in again["index\x00index.html"].items():
        assert re.fullmatch(r"[0-9a-f]+", key), (page, key)


def test_a_list_page_whose_file_has_another_key_is_rendered(
    content: Path,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    """The signatures are the last build's; the previous site may be another: its keys decide."""
    live, nxt, cache = _first_build(content, tmp_path)
    # a build of other stories into another folder, sharing the cache: its lists are recorded
    other = tmp_path / "other"
    edit(
        content / NEWS / "2024" / "green-supply-chain-summit-opens-in-shenzhen.md",
        "Title: ",
        "Title: Other: ",
    )
    build_site(content, other, quiet=True, cache_dir=cache, extra_settings=SETTINGS)
    # back to the live site's stories, built from the live site: every page as live has it
    edit(
        content / NEWS / "2024" / "green-supply-chain-summit-opens-in-shenzhen.md",
        "Title: Other: ",
        "Title: ",
    )
    stats = build_site(
        content, nxt, quiet=True, previous=live, cache_dir=cache, extra_settings=SETTINGS
    )
    build_site(content, tmp_path / "full", quiet=True, incremental=False, extra_settings=SETTINGS)
    assert differences(tree(nxt), tree(tmp_path / "full")) == []
    assert stats.rendered == 0, stats  # each page's key is the live site's: all kept


def test_a_recorded_key_keeps_a_page_only_as_the_previous_site_has_it() -> None:
    from csrnews.site.incremental import Plan

    page = str(Path("type", "report", "index.html"))
    plan = Plan("fp", {page: "k1", "index.html": "k2"}, {page, "index.html"})
    assert not plan.keep_recorded(page, "other")  # another key: rendered, nothing recorded
    assert plan.key_made(page) is None and page not in plan.rendered
    assert not plan.keep_recorded("new.html", "k1")  # not in the previous site
    assert plan.keep_recorded("type/report/./index.html", "k1")  # normalised, kept
    assert plan.key_made(page) == "k1" and page in plan.unchanged
    assert not plan.keep_recorded(page, "k1")  # a second output of that name: never skipped
    assert (
        plan.decide("index.html", "changed") is False and plan.key_made("index.html") == "changed"
    )
    assert not plan.keep_recorded("index.html", "k2")  # this build made its key already
