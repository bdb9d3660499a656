"""`csrnews serve --workers N` on gunicorn: real processes, sockets and signals.

Which worker answered a request is read from /proc: the server side of the client's TCP
connection is a socket inode that only the accepting worker holds among its fds.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from csrnews.search import update_index

from tests.conftest import ROOT, run_cli
from tests.ports import wait_listening
from tests.test_search_index import STORIES, _write

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads worker processes from Linux's /proc"
)


@dataclass
class Site:
    output: Path
    index: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A tiny built site and an index of the test stories (as in test_search_api)."""
    base = tmp_path_factory.mktemp("workers")
    content, output, index = base / "content", base / "output", base / "index"
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    output.mkdir()
    (output / "index.html").write_text("<!doctype html><title>home</title>", encoding="utf-8")
    return Site(output, index)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _children(pid: int) -> set[int]:
    """The live (not zombie) child processes of PID."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
                found.add(int(entry))
    return found


def _wait_for(predicate: Callable[[], bool], seconds: float = 10.0, message: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{message} not met within {seconds} s")


def _serve_args(site: Site, port: int, *extra: str) -> list[str]:
    """`csrnews serve` arguments for SITE on 127.0.0.1:PORT."""
    where = ["--output", str(site.output), "--index", str(site.index)]
    return ["serve", *where, "--host", "127.0.0.1", "--port", str(port), *extra]


class Server:
    """`python -m csrnews serve` in a subprocess on a loopback port it chose (`--port 0`)."""

    started = itertools.count()

    def __init__(
        self,
        site: Site,
        tmp_path: Path,
        *extra: str,
        port: int | None = None,
        script: str | None = None,
    ) -> None:
        self._port = port
        self.stderr_path = tmp_path / f"serve-{next(Server.started)}.err"
        command = ["-m", "csrnews", *_serve_args(site, port or 0, "--threads", "2", *extra)]
        if script is not None:  # a Python SCRIPT given the site's folders and the port
            command = ["-c", script, str(site.output), str(site.index), str(port or 0)]
        with self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, *command],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, "CSRNEWS_SEARCH_CACHE": "0"},
                start_new_session=True,  # its own process group, as in a terminal
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    @property
    def port(self) -> int:
        """The port it listens on (waiting until it does)."""
        if self._port is None:
            self._port = wait_listening(self.proc, 60, lambda: self.stderr)
        return self._port

    def search(self, q: str = "forum") -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", f"/api/search?q={q}")
            response = conn.getresponse()
            assert response.status == 200
            return json.loads(response.read())
        finally:
            conn.close()

    def wait_up(self, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"serve exited early: {self.stderr}"
            try:
                self.search()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not answer within {seconds} s: {self.stderr}")

    def workers(self) -> set[int]:
        return _children(self.proc.pid)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture()
def servers(site: Site, tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test starts; whatever is left running is stopped (and its workers killed)."""
    started: list[Server] = []
    yield started
    for server in started:
        workers = server.workers() if server.proc.poll() is None else set()
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _start(servers: list[Server], site: Site, tmp_path: Path, *extra: str) -> Server:
    server = Server(site, tmp_path, *extra)
    servers.append(server)
    server.wait_up()
    if "--workers" in extra:  # gunicorn starts them one after the other
        wanted = int(extra[extra.index("--workers") + 1])
        _wait_for(lambda: len(server.workers()) == wanted, message=f"{wanted} workers")
        # and each has loaded the site and its index: these tests are about serving workers (a
        # signal to one just forked: test_a_stop_signal_to_a_worker_just_forked_stops_it)
        _wait_for(
            lambda: server.stderr.count(" ready") >= wanted,
            seconds=30,
            message=f"{wanted} workers ready",
        )
    return server


