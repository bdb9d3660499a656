"""tests/ports.py: a server's port read back from /proc, and a new port when one was taken."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.ports import start_on_a_free_port, wait_listening

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads listening sockets from Linux's /proc"
)


def _http_server(port: int, folder: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_server_on_port_0_is_found_where_it_listens(tmp_path: Path) -> None:
    (tmp_path / "here.txt").write_text("found", encoding="utf-8")
    proc = _http_server(0, tmp_path, tmp_path / "log")
    try:
        port = wait_listening(proc, 30, (tmp_path / "log").read_text)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/here.txt", timeout=10) as answer:
            assert answer.read() == b"found"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_port_taken_before_the_server_binds_it_is_replaced(tmp_path: Path) -> None:
    """What pytest-xdist's other worker can do between the free port's pick and the bind."""
    log = tmp_path / "log"
    tried: list[int] = []
    with socket.socket() as thief:

        def start(port: int) -> subprocess.Popen[bytes]:
            tried.append(port)
            if len(tried) == 1:  # taken in between
                thief.bind(("127.0.0.1", port))
                thief.listen()
            return _http_server(port, tmp_path, log)

        proc, port = start_on_a_free_port(start, lambda _proc: log.read_text())
        try:
            assert len(tried) == 2 and port == tried[1] != tried[0]
            assert wait_listening(proc, 30) == port
        finally:
            proc.terminate()
            proc.wait(timeout=10)
