"""The site under its Content-Security-Policy in a real browser, served by `csrnews serve`.

The demo publisher is crawled and built (the session's `demo_site`), served by the project's
serve path, and walked in Chromium: every page must work with the CSP that `csrnews serve`
sends (scripts and styles from the site's own files only, no `unsafe-inline`), with no
console error, no page error and no CSP violation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from csrnews.nightly.status import status_document, write_status_page
from tests.conftest import ROOT, DemoSite
from tests.ports import wait_listening

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Recorded in the page before any of its own scripts run (the init script is not subject to
# the page's CSP): every violation the browser reports.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture(scope="module")
def served(demo_site: DemoSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`csrnews serve` over the demo site, with a status page written into a copy of it."""
    import shutil

    base = tmp_path_factory.mktemp("csp")
    output = base / "site"
    shutil.copytree(demo_site.output, output, symlinks=True)
    history = {
        "sources": {"Demo Weekly": {"last_status": "ok", "last_success": "2026-01-01T00:00:00Z"}}
    }
    doc = status_document(history, run_id="r1", outcome="partial", now=time.time(), stories_total=3)
    doc["quarantined"] = [{"path": "news/2018/broken.md", "reason": "no Title"}]
    write_status_page(output, doc)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csrnews",
            "serve",
            "--output",
            str(output),
            "--index",
            str(demo_site.index),
            "--port",
            "0",
            "--workers",
            "1",
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        url = f"http://127.0.0.1:{wait_listening(proc, 60)}"
        for _ in range(200):
            assert proc.poll() is None, f"serve exited with {proc.returncode}"
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


class Watch:
    """Console errors, page errors and CSP violations of one page."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on(  # type: ignore[attr-defined]
            "console",
            lambda msg: (
                self.console.append(f"{msg.type}: {msg.text}")
                if msg.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))  # type: ignore[attr-defined]
        page.on(  # type: ignore[attr-defined]
            "response",
            lambda r: self.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__csp || []")  # type: ignore[attr-defined]
        assert not violations, f"{where}: CSP violations {violations}"
        assert not self.console, f"{where}: console {self.console} {self.errors}"
        assert not self.errors, f"{where}: page errors {self.errors}"


def test_the_site_and_its_search_work_under_the_csp(
    browser: object, served: str, artifacts_dir: Path
) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    watch = Watch(page)

    response = page.goto(f"{served}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    # lang-filter.js ran: it shows the language bar, and its buttons filter the list.
    bar = page.locator(".lang-filter").first
    bar.wait_for(state="visible")
    bar.locator("button[data-lang-filter=zh]").click()
    visible = page.locator("li.story:visible")
    assert visible.count() >= 1
    assert all(
        lang.startswith("zh")
        for lang in visible.evaluate_all("items => items.map(i => i.getAttribute('data-lang'))")
    )
    # The style sheet applied (a file, allowed by style-src 'self').
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    assert page.evaluate("document.styleSheets.length") >= 1
    watch.check("home")

    story = page.locator("li.story a").first.get_attribute("href")
    for path in [story, "/type/", "/org/", "/top10/", "/archives/", "/status/"]:
        page.goto(served + path)
        page.wait_for_load_state("load")
        watch.check(path)
    page.goto(f"{served}/nowhere/")  # the 404 page: its own status is the one error logged
    page.wait_for_load_state("load")
    assert watch.errors == [f"HTTP 404 {served}/nowhere/"] and len(watch.console) == 1
    assert page.locator("main").count() == 1
    watch.console.clear()
    watch.errors.clear()
    assert "broken.md" in page.goto(f"{served}/status/").text()
    assert page.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse") == (
        "collapse"
    )
    watch.check("/status/")

    # search.js ran: the page lists stories, narrows them as the reader types.
    page.goto(f"{served}/search/")
    page.wait_for_selector("#search-results .hit")
    page.fill("#search-form input[name=q]", "forum")
    # (Playwright's wait_for_function evaluates a string: the CSP refuses eval, rightly.)
    expect(page.locator("#search-status")).to_contain_text("forum")
    assert page.locator("#search-results .hit").count() >= 1
    page.screenshot(path=str(artifacts_dir / "search-under-csp.png"), full_page=True)
    watch.check("/search/")
    # A refused query is a message on the page, not a broken page (the browser logs the 400
    # answer of the API as a failed resource: that is the one console line).
    page.fill("#search-form input[name=q]", "*a*e*i*o*u*")
    expect(page.locator("#search-status")).to_contain_text("wildcard")
    assert len(watch.console) == 1 and "400" in watch.console[0]
    assert watch.errors == [f"HTTP 400 {served}/api/search?q=*a*e*i*o*u*"]
    assert not page.evaluate("window.__csp || []")
    context.close()


def test_a_framing_page_cannot_show_the_site(browser: object, served: str) -> None:
    """frame-ancestors 'none' and X-Frame-Options: DENY: the browser refuses to frame it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Framer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f'<!doctype html><iframe id="f" src="{served}/"></iframe>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Framer) as other:
        thread = threading.Thread(target=other.serve_forever, daemon=True)
        thread.start()
        try:
            page = browser.new_page()  # type: ignore[attr-defined]
            page.goto(f"http://localhost:{other.server_address[1]}/")
            page.wait_for_timeout(500)
            frame = page.frame_locator("#f")
            assert frame.locator("main").count() == 0  # the site's page never rendered there
        finally:
            other.shutdown()
