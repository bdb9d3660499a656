"""A small pre-fork supervisor: N worker processes share one listening socket, as in gunicorn.

The parent binds the sockets (so a bad address fails before any fork), forks the workers, each
of which builds its own WSGI app and runs waitress on the inherited sockets, and then only
watches: it replaces a worker that dies (giving up when they keep dying right after starting),
and on SIGTERM or SIGINT stops them all (SIGTERM, then SIGKILL after a grace period).

Workers exit by themselves when the parent dies (PR_SET_PDEATHSIG on Linux, else a thread that
watches the parent's pid), ignore SIGINT (a Ctrl-C reaches them through the parent) and stop
quietly on SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType

from csrnews import console

MAX_AUTO_WORKERS = 4
STOP_GRACE_SECONDS = 5.0  # SIGTERM, then SIGKILL for workers still running after this
QUICK_EXIT_SECONDS = 10.0  # a worker that dies sooner than this after its start "failed fast"
QUICK_EXIT_LIMIT = 5  # give up after this many fast failures in a row (at least 2 per worker)
RESPAWN_DELAY_SECONDS = 0.5  # wait before replacing a worker that failed fast
PARENT_CHECK_SECONDS = 1.0  # how often the fallback watchdog looks at the parent's pid
LISTEN_BACKLOG = 1024  # waitress's default

_HANDLED = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGCHLD") if hasattr(signal, n))

WorkerMain = Callable[[list[socket.socket]], None]


def can_fork() -> bool:
    """Whether this platform has os.fork (the pre-fork server needs it)."""
    return hasattr(os, "fork")


def auto_workers() -> int:
    """The usable CPUs (the process's affinity mask where known), at most MAX_AUTO_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_AUTO_WORKERS))


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for HOST:PORT, resolved exactly as waitress resolves them.

    Raises OSError when an address cannot be bound and ValueError for an invalid host or port.
    """
    from waitress.adjustments import Adjustments

    sockets: list[socket.socket] = []
    try:
        for family, socktype, proto, sockaddr in Adjustments(host=host, port=port).listen:
            sock = socket.socket(family, socktype, proto)
            sockets.append(sock)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if os.name != "nt":  # waitress sets it too (Windows' SO_REUSEADDR means another thing)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(LISTEN_BACKLOG)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(number).name}"
        except ValueError:
            return f"killed by signal {number}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _set_parent_death_signal(parent: int) -> None:
    """Get SIGTERM when the parent dies: prctl on Linux, else a thread polling getppid()."""
    installed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            installed = libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) == 0
        except (OSError, AttributeError):
            installed = False
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
    if installed:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="csrnews-parent-watch", daemon=True).start()


def _stop_worker(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # waitress's loop catches it, stops its threads and returns


class Supervisor:
    """The parent of the pre-fork server; `run()` returns the exit code (0 when stopped)."""

    def __init__(self, sockets: list[socket.socket], workers: int, worker_main: WorkerMain) -> None:
        self.sockets = sockets
        self.workers = workers
        self.worker_main = worker_main
        self.children: dict[int, float] = {}  # pid -> monotonic start time
        self.stop_signal: int | None = None
        self.quick_exits = 0
        self.respawn_at = 0.0
        self.last_exit = ""
        self.parent = os.getpid()
        self._wake_r = self._wake_w = -1

    # -- the parent ----------------------------------------------------------------------------

    def run(self) -> int:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        previous = {signum: signal.getsignal(signum) for signum in _HANDLED}
        old_wakeup = signal.set_wakeup_fd(self._wake_w)
        for signum in _HANDLED:
            signal.signal(signum, self._on_signal)
        code = 0
        try:
            code = self._loop()
        finally:
            self._stop_children()
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.close(self._wake_r)
            os.close(self._wake_w)
        return code

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum != signal.SIGCHLD and self.stop_signal is None:
            self.stop_signal = signum

    def _loop(self) -> int:
        while self.stop_signal is None:
            self._reap()
            if self.stop_signal is not None:
                break
            if self.quick_exits >= max(QUICK_EXIT_LIMIT, 2 * self.workers):
                console.error(
                    f"workers keep exiting within {QUICK_EXIT_SECONDS:g} s of starting "
                    f"({self.quick_exits} in a row, the last {self.last_exit}); giving up"
                )
                return 1
            now = time.monotonic()
            if len(self.children) < self.workers and now >= self.respawn_at:
                while len(self.children) < self.workers and self.stop_signal is None:
                    self._spawn()
            timeout = 1.0
            if len(self.children) < self.workers:
                timeout = max(0.0, min(timeout, self.respawn_at - now))
            self._sleep(timeout)
        return 0

    def _sleep(self, timeout: float) -> None:
        """Wait for a signal (the wakeup pipe) or the timeout, then empty the pipe."""
        with contextlib.suppress(InterruptedError):
            select.select([self._wake_r], [], [], timeout)
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while os.read(self._wake_r, 512):
                pass

    def _reap(self) -> None:
        for pid, started in list(self.children.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done == 0:
                continue
            del self.children[pid]
            if self.stop_signal is not None:
                continue  # stopping anyway: no notice, no replacement
            lived = time.monotonic() - started
            self.last_exit = _describe(status)
            if lived < QUICK_EXIT_SECONDS:
                self.quick_exits += 1
                self.respawn_at = time.monotonic() + RESPAWN_DELAY_SECONDS
            else:
                self.quick_exits = 0
            console.warn(f"worker {pid} stopped ({self.last_exit}); starting a new one")

    def _stop_children(self) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == 0:
                        continue
                del self.children[pid]
            if self.children:
                self._sleep(0.05)
        for pid in list(self.children):
            console.warn(f"worker {pid} did not stop within {STOP_GRACE_SECONDS:g} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            del self.children[pid]

    def _spawn(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        # Signals wait until the child has its own handlers (and the parent its new child's pid).
        signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
            raise
        if pid:
            self.children[pid] = time.monotonic()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
            return
        code = 1
        try:
            self._become_worker()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
            self.worker_main(self.sockets)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except KeyboardInterrupt:
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)  # never return into the parent's stack (click, atexit handlers)

    # -- a worker, just after the fork ---------------------------------------------------------

    def _become_worker(self) -> None:
        signal.set_wakeup_fd(-1)
        os.close(self._wake_r)
        os.close(self._wake_w)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops workers through the parent
        signal.signal(signal.SIGTERM, _stop_worker)
        _set_parent_death_signal(self.parent)


def serve_prefork(sockets: list[socket.socket], workers: int, worker_main: WorkerMain) -> int:
    """Run WORKER_MAIN(sockets) in WORKERS forked processes until SIGTERM/SIGINT; the exit code."""
    try:
        return Supervisor(sockets, workers, worker_main).run()
    finally:
        for sock in sockets:
            sock.close()
