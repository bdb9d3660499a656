"""The `browser` fixture: one Chromium a session, each test's contexts its own and closed after
it, a crashed page or a lost Chromium not passed on to the next test (in this order)."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

pytestmark = pytest.mark.browser

_earlier: dict[str, Any] = {}  # what a test leaves for the next (the tests run in file order)


def _kill(browser: Any, kind: str) -> None:
    """SIGKILL Chromium's processes of a kind ("renderer": the pages crash; "browser")."""
    info = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")
    for process in info["processInfo"]:
        if process["type"] == kind:
            os.kill(process["id"], signal.SIGKILL)


def test_a_page_crashes_and_its_context_is_left_open(browser: Any, demo_server: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo_server.url)
    page.evaluate("localStorage.setItem('left', 'behind')")
    context.add_cookies([{"name": "left", "value": "behind", "url": demo_server.url}])
    with page.expect_event("crash", timeout=10_000):
        _kill(browser, "renderer")
    _earlier["browser"] = browser


def test_the_next_test_has_the_same_chromium_and_nothing_of_the_last(
    browser: Any, demo_server: Any
) -> None:
    if "browser" not in _earlier:
        pytest.skip("runs after test_a_page_crashes_and_its_context_is_left_open")
    assert browser is _earlier["browser"] and browser.is_connected()  # one Chromium a session
    assert browser.contexts == []  # the crashed page's context was closed
    page = browser.new_page()
    page.goto(demo_server.url)
    assert page.evaluate("localStorage.getItem('left')") is None
    assert page.context.cookies() == []


def test_a_test_loses_chromium(browser: Any) -> None:
    from playwright.sync_api import Error

    _kill(browser, "browser")  # Chromium crashes
    with pytest.raises(Error):
        browser.new_page()
    _earlier["lost"] = browser


def test_the_next_test_has_a_chromium_again(browser: Any, demo_server: Any) -> None:
    if "lost" not in _earlier:
        pytest.skip("runs after test_a_test_loses_chromium")
    assert browser is not _earlier["lost"] and browser.is_connected()
    page = browser.new_page()
    page.goto(demo_server.url)
    assert page.title()
