"""A test server's port read back from the socket it listens on, having bound port 0 itself.

Picking a free port (bind to 0, close) and then starting a server on that number is a race:
under pytest-xdist another worker's server can take the number in between, and the test then
fails to start its own or, worse, talks to the other one. A server told `--port 0` binds a
port the kernel chooses; the test reads it back here, from /proc (Linux), whatever the server
logs or does not log (`--quiet`).
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar


def process_tree(pid: int, *, live_only: bool = False) -> list[int]:
    """PID and its descendants, from /proc (a server may listen in a child: `csrnews demo`);
    with ``live_only``, processes that have exited (zombies) are left out."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if live_only and fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process PID (or a process it started) listens on."""
    inodes: set[str] = set()
    for member in process_tree(pid):
        inodes |= _socket_inodes(member)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_listening(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str],
    seconds: float = 60.0,
    output: Callable[[], str] = lambda: "",
) -> int:
    """The port the process listens on, once it does; AssertionError (with `output()`) when it
    exits first or does not listen within `seconds`, or listens on more than one port."""
    deadline = time.monotonic() + seconds
    while True:
        ports = listening_ports(proc.pid)
        if ports:
            assert len(ports) == 1, f"listening on {sorted(ports)}: {output()}"
            return ports.pop()
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode} before listening: {output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not listening after {seconds:g} s: {output()}")
        time.sleep(0.05)


def free_port() -> int:
    """A port free a moment ago: only for a server that cannot bind port 0 itself, through
    `start_on_a_free_port` (another process may take it before the server binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Proc = TypeVar("Proc", bound="subprocess.Popen[bytes] | subprocess.Popen[str]")


def start_on_a_free_port(
    start: Callable[[int], Proc],
    output: Callable[[Proc], str],
    attempts: int = 5,
    seconds: float = 60.0,
) -> tuple[Proc, int]:
    """Start a server that cannot be told port 0 (nginx, redis-server) on a free port, and on
    a new one while it exits with "Address already in use" (the port was taken in between).
    Returns the process once it listens, and its port; `output(proc)` is what it said."""
    attempt = 0
    while True:
        attempt += 1
        port = free_port()
        proc = start(port)
        try:
            listening = wait_listening(proc, seconds, functools.partial(output, proc))
        except AssertionError:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            elif attempt < attempts and "Address already in use" in output(proc):
                continue
            raise
        assert listening == port, f"told port {port}, listening on {listening}"
        return proc, port
