"""The static search's nightly refresh: new and changed stories go to a small recent shard, the
base shards stay linked with their stale entries listed, and readers get what a full build of
the same story files gives (the same hits, total and facet counts, in the browser too)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from csrnews.search.staticsearch import (
    FRAGMENT_SUFFIX,
    RECENT,
    StaticSearchStats,
    build_static_search,
)

from tests.golden_site import GOLDEN, ROOT, SAMPLES
from tests.ports import wait_listening
from tests.test_readers_browser import _wait_for

TARGET = 6  # shards 2024, 2025.1 and 2025.2 of the samples
NEWS = "news"


def _content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(SAMPLES, content)
    return content


def _edit(content: Path, name: str, old: str, new: str) -> None:
    path = next((content / NEWS).rglob(f"{name}.md"))
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _add(content: Path, slug: str, title: str, category: str, body: str) -> None:
    path = content / NEWS / "2025" / f"{slug}.md"
    path.write_text(
        f"Title: {title}\nDate: 2025-11-20T09:00:00+08:00\nSlug: {slug}\nLang: en\n"
        f"Summary: {title}.\nCategory: {category}\nOrganisations: amfori, ISO\n"
        f"Source: CSR Daily\nSource_url: https://news.example.com/{slug}\n\n{body}\n",
        encoding="utf-8",
    )


def _first_night(content: Path) -> None:
    """A story changed (text and event type), one deleted, one hidden, one added, and one whose
    file changed but not its record (a header the static search does not index)."""
    _edit(content, "amfori-and-ctic-sign-mou-on-worker-training", "Category: MoU & partnership",
          "Category: Training")  # fmt: skip
    _edit(content, "amfori-and-ctic-sign-mou-on-worker-training", "joint worker training",
          "joint worker training and supply chain audits")  # fmt: skip
    next((content / NEWS).rglob("annual-csr-report-of-a-textile-group.md")).unlink()
    _edit(content, "green-supply-chain-summit-opens-in-shenzhen", "Lang: en",
          "Lang: en\nStatus: hidden")  # fmt: skip
    _edit(content, "iso-26000-forum-in-shanghai", "Locations: Shanghai", "Locations: Suzhou")
    _add(content, "supply-chain-training-week", "Supply chain training week", "Training",
         "A week of supply chain training for factory managers.")  # fmt: skip


def _build(content: Path, site: Path, cache: Path, **options: Any) -> StaticSearchStats:
    site.mkdir(exist_ok=True)
    options.setdefault("fold_share", 1.0)  # the samples' shards are tiny: any share passes
    options.setdefault("target", TARGET)
    return build_static_search(content, site, cache_dir=cache, **options)


def _fresh(content: Path, tmp_path: Path, target: int = TARGET) -> Path:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    stats = build_static_search(content, fresh, target=target)
    assert stats.recent == 0 and stats.stale == 0 and stats.built == stats.shards
    return fresh


def _listing(site: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((site / "pagefind" / "shards.json").read_text(encoding="utf-8"))
    return {shard["id"]: shard for shard in data["shards"]}


def _fragment(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd"))


def _values(filters: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: sorted(values) for key, values in filters.items() if values}


def _what_readers_find(site: Path) -> dict[str, dict[str, Any]]:
    """URL: fragment, of each story the search page finds: every shard's fragments but one copy
    of each stale entry, whose listed filter values must be its fragment's."""
    found: dict[str, dict[str, Any]] = {}
    total = 0
    for shard_id, shard in _listing(site).items():
        stale = {name: filters for name, filters in shard.get("stale", [])}
        kept = 0
        for path in sorted((site / "pagefind" / shard_id / "fragment").iterdir()):
            fragment = _fragment(path)
            name = path.name.removesuffix(FRAGMENT_SUFFIX)
            if name in stale:
                assert _values(stale.pop(name)) == _values(fragment["filters"])
                continue
            assert fragment["url"] not in found, fragment["url"]
            found[fragment["url"]] = fragment
            kept += 1
        assert not stale, f"stale entries with no fragment in {shard_id}: {stale}"
        assert shard["stories"] == kept
        total += kept
    assert total == len(found)
    return found


def _same_as_a_fresh_build(content: Path, site: Path, tmp_path: Path, target: int = TARGET) -> Path:
    fresh = _fresh(content, tmp_path, target)
    assert _what_readers_find(site) == _what_readers_find(fresh)
    return fresh


def _inodes(site: Path, shard_id: str) -> dict[str, int]:
    folder = site / "pagefind" / shard_id
    files = (p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in files}


