"""A real redis-server on a free loopback port (once a session) and helpers for cluster tests."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.ports import start_on_a_free_port

REDIS_SERVER = os.environ.get("CSRNEWS_REDIS_SERVER", "redis-server")


@dataclass
class RedisServer:
    """A redis-server process of this test session."""

    port: int
    proc: subprocess.Popen[bytes]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """redis-server on loopback, no persistence; skipped with a reason when not installed."""
    exe = shutil.which(REDIS_SERVER)
    if exe is None:
        pytest.skip(f"{REDIS_SERVER} not found (apt-get install redis-server); .ci/run installs it")
    program: str = exe
    folder = tmp_path_factory.mktemp("redis")
    log_path = folder / "redis.log"

    def start(port: int) -> subprocess.Popen[bytes]:
        argv = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        with log_path.open("wb") as log:  # the child keeps its own copy
            return subprocess.Popen(
                [*argv, "no", "--dir", str(folder), "--databases", "4"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    # redis-server cannot be told port 0 (that turns TCP off): a free port, and another if
    # it was taken in between (pytest-xdist's other workers start servers too)
    proc, port = start_on_a_free_port(start, lambda _proc: log_path.read_text(errors="replace"))
    server = RedisServer(port, proc)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {log_path.read_text()}") from None
            time.sleep(0.05)
    try:
        yield server
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """An empty database of the session's redis-server."""
    import redis

    client = redis.Redis.from_url(redis_server.url())
    client.flushdb()
    client.close()
    yield redis_server.url()


@pytest.fixture()
def rdb(redis_url: str) -> Iterator[Any]:
    """A client of that database."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class Processes:
    """csrnews subprocesses a test started; every one still running is killed at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[str]] = []
        self.names: dict[int, str] = {}  # pid -> the name its output files have

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        with (
            (self.folder / f"{name}.out").open("w") as out,
            (self.folder / f"{name}.err").open("w") as err,
        ):  # the child keeps its own copies of the descriptors
            proc = subprocess.Popen(
                [sys.executable, "-m", "csrnews", *args],
                cwd=ROOT,
                stdout=out,
                stderr=err,
                text=True,
            )
        self.started.append(proc)
        self.names[proc.pid] = name
        return proc

    def output(self, name: str) -> str:
        return (self.folder / f"{name}.out").read_text() + (self.folder / f"{name}.err").read_text()

    def wait(self, proc: subprocess.Popen[str], timeout: float = 180) -> int:
        return proc.wait(timeout=timeout)

    def kill_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture()
def procs(tmp_path: Path) -> Iterator[Processes]:
    """Start csrnews subprocesses whose output goes to files in the test's folder."""
    folder = tmp_path / "logs"
    folder.mkdir()
    keeper = Processes(folder)
    try:
        yield keeper
    finally:
        keeper.kill_all()


def wait_for(predicate: Any, timeout: float, what: str, every: float = 0.05) -> None:
    """Poll until predicate() is true; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


class ScriptSets:
    """The SET commands Redis's scripts run on keys under `prefix`, as Redis's MONITOR
    reports them (every command, none missed, in the order Redis ran them), on a connection
    of its own read by a thread; `with ScriptSets(server, prefix) as sets:` then
    `sets.seen`: (key, value) pairs, all of them once the block is left."""

    END = b"csrnews-tests:monitor-end"

    def __init__(self, server: RedisServer, prefix: str) -> None:
        self.server = server
        self.pattern = re.compile(
            rb'^\+[0-9.]+ \[[0-9]+ lua\] "SET" "('
            + re.escape(prefix.encode())
            + rb'[^"]*)" "([^"]*)"'
        )
        self.seen: list[tuple[str, str]] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._ended = threading.Event()

    def __enter__(self) -> ScriptSets:
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(b"MONITOR\r\n")
        lines = sock.makefile("rb")
        assert lines.readline() == b"+OK\r\n"  # from here on, every command is reported
        sock.settimeout(None)
        self._sock = sock
        self._thread = threading.Thread(target=self._read, args=(lines,), daemon=True)
        self._thread.start()
        return self

    def _read(self, lines: Any) -> None:
        try:
            for line in lines:
                found = self.pattern.match(line)
                if found:
                    self.seen.append((found[1].decode(), found[2].decode()))
                elif self.END in line:
                    self._ended.set()
        except (OSError, ValueError):  # the connection closed by __exit__
            pass
        finally:
            lines.close()

    def __exit__(self, *exc: object) -> None:
        import redis

        assert self._sock is not None and self._thread is not None
        client = redis.Redis(port=self.server.port)
        client.echo(self.END)  # once the reader sees it, it has seen every command before it
        client.close()
        ended = self._ended.wait(timeout=30)
        self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        self._sock.close()
        if not ended and exc[0] is None:
            raise AssertionError("MONITOR did not report the end marker in 30 s")