def _socket_inode(local_port: int, remote_port: int) -> str:
    """The inode of the TCP socket LOCAL_PORT -> REMOTE_PORT on loopback (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == local_port and (
            int(remote.split(":")[1], 16) == remote_port
        ):
            return inode
    raise AssertionError(f"no socket {local_port} -> {remote_port} in /proc/net/tcp")


def _holder(inode: str, pids: set[int]) -> int | None:
    """Which of PIDS has the socket INODE open."""
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _answering_pids(server: Server, connections: int = 12) -> set[int]:
    """Open keep-alive connections, search on each and find which worker accepted each one."""
    workers = server.workers()
    conns = []
    found = set()
    try:
        for _ in range(connections):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/api/search?q=forum")
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["total"] >= 1
            conns.append(conn)
            client_port = conn.sock.getsockname()[1]
            inode = _socket_inode(server.port, client_port)
            holder = _holder(inode, workers)
            assert holder is not None, f"no worker of {workers} holds the connection"
            found.add(holder)
    finally:
        for conn in conns:
            conn.close()
    return found


def _all_workers_answer(server: Server, seconds: float = 10.0) -> set[int]:
    """Search until every worker has answered (a new worker needs a moment to start)."""
    workers = server.workers()
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while seen != workers and time.monotonic() < deadline:
        seen |= _answering_pids(server)
        if seen != workers:
            time.sleep(0.1)
    assert seen == workers, f"answered by {seen}, workers {workers}"
    return seen


def test_two_workers_share_the_port_and_both_answer(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    server = _start(servers, site, tmp_path, "--workers", "2")
    workers = server.workers()
    assert len(workers) == 2
    assert len(_all_workers_answer(server)) == 2
    assert "with 2 workers" in server.stderr and f"127.0.0.1:{server.port}" in server.stderr
    assert "Traceback" not in server.stderr


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_service_goes_on(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    server = _start(servers, site, tmp_path, "--workers", "2")
    first = server.workers()
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    assert server.search()["total"] >= 1  # the other worker answers meanwhile
    _wait_for(
        lambda: len(server.workers()) == 2 and victim not in server.workers(),
        message="a replacement worker",
    )
    assert server.proc.poll() is None
    assert len(_all_workers_answer(server)) == 2  # the new worker answers too
    assert f"(pid:{victim}) was killed by SIGKILL from outside" in server.stderr  # which one


# `csrnews serve --workers 1 --threads 2` with a grace period of 1 s whose workers ignore
# SIGTERM once they serve (as a worker stuck in a long request would outlive the grace period).
_DEAF_TO_SIGTERM = """
import signal, sys
from csrnews.serve.server import ServeOptions, serve
from csrnews.serve.wsgi import make_app

def post_worker_init(worker):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker.log.info("Worker %s ready", worker.pid)

output, index, port = sys.argv[1:4]
app = lambda: make_app(output, index)
extra = {"graceful_timeout": 1, "post_worker_init": post_worker_init}
serve(ServeOptions("127.0.0.1", int(port), 1, 2, app, extra=extra))
"""


def test_a_worker_killed_is_logged_as_what_happened(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    """A SIGKILL from outside (the OOM killer, an operator) is reported as such; the arbiter's
    own SIGKILL of a worker that outlived the grace period after SIGTERM says so, where gunicorn
    said "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?" for both."""
    server = Server(site, tmp_path, script=_DEAF_TO_SIGTERM)
    servers.append(server)
    server.wait_up()
    _wait_for(lambda: " ready" in server.stderr, message="the worker ready")
    (victim,) = server.workers()
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: f"(pid:{victim})" in server.stderr, message="the killed worker reaped")
    assert f"Worker (pid:{victim}) was killed by SIGKILL from outside (out of memory?)" in (
        server.stderr
    )
    _wait_for(lambda: server.stderr.count(" ready") == 2, seconds=30, message="its replacement")
    (stuck,) = server.workers()
    assert server.stop() == 0
    assert re.search(
        rf"Worker \(pid:{stuck}\) did not stop within 1\.\d s of SIGTERM and was killed "
        r"\(SIGKILL\)",
        server.stderr,
    ), server.stderr
    assert "Perhaps out of memory" not in server.stderr
    assert not _alive(stuck)


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_to_the_parent_stops_everything_with_exit_0(
    servers: list[Server], site: Site, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    server = _start(servers, site, tmp_path, "--workers", "2")
    workers = server.workers()
    assert len(workers) == 2
    if stop_signal == signal.SIGINT:
        os.killpg(server.proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
    else:
        server.proc.send_signal(stop_signal)
    assert server.proc.wait(timeout=15) == 0
    assert not any(_alive(pid) for pid in workers)
    assert "Traceback" not in server.stderr and "error" not in server.stderr.lower()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=2):
        pass  # the socket is closed


def test_stop_signals_at_any_moment_never_hang_a_worker() -> None:
    """Ctrl-C gives a worker SIGINT and, from the arbiter, SIGQUIT at once: the second one at
    each line of the first one's handling, and a SIGQUIT at each line of the worker's handing a
    connection to its thread pool, stop it and leave its pool joinable, with the stop signals
    blocked from then on (and in the pool's threads). gunicorn's own gthread worker waited for
    a lock of the pool it held itself, until the arbiter's SIGKILL 5 s later (the test above
    failed so now and then)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.signal_points"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("stopped at each of") == 2, result.stdout
    assert "the pool's threads block the stop signals" in result.stdout


