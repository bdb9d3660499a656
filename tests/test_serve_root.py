"""`csrnews serve` as a first-time user meets it: a warning when nothing is built, and after
a nightly the live release (`--root ROOT`) rather than an empty `output/`.

Real processes: `csrnews nightly --no-crawl` publishes a release, `csrnews serve` runs
gunicorn on a free loopback port and is stopped with SIGINT, as Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.golden_site import SAMPLES
from tests.ports import wait_listening


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _serve(cwd: Path, *args: str) -> tuple[int, str, dict[str, tuple[int, bytes]]]:
    """Run `csrnews serve ARGS` in CWD, GET / and /api/search?q=forum, stop it with SIGINT.

    Returns the exit code, what it wrote on stderr and the two answers.
    """
    err = cwd / f"serve-{len(list(cwd.glob('serve-*.err')))}.err"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "csrnews",
                "serve",
                "--port",
                "0",
                "--workers",
                "1",
                *args,
            ],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    answers: dict[str, tuple[int, bytes]] = {}
    try:
        base = f"http://127.0.0.1:{wait_listening(proc, 60, err.read_text)}"
        deadline = time.monotonic() + 60
        while True:
            try:
                answers["/"] = _get(base + "/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(err.read_text()) from None
                time.sleep(0.1)
        answers["/api/search"] = _get(base + "/api/search?q=forum")
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    said = err.read_text()
    # --port 0: the address announced is the one it listens on, not port 0
    assert f" at {base}/ with 1 workers" in said, said
    return code, said, answers


def test_serve_with_nothing_built_says_so(tmp_path: Path) -> None:
    code, stderr, answers = _serve(tmp_path, "--root", str(tmp_path / "no-nightly"))
    assert code == 0, stderr
    assert "warning: no built site in output" in stderr
    assert "warning: no search index in index" in stderr
    assert answers["/"][0] == 404 and answers["/api/search"][0] == 503
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_serve_root_serves_the_nightlys_live_release(tmp_path: Path) -> None:
    content, root = tmp_path / "content", tmp_path / "site-root"
    shutil.copytree(SAMPLES, content)
    published = run_cli("nightly", "--no-crawl", "--root", str(root), "--content", str(content))
    assert published.returncode == 0, published.stdout + published.stderr
    live = (root / "current").resolve()

    # In a folder with no output/ or index/ of its own: --root is where the site is.
    code, stderr, answers = _serve(tmp_path, "--root", str(root))
    assert code == 0, stderr
    assert f"serving the live release of {root}" in stderr and live.name in stderr
    assert "no built site" not in stderr and "no search index" not in stderr
    status, home = answers["/"]
    assert status == 200 and home == (live / "site" / "index.html").read_bytes()
    status, body = answers["/api/search"]
    assert status == 200 and json.loads(body)["total"] > 0

    # --output given: that folder is served, not the release.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "index.html").write_text("<title>other</title>", encoding="utf-8")
    code, stderr, answers = _serve(tmp_path, "--root", str(root), "--output", "other")
    assert code == 0, stderr
    assert "live release" not in stderr
    assert answers["/"] == (200, b"<title>other</title>")
