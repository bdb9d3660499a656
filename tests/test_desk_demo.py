"""`csrnews demo` (what `make demo` runs) says how to open the desk, and its demo user works."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_desk_support import Client

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_demo_prints_the_desk_and_a_demo_only_user_that_can_log_in(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "csrnews", "demo", "--port", str(port),
            "--workdir", str(tmp_path / "demo"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(proc.stdout or []), daemon=True
    )  # keeps the pipe drained
    reader.start()
    try:
        deadline = time.monotonic() + 240
        found = None
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            found = next(
                (
                    m
                    for m in map(re.compile(r"log in as (\S+) with password (\S+)").search, lines)
                    if m
                ),
                None,
            )
            time.sleep(0.5)
        assert found, "".join(lines)
        text = "".join(lines)
        assert f"Editors' desk: http://127.0.0.1:{port}/desk/" in text
        assert "DEMO ONLY" in text and "csrnews desk user add" in text
        client = Client(f"http://127.0.0.1:{port}")
        while time.monotonic() < deadline:
            try:
                answer = client.login(found.group(1), found.group(2))
                break
            except OSError:
                time.sleep(0.5)
        assert answer.status == 302 and answer.location == "/desk/"
        page = client.get("/desk/")
        assert page.status == 200 and "demo-editor" in page.text
        assert (tmp_path / "demo" / "desk" / "users.json").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        reader.join(timeout=5)
        if proc.stdout:
            proc.stdout.close()
