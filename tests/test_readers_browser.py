"""The search page as readers use it, in Chromium at 1280 and 390 px: results first, filters
that filter, suggestions that find stories; and the same page on a plain static server
(`python -m http.server`, no csrnews process), where it searches the static (Pagefind) index."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.ports import wait_listening
from tests.test_search_answers import ENVIRONMENT
from tests.test_search_browser import wait_until
from tests.test_search_index import STORIES, _write

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = {"wide": (1280, 900), "narrow": (390, 844)}


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A site and index built from the test stories, with the static search."""
    base = tmp_path_factory.mktemp("readers")
    content, output, index = base / "content", base / "output", base / "index"
    for row in [*STORIES, *ENVIRONMENT]:
        _write(content, row)
    made = run_cli(
        "build", "--content", str(content), "--output", str(output), "--index", str(index)
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert (output / "pagefind" / "shards.json").is_file()
    return output, index


def _serve(argv: list[str], cwd: Path = ROOT) -> Iterator[str]:
    proc = subprocess.Popen(
        [*argv, "0"],  # the port: the server binds one the kernel chooses, read back here
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        url = f"http://127.0.0.1:{wait_listening(proc, 60)}"
        _wait_for(url + "/", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def served(built: tuple[Path, Path]) -> Iterator[str]:
    """`csrnews serve` (the search API, the real security headers)."""
    output, index = built
    yield from _serve(
        [sys.executable, "-m", "csrnews", "serve", "--output", str(output), "--index",
         str(index), "--workers", "1", "--quiet", "--port"]
    )  # fmt: skip


@pytest.fixture(scope="module")
def static_host(built: tuple[Path, Path]) -> Iterator[str]:
    """The built folder on Python's own static file server: no csrnews process at all."""
    output, _ = built
    yield from _serve(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(output)]
    )


def _page(browser: object, size: str) -> object:
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _first_result_in_view(page: object) -> None:
    box = page.locator("#search-results .hit").first.bounding_box()  # type: ignore[attr-defined]
    height = page.viewport_size["height"]  # type: ignore[attr-defined]
    assert box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 60) <= height, (
        box,
        height,
    )
    assert page.evaluate("window.scrollY") == 0  # type: ignore[attr-defined]


def _open_filters(page: object) -> None:
    if not page.locator("#search-filters").get_attribute("open") == "":  # type: ignore[attr-defined]
        page.click("#search-filters > summary")  # type: ignore[attr-defined]


def _static_hits(page: object) -> None:
    """Wait for the static search's first hits (or its giving up, named in the failure).

    On a quiet machine they come within seconds; on a loaded one Chromium compiles Pagefind's
    WebAssembly and loads its chunks slowly, hence the long limit.
    """
    shown = "document.querySelector('#search-results .hit') !== null"
    gave_up = "document.body.classList.contains('search-unavailable')"
    wait_until(page, f"{shown} || {gave_up}", 60)
    status = page.inner_text("#search-status")  # type: ignore[attr-defined]
    assert page.evaluate(shown), f"no hits; the page says: {status}"  # type: ignore[attr-defined]


def _hit_count(page: object) -> int:
    return page.locator("#search-results .hit").count()  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_results_first_and_facets_filter(
    browser: object, served: str, size: str, artifacts_dir: Path
) -> None:
    page = _page(browser, size)
    page.goto(f"{served}/search/?q=environment")  # type: ignore[attr-defined]
    page.wait_for_selector("#search-results .hit")  # type: ignore[attr-defined]
    _first_result_in_view(page)
    assert page.locator("input[type=search]").count() == 1  # one search box  # type: ignore[attr-defined]
    before = _hit_count(page)
    status = page.inner_text("#search-status")  # type: ignore[attr-defined]
    _open_filters(page)
    year = page.locator("#search-facets [data-filter=year]").first  # type: ignore[attr-defined]
    value, count = year.get_attribute("data-value"), int(year.locator(".facet-count").inner_text())
    assert count < before
    year.click()
    wait_until(page, f"document.querySelectorAll('#search-results .hit').length === {count}")
    assert f"year={value}" in page.url  # type: ignore[attr-defined]
    assert page.inner_text("#search-status") != status  # type: ignore[attr-defined]
    metas = page.locator("#search-results .hit-meta").all_inner_texts()  # type: ignore[attr-defined]
    assert all(text.startswith(str(value)) for text in metas)
    _open_filters(page)
    pressed = page.locator(f"#search-facets [data-filter=year][data-value='{value}']")  # type: ignore[attr-defined]
    assert pressed.get_attribute("aria-pressed") == "true"
    # the languages by name, the years newest first
    langs = page.locator("#search-facets [data-filter=lang] .facet-label").all_inner_texts()  # type: ignore[attr-defined]
    assert set(langs) <= {"English", "中文"} and langs
    page.screenshot(path=str(artifacts_dir / f"readers-search-{size}.png"))  # type: ignore[attr-defined]
    assert not page.errors  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_a_typo_gets_a_suggestion_that_finds_stories(
    browser: object, served: str, size: str
) -> None:
    page = _page(browser, size)
    page.goto(f"{served}/search/?q=suply%20chain")  # type: ignore[attr-defined]
    page.wait_for_selector("#search-notice .suggestion a")  # type: ignore[attr-defined]
    assert page.inner_text("#search-notice .suggestion a") == "supply chain"  # type: ignore[attr-defined]
    page.click("#search-notice .suggestion a")  # type: ignore[attr-defined]
    page.wait_for_selector("#search-results .hit")  # type: ignore[attr-defined]
    assert "q=supply+chain" in page.url  # type: ignore[attr-defined]
    _first_result_in_view(page)


def test_unreadable_queries_and_pages_past_the_last_are_explained(
    browser: object, served: str
) -> None:
    page = _page(browser, "wide")
    page.goto(f"{served}/search/?q=supply%20AND")  # type: ignore[attr-defined]
    page.wait_for_selector("#search-notice .notice")  # type: ignore[attr-defined]
    assert "searched for supply instead" in page.inner_text("#search-notice")  # type: ignore[attr-defined]
    assert _hit_count(page) > 0
    page.goto(f"{served}/search/?q=supply&page=999")  # type: ignore[attr-defined]
    page.wait_for_selector("#search-notice .notice")  # type: ignore[attr-defined]
    assert "There is no page 999" in page.inner_text("#search-notice")  # type: ignore[attr-defined]
    assert _hit_count(page) == 0
    page.click("#search-notice .notice a")  # type: ignore[attr-defined]
    page.wait_for_selector("#search-results .hit")  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_a_plain_static_server_answers_english_and_chinese(
    browser: object, static_host: str, size: str, artifacts_dir: Path
) -> None:
    page = _page(browser, size)
    page.goto(f"{static_host}/search/?q=supply%20chain")  # type: ignore[attr-defined]
    _static_hits(page)
    assert "searched in your browser" in page.inner_text("#search-status")  # type: ignore[attr-defined]
    titles = page.locator("#search-results .hit-title").all_inner_texts()  # type: ignore[attr-defined]
    assert any(t.startswith("Shenzhen supply chain forum") for t in titles)
    _first_result_in_view(page)
    # a facet filter: the event type of the forum
    _open_filters(page)
    page.click("#search-facets [data-filter=type][data-value=summit]")  # type: ignore[attr-defined]
    wait_until(page, "location.search.includes('type=summit')")
    page.wait_for_selector("#search-results .hit")  # type: ignore[attr-defined]
    metas = page.locator("#search-results .hit-meta").all_inner_texts()  # type: ignore[attr-defined]
    assert metas and all("Summit & forum" in m for m in metas)

    page.goto(f"{static_host}/search/?q=%E4%BC%81%E4%B8%9A%E7%A4%BE%E4%BC%9A%E8%B4%A3%E4%BB%BB")  # type: ignore[attr-defined]
    _static_hits(page)
    titles = page.locator("#search-results .hit-title").all_inner_texts()  # type: ignore[attr-defined]
    assert "第七届企业社会责任年会在北京召开" in titles
    _open_filters(page)
    page.click("#search-facets [data-filter=lang][data-value=zh]")  # type: ignore[attr-defined]
    wait_until(page, "location.search.includes('lang=zh')")
    page.wait_for_selector("#search-results .hit")  # type: ignore[attr-defined]
    langs = page.locator("#search-results .hit").evaluate_all("els => els.map(e => e.lang)")  # type: ignore[attr-defined]
    assert langs and set(langs) == {"zh"}
    page.screenshot(path=str(artifacts_dir / f"readers-static-zh-{size}.png"))  # type: ignore[attr-defined]
    assert not page.errors  # type: ignore[attr-defined]


def test_the_static_search_runs_under_the_sites_csp(
    browser: object, built: tuple[Path, Path], tmp_path: Path
) -> None:
    """`csrnews serve` without an index answers /api/search with 503: the page falls back to
    the static search, whose WebAssembly the Content-Security-Policy must allow."""
    output, _ = built
    gen = _serve(
        [sys.executable, "-m", "csrnews", "serve", "--output", str(output), "--index",
         str(tmp_path / "no-index"), "--workers", "1", "--quiet", "--port"]
    )  # fmt: skip
    url = next(gen)
    try:
        page = _page(browser, "wide")
        refused: list[str] = []
        page.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )  # type: ignore[attr-defined]
        page.goto(f"{url}/search/?q=memorandum")  # type: ignore[attr-defined]
        _static_hits(page)
        assert "searched in your browser" in page.inner_text("#search-status")  # type: ignore[attr-defined]
        assert not refused, refused
    finally:
        gen.close()