# `csrnews serve --workers 1 --threads 2` whose first worker gets SIGQUIT as soon as it is
# forked, before it has put its own signal handlers in place (gunicorn's post_fork hook runs in
# the new worker then): as the arbiter's SIGQUIT after a Ctrl-C can come to a worker just forked.
_QUIT_AT_FORK = """
import os, signal, sys
from csrnews.serve.server import ServeOptions, serve
from csrnews.serve.wsgi import make_app

def post_fork(arbiter, worker):
    if worker.age == 1:
        os.kill(os.getpid(), signal.SIGQUIT)

output, index, port = sys.argv[1:4]
app = lambda: make_app(output, index)
serve(ServeOptions("127.0.0.1", int(port), 1, 2, app, extra={"post_fork": post_fork}))
"""


def test_a_stop_signal_to_a_worker_just_forked_stops_it(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    """A signal that comes before the worker's handlers are in place is not lost: the worker
    found it waiting and stopped before loading the site; gunicorn's own worker had let the
    arbiter's handlers (inherited with the fork) take it, and served on, to be killed 5 s after
    a Ctrl-C."""
    server = Server(site, tmp_path, script=_QUIT_AT_FORK)
    servers.append(server)
    _wait_for(lambda: "Booting worker with pid" in server.stderr, message="a first worker")
    first = int(server.stderr.split("Booting worker with pid: ")[1].split()[0])
    _wait_for(
        lambda: f"Worker exiting (pid: {first})" in server.stderr,
        message=f"the first worker ({first}) stops",
    )
    assert f"Worker {first} ready" not in server.stderr
    server.wait_up()  # its replacement serves
    assert server.stop() == 0
    assert "Traceback" not in server.stderr


@pytest.mark.slow
def test_workers_exit_when_the_parent_dies(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    server = _start(servers, site, tmp_path, "--workers", "2")
    workers = server.workers()
    server.proc.kill()
    server.proc.wait()
    _wait_for(lambda: not any(_alive(pid) for pid in workers), message="orphaned workers exit")


@pytest.mark.slow
def test_workers_killed_again_and_again_are_replaced_each_time(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    server = _start(servers, site, tmp_path, "--workers", "2")
    killed: set[int] = set()

    def replaced() -> bool:
        now = server.workers()
        return len(now) == 2 and not now & killed

    for _round in range(3):
        workers = server.workers()
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        killed |= workers
        _wait_for(replaced, message="two new workers")
        assert server.proc.poll() is None
        assert server.search()["total"] >= 1
    assert len(_all_workers_answer(server)) == 2


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_a_clear_error_before_any_fork(site: Site, workers: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(*_serve_args(site, port, "--workers", workers), timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Address already in use" in result.stderr and "Traceback" not in result.stderr


def test_one_worker_answers_everything_and_stops_cleanly(
    servers: list[Server], site: Site, tmp_path: Path
) -> None:
    server = _start(servers, site, tmp_path, "--workers", "1")
    workers = server.workers()
    assert len(workers) == 1
    assert _answering_pids(server, connections=4) == workers
    assert server.stop() == 0
    assert not any(_alive(pid) for pid in workers)


@pytest.mark.parametrize("bad", ["0", "-1", "many"])
def test_bad_worker_counts_are_refused(site: Site, bad: str) -> None:
    result = run_cli("serve", "--output", str(site.output), "--workers", bad, timeout=30)
    assert result.returncode == 2
    assert "Invalid value for '--workers'" in result.stderr
