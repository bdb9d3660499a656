"""The whole job against the bundled demo publisher: crawl, build, index, then serve.

Every step runs in a child process in a process group of its own; SIGTERM or SIGINT to the
demo stops the step that runs (its whole group: the server's workers too) and then the demo.
The publisher keeps its port across runs (in WORKDIR/publisher.json), so a second run finds
the same story URLs: nothing new, nothing reported twice.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from csrnews import console
from csrnews.demo.render import DEAD_LINK_PATH
from csrnews.demo.server import DemoServer, render_sources, start_demo_server
from csrnews.desk.demo import demo_user
from csrnews.serve.server import PortInUse, check_port, free_port
from csrnews.story import settings

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 15.0  # a step asked to stop gets this long before it is killed
PUBLISHER_FILE = "publisher.json"


class Stopped(Exception):
    """SIGTERM or SIGINT reached the demo."""


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into Stopped while the demo runs (restored afterwards)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_child(args: list[str]) -> int:
    """`csrnews ARGS` in its own process group; on Stopped the whole group is stopped too."""
    proc = subprocess.Popen([sys.executable, "-m", "csrnews", *args], start_new_session=True)
    try:
        return proc.wait()
    except (Stopped, KeyboardInterrupt):
        _stop_group(proc)
        raise


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to a child's process group, SIGKILL to what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; anything left in its group goes too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def choose_port(host: str, port: int) -> int:
    """PORT when it is free now; else a free port, said plainly (checked before any work)."""
    try:
        check_port(host, port)
        return port
    except PortInUse as exc:
        other = free_port(host)
        console.warn(
            f"port {port} on {host} is not free ({exc.strerror or exc}); the demo will serve on "
            f"port {other} instead (choose one with `csrnews demo --port N`)"
        )
        return other


def start_publisher(work: Path) -> DemoServer:
    """The demo publisher on the port it had last time in this folder (a stable address)."""
    record = work / PUBLISHER_FILE
    try:
        port = int(json.loads(record.read_text(encoding="utf-8"))["port"])
    except (OSError, ValueError, KeyError, TypeError):
        port = 0
    publisher = None
    if port:
        try:
            publisher = start_demo_server(port=port)
        except OSError:
            console.warn(
                f"the demo publisher's port {port} (of the last run) is taken; its stories get "
                "new addresses this time"
            )
    if publisher is None:
        publisher = start_demo_server(port=0)
    record.write_text(json.dumps({"port": int(publisher.url.rsplit(":", 1)[1])}), "utf-8")
    return publisher


def _note_dead_link(report: Path, publisher: DemoServer) -> None:
    """Say that the publisher's dead link is one on purpose, when the crawl names it."""
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        return
    if DEAD_LINK_PATH in text:
        console.info(
            f"note: {publisher.url}{DEAD_LINK_PATH} (HTTP 404) is the demo publisher's deliberate "
            "dead link: a listing links to a story that is gone, to show how a failed page is "
            "reported. Nothing is wrong."
        )


def _run_step(title: str, args: list[str]) -> str:
    """Run one `csrnews` step in a child process; returns "ok" or "failed"."""
    console.info(f"== {title}: csrnews {' '.join(args)}")
    code = _run_child(args)
    if code != 0:
        console.error(f"{title} failed (exit code {code})")
        return "failed"
    return "ok"


def _seed_content(content: Path) -> None:
    """Copy the site's own pages and the demo's top-10 lists into the demo content folder."""
    for sub, source in (
        (settings.PAGES_SUBDIR, settings.PROJECT_ROOT / "content" / settings.PAGES_SUBDIR),
        (settings.TOP10_SUBDIR, settings.DEMO_DIR / settings.TOP10_SUBDIR),
    ):
        if source.is_dir():
            shutil.copytree(source, content / sub, dirs_exist_ok=True)


def run_demo(*, host: str, port: int, workdir: str | os.PathLike[str], serve: bool) -> int:
    """Start the demo publisher, run crawl and build against it, then serve until stopped.

    The serving port is checked first: when it is taken a free one is used (and said).
    SIGTERM or SIGINT stops the running step's whole process group, then the demo (exit 0).
    """
    if serve:
        port = choose_port(host, port)
    try:
        with _stop_on_signals():
            return _run(host, port, Path(workdir), serve)
    except (Stopped, KeyboardInterrupt):
        console.info("demo: stopped")
        return 0


def _run(host: str, port: int, work: Path, serve: bool) -> int:
    content, output, index, state = (work / name for name in ("content", "output", "index", "var"))
    content.mkdir(parents=True, exist_ok=True)
    _seed_content(content)
    report = work / "crawl-report.json"
    publisher = start_publisher(work)
    try:
        console.info(f"demo publisher: {publisher.url}")
        sources = work / "sources.yaml"
        sources.write_text(render_sources(publisher.url), encoding="utf-8")
        crawl = ["crawl", "--sources", str(sources), "--content", str(content)]
        steps = {
            "crawl": _run_step("crawl", [*crawl, "--state", str(state), "--report", str(report)])
        }
        _note_dead_link(report, publisher)
        build = ["build", "--content", str(content), "--output", str(output), "--index", str(index)]
        steps["build"] = _run_step("build", build)
    finally:
        publisher.stop()

    done = ", ".join(f"{name} {status}" for name, status in steps.items())
    console.summary(f"demo: {done}; content in {content}, site in {output}")
    if "failed" in steps.values():
        return 1
    if not serve:
        return 0
    args = [
        "serve",
        "--output",
        str(output),
        "--index",
        str(index),
        "--host",
        host,
        "--port",
        str(port),
        *_desk_args(work, content, host, port),
    ]
    return _run_child(args)


def _desk_args(work: Path, content: Path, host: str, port: int) -> list[str]:
    """Serve the editors' desk too, with a user made for this demo only; say how to log in."""
    desk_dir = work / "desk"
    name, password = demo_user(desk_dir)
    console.summary(
        f"Editors' desk: http://{host}:{port}/desk/ - log in as {name} with password "
        f"{password}\n  (DEMO ONLY: this user lives in {desk_dir} and gets a new password each "
        "run; for a real site add users with `csrnews desk user add NAME`)"
    )
    return [
        "--desk",
        "--content",
        str(content),
        "--desk-dir",
        str(desk_dir),
        "--root",
        str(work / "nightly"),
    ]
