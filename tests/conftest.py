"""Shared fixtures: the demo publisher on a free loopback port, paths, and the browser."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CSRNEWS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Under pytest-xdist (`make test`), a test marked `solo` runs while no other worker runs a
    test: its setup (fixtures of every scope), call and teardown, and the other workers' too."""
    with _turn(item):
        return (yield)


def _turn(item: pytest.Item) -> AbstractContextManager[None]:
    basetemp = item.config.option.basetemp
    if "PYTEST_XDIST_WORKER" not in os.environ or not basetemp:
        return nullcontext()  # one process: every test runs alone
    # each worker's basetemp is a folder of the run's (popen-gw0, popen-gw1, ...)
    return _locked(Path(basetemp).parent, solo=item.get_closest_marker("solo") is not None)


@contextmanager
def _locked(folder: Path, solo: bool) -> Iterator[None]:
    """A readers-writer lock between the workers, the writer (a solo test) first in line.

    Every test holds `tests.lock`, shared, or exclusive for a solo one. The gate, held only
    while taking it, keeps a solo test from waiting forever behind the other workers' next
    tests: once it waits at the gate's other side, they wait at the gate. Locks are let go
    explicitly (a process a test forked and left behind may still hold the files open)."""
    with (folder / "tests-gate.lock").open("a") as gate, (folder / "tests.lock").open("a") as run:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(run, fcntl.LOCK_EX if solo else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(run, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_server() -> Iterator[object]:
    """The bundled demo publisher, started once on port 0 in a thread of this process."""
    from csrnews.demo.server import start_demo_server

    server = start_demo_server(port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def fresh_demo_server() -> Iterator[object]:
    """A demo publisher of the test's own, for tests that change it (add stories, fail a site)."""
    from csrnews.demo.server import start_demo_server

    server = start_demo_server(port=0)
    try:
        yield server
    finally:
        server.stop()


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `csrnews ARGS` in a subprocess (a real process, as an operator would)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "csrnews", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium for Playwright; skip browser tests with a visible reason without it."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"browser test skipped: {CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class SessionChromium:
    """The session's one headless Chromium (and Playwright driver), launched again when a test
    lost it (Chromium crashed or was closed)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.launches = 0
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        """The browser, connected."""
        if self._browser is not None and _answers(self._browser):
            return self._browser
        self._close_browser()
        try:
            self._browser = self._launch()
        except Exception:  # the driver went with it: start Playwright again
            self._stop_playwright()
            self._browser = self._launch()
        return self._browser

    def _launch(self) -> Any:
        if self._playwright is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
        self.launches += 1
        return self._playwright.chromium.launch(
            executable_path=self.path, headless=True, args=CHROMIUM_ARGS
        )

    def _close_browser(self) -> None:
        if self._browser is not None:
            with suppress(Exception):
                self._browser.close()
            self._browser = None

    def _stop_playwright(self) -> None:
        if self._playwright is not None:
            with suppress(Exception):
                self._playwright.stop()
            self._playwright = None

    def close(self) -> None:
        self._close_browser()
        self._stop_playwright()


@pytest.fixture(scope="session")
def session_chromium(chromium_path: str) -> Iterator[SessionChromium]:
    """One Chromium for every browser test of the session (started by the first)."""
    chromium = SessionChromium(chromium_path)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture()
def browser(session_chromium: SessionChromium) -> Iterator[Any]:
    """A headless Chromium driven by Playwright (never Playwright's own browser download): the
    session's one, with no browser context open when the test starts.

    A test makes its own contexts (`browser.new_context(...)`, or `browser.new_page()`, which
    makes one for its page): cookies, storage, cache, service workers and each page's CSP
    belong to a context, so no test sees another's. Every context the test leaves open is
    closed after it, crashed pages and all; a test that loses Chromium itself (a crash,
    `browser.close()`) leaves the next one a new Chromium.
    """
    chromium = session_chromium.get()
    _close_contexts(chromium)
    try:
        yield chromium
    finally:
        _close_contexts(chromium)


def _answers(chromium: Any) -> bool:
    """Chromium is there: a round trip to it (which also lets Playwright hear that it went)."""
    if not chromium.is_connected():
        return False
    try:
        chromium.new_browser_cdp_session().detach()
    except Exception:
        return False
    return True


def _close_contexts(chromium: Any) -> None:
    if not chromium.is_connected():
        return
    for context in list(chromium.contexts):
        with suppress(Exception):
            context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep screenshots and other artifacts (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass
class DemoSite:
    """The demo publisher crawled and built once: content, site and index folders."""

    content: Path
    output: Path
    index: Path

    @property
    def state(self) -> Path:
        """The crawl's state folder (its conditional GET validators: a next crawl is 0 new)."""
        return self.content.parent / "var"


def copy_demo_crawl(demo_site: DemoSite, content: Path, state: Path) -> None:
    """The story files and crawl state of `demo_site`'s crawl, copied to CONTENT and STATE.

    A nightly that starts from them crawls the session's demo publisher incrementally (0 new):
    for tests whose first nightly run is only there to have a live release.
    """
    shutil.copytree(demo_site.content / "news", content / "news")
    shutil.copytree(demo_site.state, state, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def demo_site(demo_server: object, tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    """Crawl the demo publisher with `csrnews crawl`, then `csrnews build` it (once a session)."""
    from csrnews.demo.server import render_sources

    base = tmp_path_factory.mktemp("demo-site")
    sources = base / "sources.yaml"
    sources.write_text(render_sources(demo_server.url), encoding="utf-8")  # type: ignore[attr-defined]
    site = DemoSite(base / "content", base / "output", base / "index")
    shutil.copytree(ROOT / "content" / "pages", site.content / "pages")
    shutil.copytree(ROOT / "csrnews" / "demo" / "top10", site.content / "top10")
    crawl = run_cli(
        "crawl",
        "--sources",
        str(sources),
        "--content",
        str(site.content),
        "--state",
        str(site.state),
        "--delay",
        "0",
        "--quiet",
    )
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    build = run_cli(
        "build",
        "--content",
        str(site.content),
        "--output",
        str(site.output),
        "--index",
        str(site.index),
        "--quiet",
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return site


@contextmanager
def wsgi_server(app: object, threads: int = 4) -> Iterator[str]:
    """A WSGI app on a real waitress server on a free loopback port, in a thread; yields its URL.

    Closing the listening socket can race the server loop's select() (EBADF); that error is
    expected while stopping and only then ignored, and the connections still open are closed.
    """
    import threading

    import waitress.server

    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.task_dispatcher.shutdown(timeout=5)  # let answered requests finish first
        server.close()
        thread.join(timeout=5)
        # A loop ended by that EBADF leaves the connections it had not closed yet in its map:
        # close them here, or the garbage collector finds their sockets open in a later test.
        for channel in list(server._map.values()):
            try:
                channel.close()
            except OSError:
                pass
