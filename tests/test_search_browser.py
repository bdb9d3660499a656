"""The search page in a real browser, served by `csrnews serve` (waitress) with /api/search."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.ports import wait_listening
from tests.test_search_index import STORIES, _write

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_until(page: object, expression: str, seconds: float = 10.0) -> None:
    """page.wait_for_function without eval: `csrnews serve`'s CSP refuses eval (as it should),
    and Playwright's wait_for_function evaluates its string with it. Polls page.evaluate."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {expression}")
        page.wait_for_timeout(50)  # type: ignore[attr-defined]


@dataclass
class Served:
    url: str
    output: Path


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`csrnews serve` on a free port, over a site and index built from the test stories."""
    base = tmp_path_factory.mktemp("served")
    content, output, index = base / "content", base / "output", base / "index"
    for row in STORIES:
        _write(content, row)
    built = run_cli(
        "build", "--content", str(content), "--output", str(output), "--index", str(index)
    )
    assert built.returncode == 0, built.stderr
    assert (output / "search" / "index.html").exists()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csrnews",
            "serve",
            "--output",
            str(output),
            "--index",
            str(index),
            "--port",
            "0",
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        url = f"http://127.0.0.1:{wait_listening(proc, 60)}"
        for _ in range(100):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield Served(url, output)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def test_typing_shows_results_and_facets_narrow_them(
    browser, served_site: Served, artifacts_dir: Path
) -> None:
    page = browser.new_page()
    page.goto(f"{served_site.url}/search/")
    page.wait_for_selector("#search-results .hit")  # the empty query lists everything
    page.fill("#search-form input[name=q]", "supply chain")
    wait_until(
        page, "document.getElementById('search-status').textContent.includes('supply chain')"
    )
    titles = page.locator("#search-results .hit-title").all_inner_texts()
    assert titles[0].startswith("Shenzhen supply chain forum")
    assert "q=supply+chain" in page.url  # the query is kept in the URL

    page.fill("#search-form input[name=q]", "")
    wait_until(page, "document.querySelectorAll('#search-results .hit').length >= 5")
    before = page.locator("#search-results .hit").count()
    page.click("#search-facets [data-facet=year] [data-value='2018']")
    wait_until(page, f"document.querySelectorAll('#search-results .hit').length < {before}")
    years = page.locator("#search-results .hit-meta").all_inner_texts()
    assert years and all(text.startswith("2018") for text in years)
    assert "year=2018" in page.url
    page.screenshot(path=str(artifacts_dir / "search-facet.png"), full_page=True)

    page.go_back()  # the back button undoes the facet
    wait_until(page, f"document.querySelectorAll('#search-results .hit').length === {before}")


def test_misspelling_offers_a_suggestion(browser, served_site: Served) -> None:
    page = browser.new_page()
    page.goto(f"{served_site.url}/search/?q=suply%20chian")
    page.wait_for_selector("#search-notice .suggestion a")
    page.click("#search-notice .suggestion a")
    page.wait_for_selector("#search-results .hit")
    assert page.locator("#search-results .hit-title").first.inner_text().startswith("Shenzhen")


def test_on_a_static_host_without_a_static_index_the_page_says_so(
    browser, served_site: Served, tmp_path: Path
) -> None:
    """A copy of the site without its static search (built with --no-static-search): the
    page says search is not available here (tests/test_readers_browser.py: with it)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    import shutil

    output = tmp_path / "site"
    shutil.copytree(served_site.output, output, ignore=shutil.ignore_patterns("pagefind"))
    handler = functools.partial(Quiet, directory=str(output))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as static:
        thread = threading.Thread(target=static.serve_forever, daemon=True)
        thread.start()
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{static.server_address[1]}/search/?q=forum")
            wait_until(
                page,
                "document.getElementById('search-status').textContent"
                ".includes('no search service and no static search index')",
            )
        finally:
            static.shutdown()
