"""The built site in a real browser: home, a story, an organisation page, a feed; screenshots."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from csrnews.site.build import build_site
from tests.golden_site import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("browser-site") / "output"
    build_site(SAMPLES, out, quiet=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("width,height,name", [(375, 740, "phone"), (1280, 900, "desktop")])
def test_reader_walks_the_site(
    browser, site_url: str, artifacts_dir: Path, width: int, height: int, name: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    outside: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(site_url)
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site_url}/")
    assert page.locator("main h1").count() == 1
    page.keyboard.press("Tab")  # keyboard users land on the skip link first
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    assert page.locator(".story").count() == 12
    # No horizontal scrolling at this width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts_dir / f"site-home-{name}.png"), full_page=True)

    # The language filter (keyboard-operable buttons) narrows the list to Chinese stories.
    page.locator('button[data-lang-filter="zh"]').focus()
    page.keyboard.press("Enter")
    assert page.locator(".story:visible").count() == 3
    page.locator('button[data-lang-filter=""]').click()
    assert page.locator(".story:visible").count() == 12

    page.get_by_role("link", name="Green supply chain summit opens in Shenzhen").click()
    page.wait_for_url("**/news/2024/green-supply-chain-summit-opens-in-shenzhen/")
    assert page.locator("h1").inner_text() == "Green supply chain summit opens in Shenzhen"
    assert page.locator("a.original-link").get_attribute("href").startswith("https://")
    page.screenshot(path=str(artifacts_dir / f"site-story-{name}.png"), full_page=True)

    page.locator(".facts").get_by_role("link", name="amfori").click()
    page.wait_for_url("**/org/amfori/")
    assert page.locator("h1").inner_text() == "amfori"
    assert page.locator(".story").count() == 5
    page.screenshot(path=str(artifacts_dir / f"site-org-{name}.png"), full_page=True)

    feed_href = page.locator(".feed-link a").first.get_attribute("href")
    response = page.request.get(f"{site_url}{feed_href}")
    assert response.ok and "<feed" in response.text() and "amfori" in response.text()
    assert not errors, errors
    assert not outside, f"external requests: {outside}"
    context.close()


_FONTS = """() => {
  const face = (selector) => {
    const element = document.querySelector(selector);
    return element ? getComputedStyle(element).fontFamily : null;
  };
  return {
    enLabel: face('li.story[data-lang="en"] .story-event'),
    zhLabel: face('li.story[data-lang="zh"] .story-event'),
    zhTitle: face('li.story[data-lang="zh"] .story-title'),
    enTitle: face('li.story[data-lang="en"] .story-title'),
    header: face('.site-header nav a'),
    footer: face('.site-footer p'),
    eventDates: [...document.querySelectorAll('.event-date')].map(
      (e) => getComputedStyle(e).fontFamily),
    chrome: [...document.querySelectorAll('.site-header, .site-footer, .skip')].map(
      (e) => e.closest('[lang]').lang),
  };
}"""


def test_english_labels_look_alike_in_chinese_items_and_pages(browser, site_url: str) -> None:
    """The site's own English (labels, dates, header, footer) is set in the English face also
    within a Chinese story's list item, events row or page; the Chinese text in the Chinese one,
    and screen readers are told which is which (lang)."""
    page = browser.new_page()
    page.goto(f"{site_url}/")
    home = page.evaluate(_FONTS)
    assert home["zhLabel"] and home["zhLabel"] == home["enLabel"], home
    assert home["zhTitle"] != home["enTitle"] and "CJK" in home["zhTitle"], home
    page.goto(f"{site_url}/events/")
    events = page.evaluate(_FONTS)
    assert len(events["eventDates"]) > 2 and len(set(events["eventDates"])) == 1, events
    assert events["eventDates"][0] == home["enLabel"], events
    page.goto(f"{site_url}/news/2024/zh-3f1a2b4c5d/")
    story = page.evaluate(_FONTS)
    assert page.evaluate("document.documentElement.lang") == "zh"
    assert story["chrome"] == ["en", "en", "en"], story
    assert (story["header"], story["footer"]) == (home["header"], home["footer"]), story
    page.close()
