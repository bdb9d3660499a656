"""The whole job against the bundled demo publisher: crawl, build, index, then serve."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from csrnews import console, settings
from csrnews.commands import EXIT_NOT_BUILT

logger = logging.getLogger(__name__)


def _run_step(title: str, args: list[str]) -> str:
    """Run one `csrnews` step in a subprocess; returns "ok", "not built" or "failed"."""
    console.info(f"== {title}: csrnews {' '.join(args)}")
    result = subprocess.run([sys.executable, "-m", "csrnews", *args], check=False)
    if result.returncode == EXIT_NOT_BUILT:
        console.warn(f"{title} is not built yet; skipping it")
        return "not built"
    if result.returncode != 0:
        console.error(f"{title} failed (exit code {result.returncode})")
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
    """Start the demo publisher, run crawl and build against it, then serve until Ctrl-C."""
    from demo.server import render_sources, start_demo_server

    work = Path(workdir)
    content, output, index, state = (work / name for name in ("content", "output", "index", "var"))
    content.mkdir(parents=True, exist_ok=True)
    _seed_content(content)

    publisher = start_demo_server(port=0)
    try:
        console.info(f"demo publisher: {publisher.url}")
        sources = work / "sources.yaml"
        sources.write_text(render_sources(publisher.url), encoding="utf-8")
        steps = {
            "crawl": _run_step(
                "crawl",
                [
                    "crawl",
                    "--sources",
                    str(sources),
                    "--content",
                    str(content),
                    "--state",
                    str(state),
                ],
            ),
            "build": _run_step(
                "build",
                [
                    "build",
                    "--content",
                    str(content),
                    "--output",
                    str(output),
                    "--index",
                    str(index),
                ],
            ),
        }
    finally:
        publisher.stop()

    done = ", ".join(f"{name} {status}" for name, status in steps.items())
    console.summary(f"demo: {done}; content in {content}, site in {output}")
    if "failed" in steps.values():
        return 1
    if not serve:
        return 0
    if not (output / "index.html").exists():
        console.warn("no site was built; serving the demo publisher's output folder as it is")
        output.mkdir(parents=True, exist_ok=True)
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
    try:
        result = subprocess.run([sys.executable, "-m", "csrnews", *args], check=False)
    except KeyboardInterrupt:
        return 0
    if result.returncode == EXIT_NOT_BUILT:
        return _serve_static(output, host, port)
    return result.returncode


def _desk_args(work: Path, content: Path, host: str, port: int) -> list[str]:
    """Serve the editors' desk too, with a user made for this demo only; say how to log in."""
    from csrnews.desk.demo import demo_user

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


def _serve_static(output: Path, host: str, port: int) -> int:
    """Fallback until `csrnews serve` exists: serve the folder with the standard library."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    console.warn("search is not built yet; serving the static site without /api/search")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(output))
    try:
        with ThreadingHTTPServer((host, port), handler) as httpd:
            console.info(f"http://{host}:{port}/")
            httpd.serve_forever()
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        console.error(f"cannot serve on {host}:{port}: {exc}")
        return 1
    return 0
