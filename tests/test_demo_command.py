"""`csrnews demo` (what `make demo` runs): the whole job against the demo publisher, then serve."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen[str], seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"csrnews demo exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_demo_crawls_builds_and_serves_the_site_with_search(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csrnews",
            "demo",
            "--port",
            str(port),
            "--workdir",
            str(tmp_path / "demo"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
        start_new_session=True,
    )
    try:
        home = _wait_for(f"http://127.0.0.1:{port}/", proc, 240).decode("utf-8")
        assert "<html" in home.lower()
        stories = list((tmp_path / "demo" / "content" / "news").rglob("*.md"))
        demo_stories = [
            p
            for p in (ROOT / "csrnews" / "demo" / "stories").rglob("*.md")
            if p.name != "README.md"
        ]
        assert len(stories) == len(demo_stories)  # every story once (the reprint merged)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/search?q=amfori", timeout=10
        ) as response:
            answer = json.loads(response.read())
        assert answer["total"] > 0
        first = answer["hits"][0]["url"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{first}", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/top10/2018/", timeout=10) as response:
            assert response.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