def test_a_nightly_builds_only_shards_of_its_new_and_changed_stories(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    first = _build(content, site, cache)
    assert (first.shards, first.built, first.recent) == (3, 3, 0)
    before = {shard_id: _inodes(site, shard_id) for shard_id in _listing(site)}
    _first_night(content)
    night = _build(content, site, cache)
    listing = _listing(site)
    # the new, changed and hidden stories in new shards of at most half the target (3)
    assert list(listing) == ["2024", "2025.1", "2025.2", "n1", "n2"]
    assert (night.built, night.folded, night.reused, night.recent) == (2, 0, 3, 0)
    assert [listing[s]["stories"] for s in ("n1", "n2")] == [2, 1]  # and the hidden one in n1
    assert night.indexed == 3
    for shard_id, inodes in before.items():  # linked from the previous bundle, not built
        assert _inodes(site, shard_id) == inodes
    # changed, deleted, hidden; and the forum whose record did not change (one copy dropped)
    assert night.stale == 4
    assert sum(len(s.get("stale", [])) for s in listing.values()) == 4
    fresh = _same_as_a_fresh_build(content, site, tmp_path)
    assert night.stories == sum(s["stories"] for s in _listing(fresh).values())
    # nothing changed: everything linked, the stale entries listed again
    again = _build(content, site, cache)
    assert (again.built, again.reused, again.stale, again.indexed) == (0, 5, 4, 0)
    assert _listing(site) == listing


def test_the_stale_list_survives_a_second_night(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    _build(content, site, cache)
    _first_night(content)
    _build(content, site, cache)
    # the changed story changes again; the added one is changed and then deleted
    _edit(content, "amfori-and-ctic-sign-mou-on-worker-training", "textile clusters",
          "textile and garment clusters")  # fmt: skip
    _edit(content, "supply-chain-training-week", "factory managers", "line supervisors")
    second = _build(content, site, cache)
    # n1 is full (3): its changed story goes to n2, which has room and keeps its own; n2
    # built again (past its share), n1 lists the story stale
    assert (second.built, second.folded, second.reused, second.recent) == (1, 1, 4, 0)
    assert len(_listing(site)["n1"]["stale"]) == 1
    _same_as_a_fresh_build(content, site, tmp_path)
    next((content / NEWS).rglob("supply-chain-training-week.md")).unlink()
    third = _build(content, site, cache)
    assert (third.built, third.recent) == (0, 0) and len(_listing(site)["n2"]["stale"]) == 1
    _same_as_a_fresh_build(content, site, tmp_path)


def test_shards_due_a_fold_are_built_again_within_the_nights_budget(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    # one shard of 12 stories; a nightly builds at most 7 (half the target) a night
    options: dict[str, Any] = {"target": 14, "fold_share": 0.2}
    _build(content, site, cache, **options)
    _first_night(content)
    # its changed stories and the new one go to a new shard (they are indexed anyway); 4 of
    # its 12 entries are stale: past its share, but with no budget it waits
    first = _build(content, site, cache, **options, fold_budget=0)
    assert list(_listing(site)) == ["2024-2025", "n1"]
    assert (first.built, first.folded, first.stale) == (1, 0, 4)
    _same_as_a_fresh_build(content, site, tmp_path, target=14)
    # larger than 7: its first 7 stories go to a new shard, the rest stay, listed stale there
    split = _build(content, site, cache, **options)
    listing = _listing(site)
    assert list(listing) == ["2024-2025", "n1", "n2"]
    assert (split.built, split.folded, split.indexed) == (1, 1, 6)  # 7 files, 6 records
    assert len(listing["2024-2025"]["stale"]) == 4 + 6 and listing["2024-2025"]["stories"] == 2
    _same_as_a_fresh_build(content, site, tmp_path, target=14)
    # what is left of it (2 stories), built again in place: nothing stale
    last = _build(content, site, cache, **options)
    listing = _listing(site)
    assert (last.built, last.folded, last.indexed, last.stale) == (1, 1, 2, 0)
    assert list(listing) == ["2024-2025", "n1", "n2"] and listing["2024-2025"]["stories"] == 2
    _same_as_a_fresh_build(content, site, tmp_path, target=14)
    assert _build(content, site, cache, **options).built == 0


def test_new_stories_fill_a_nightly_shard_then_the_next(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    _build(content, site, cache)
    for number in range(4):
        _add(content, f"new-{number}", f"New story {number}", "Training", "Worker training.")
    night = _build(content, site, cache)
    listing = _listing(site)
    assert [(s, listing[s]["stories"]) for s in ("n1", "n2")] == [("n1", 3), ("n2", 1)]
    assert (night.built, night.indexed, night.folded, night.recent) == (2, 4, 0, 0)
    _same_as_a_fresh_build(content, site, tmp_path)
    _add(content, "new-4", "New story 4", "Training", "Worker training.")
    again = _build(content, site, cache, fold_share=0.5)  # to n2, the newest with room
    assert (again.built, again.indexed, again.folded) == (1, 2, 1)
    assert [_listing(site)[s]["stories"] for s in ("n1", "n2")] == [3, 2]
    _same_as_a_fresh_build(content, site, tmp_path)


def test_a_stale_id_another_shard_also_holds_folds_its_shard(tmp_path: Path) -> None:
    # Result ids are short hashes: should a stale one name a fragment of another base shard,
    # the search page could not tell them apart, so its shard is built again.
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    _build(content, site, cache)
    _first_night(content)
    _build(content, site, cache)
    (name, _), *_ = _listing(site)["2024"]["stale"]
    file = f"{name}{FRAGMENT_SUFFIX}"
    other = site / "pagefind" / "2025.1" / "fragment" / file
    other.write_bytes(b"another fragment under the same name")
    night = _build(content, site, cache)
    assert "stale" not in _listing(site)["2024"] and (night.built, night.folded) == (1, 1)
    assert _listing(site)["2025.1"].get("stale")  # the others linked as they were


def test_a_story_of_a_new_year_goes_to_a_nightly_shard(tmp_path: Path) -> None:
    # a full build would put 2026 in its last shard ("2024-2026"); a nightly keeps "2024-2025"
    # linked as it was and puts the story in a shard of its own
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    assert _build(content, site, cache, target=14).shards == 1
    _add(content, "a-new-year", "A new year", "Training", "The first story of 2026.")
    moved = next((content / NEWS).rglob("a-new-year.md"))
    (content / NEWS / "2026").mkdir()
    moved.write_text(moved.read_text().replace("2025-11-20", "2026-01-02"), encoding="utf-8")
    moved.rename(content / NEWS / "2026" / moved.name)
    night = _build(content, site, cache, target=14)
    assert (night.built, night.reused, night.recent, night.stale) == (1, 1, 0, 0)
    assert list(_listing(site)) == ["2024-2025", "n1"]
    _same_as_a_fresh_build(content, site, tmp_path, target=14)
    assert list(_listing(tmp_path / "fresh")) == ["2024-2026"]
    assert _build(content, site, cache, target=14).built == 0  # linked again the next night


def test_a_full_build_without_a_previous_bundle_has_base_shards_only(tmp_path: Path) -> None:
    content = _content(tmp_path)
    _first_night(content)
    stats = _build(content, tmp_path / "site", tmp_path / "cache")
    assert stats.recent == 0 and stats.stale == 0 and RECENT not in _listing(tmp_path / "site")


# --- in the browser: the refreshed bundle answers as a fresh full build does -----------------


def _site_root(base: Path, bundle: Path) -> Path:
    """A folder a static server serves: the golden search page, this search.js, a bundle."""
    (base / "search").mkdir(parents=True)
    shutil.copy2(GOLDEN / "search" / "index.html", base / "search" / "index.html")
    (base / "theme" / "js").mkdir(parents=True)
    shutil.copy2(ROOT / "theme" / "static" / "js" / "search.js", base / "theme" / "js")
    shutil.copytree(bundle / "pagefind", base / "pagefind")
    return base


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The refreshed bundle, a fresh full build of the same files, and the refreshed bundle with
    its stale lists taken out, each on a static server of its own."""
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    _build(content, site, cache)
    _first_night(content)
    assert _build(content, site, cache).stale == 4
    roots = {
        "delta": _site_root(tmp_path / "served-delta", site),
        "fresh": _site_root(tmp_path / "served-fresh", _fresh(content, tmp_path)),
        "unfixed": _site_root(tmp_path / "served-unfixed", site),
    }
    listing = roots["unfixed"] / "pagefind" / "shards.json"
    data = json.loads(listing.read_text(encoding="utf-8"))
    for shard in data["shards"]:
        shard.pop("stale", None)
    listing.write_text(json.dumps(data), encoding="utf-8")
    yield from serve_roots(roots, tmp_path)


def serve_roots(roots: dict[str, Path], cwd: Path) -> Iterator[dict[str, str]]:
    """Each folder on a static server of its own, the servers started together: name: its URL."""
    serve = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory"]
    servers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, root in roots.items():
            servers[name] = subprocess.Popen(
                [*serve, str(root), "0"],  # a port the kernel chooses, read back below
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        urls = {
            name: f"http://127.0.0.1:{wait_listening(server, 60)}"
            for name, server in servers.items()
        }
        for name, server in servers.items():
            _wait_for(urls[name] + "/", server)
        yield urls
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=10)


def search_page(browser: Any) -> Any:
    """A page that keeps its script errors (``page.errors``, checked by ``_answer``)."""
    page = browser.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


SEARCHED = "document.getElementById('search-status').textContent.includes('in your browser')"
UNAVAILABLE = "document.body.classList.contains('search-unavailable')"


def _answer(page: Any, url: str) -> dict[str, Any]:
    """The status line, every hit (over all pages) and every facet count the page shows."""
    hits: list[str] = []
    number = 1
    while True:
        for attempt in (1, 2):
            page.goto(f"{url}&page={number}")
            # a static server sends no CSP: Playwright's own wait (evaluated in the page, checked
            # at each frame) goes on as soon as the page has answered
            page.wait_for_function(f"{SEARCHED} || {UNAVAILABLE}", timeout=60_000)
            if page.evaluate(SEARCHED):
                break
            # On a loaded machine Pagefind now and then fails to load a bundle file ("invalid
            # gzip data", in its own loader) and the page says search is not available:
            # once more, then fail.
            assert attempt == 1, f"{url}: {page.inner_text('#search-status')}"
        shown = page.locator("#search-results .hit-title a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        if number == 1:
            status = page.inner_text("#search-status")
            facets = page.locator("#search-facets .facet-value").evaluate_all(
                "els => els.map(e => [e.dataset.filter, e.dataset.value,"
                " e.querySelector('.facet-count').textContent])"
            )
        hits += shown
        if len(shown) < 10:  # the search page's 10 a page: this was the last
            break
        number += 1
    assert not page.errors, page.errors
    return {"status": status, "hits": sorted(hits), "facets": sorted(map(tuple, facets))}


def _answers_alike(
    page: Any, urls: dict[str, str], queries: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Each query on the fresh build (some hits) and on the refreshed bundle: the same answer."""
    wants = {}
    for query in queries:
        want = wants[query] = _answer(page, urls["fresh"] + "/search/" + query)
        assert want["hits"], query
        assert _answer(page, urls["delta"] + "/search/" + query) == want, query
    return wants


# Pagefind takes, in a shard whose index lacks a query word, the longest prefix of it that the
# shard indexes (for "amfori", the word "a"); the search page keeps such hits out (tests/
# test_static_search_words.py), so words some shards lack ("amfori", "audit") answer alike too.
QUERIES = (
    "?q=csr",
    "?q=forum&type=summit",
    "?q=training&year=2024",
    "?q=amfori",
    "?q=audit",
    "?org=amfori",
    "?year=2024",
)


@pytest.mark.browser
@pytest.mark.slow
def test_the_refreshed_bundle_answers_as_a_fresh_build_in_the_browser(
    served: dict[str, str], browser: Any
) -> None:
    # served first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    wants = _answers_alike(page, served, QUERIES)
    # without the stale lists the changed, hidden and deleted stories' old entries show
    unfixed = _answer(page, served["unfixed"] + "/search/?org=amfori")["hits"]
    assert len(unfixed) > len(wants["?org=amfori"]["hits"])


@pytest.fixture()
def twice_stale(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A bundle where one result id is stale in two shards, and a fresh build of its files.

    A story moved out of a shard split by a nightly (the very same fragment in both, listed
    stale in the old one) and then changed (listed stale in the new one too, its new version
    in a third): the page must drop both old copies."""
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    options: dict[str, Any] = {"target": 14, "fold_share": 0.2}
    _build(content, site, cache, **options)
    _first_night(content)
    _build(content, site, cache, **options)  # splits 2024-2025: 7 of its stories to n2
    shards = json.loads((cache / "static-search-shards.json").read_text())["shards"]
    moved = next(doc for doc, entry in shards["n2"]["stories"].items() if entry[1])
    story = content / moved
    story.write_text(story.read_text(encoding="utf-8") + "\nAn update.\n", encoding="utf-8")
    assert _build(content, site, cache, **options, fold_budget=0).folded == 0  # to a new shard
    stale = [e[0] for shard in _listing(site).values() for e in shard.get("stale", [])]
    assert len(stale) - len(set(stale)) == 1  # one id listed stale by two shards
    _same_as_a_fresh_build(content, site, tmp_path, target=14)
    year = moved.split("/")[1]
    roots = {
        "delta": _site_root(tmp_path / "served-delta", site),
        "fresh": _site_root(tmp_path / "served-fresh", tmp_path / "fresh"),
    }
    for urls in serve_roots(roots, tmp_path):
        yield {**urls, "year": year}


@pytest.mark.browser
@pytest.mark.slow
def test_an_id_stale_in_two_shards_shows_once_in_the_browser(
    twice_stale: dict[str, str], browser: Any
) -> None:
    queries = (f"?year={twice_stale['year']}", "?q=csr", "?org=amfori")
    _answers_alike(search_page(browser), twice_stale, queries)
