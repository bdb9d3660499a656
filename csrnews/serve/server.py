"""`csrnews serve`'s server: gunicorn's arbiter and gthread workers running the site's WSGI app.

The arbiter (this process) binds the port, forks the workers, replaces one that dies and stops
them all on SIGTERM or SIGINT; each worker builds its own app (search caches, threads) after
the fork. A port that is taken is reported before gunicorn starts. The workers are gunicorn's
gthread workers with a quick stop (SIGINT, SIGQUIT) that cannot deadlock (ThreadWorker); a stop
signal that comes while a worker is being forked waits for its handlers, and a worker the
arbiter had to SIGKILL is logged as such, not as "Perhaps out of memory?" (_Arbiter).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker as GthreadWorker
from werkzeug.middleware.proxy_fix import ProxyFix

logger = logging.getLogger(__name__)

WSGIApp = Callable[..., Iterable[bytes]]
STOP_GRACE_SECONDS = 5  # SIGTERM: workers finish their requests for this long, then are killed
WORKER_TIMEOUT = 60  # a worker silent for this long is killed and replaced
KEEPALIVE_SECONDS = 5
KILLED_REAP_SECONDS = 1.0  # on stopping, the arbiter waits this long for workers it SIGKILLed
STOP_SIGNALS = {signal.SIGINT, signal.SIGQUIT, signal.SIGTERM}
_STOPPING = {signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGABRT}  # then SIGKILL
_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")


class PortInUse(OSError):
    """The address cannot be bound (taken, or not an address of this host)."""


def auto_workers() -> int:
    """One worker per usable CPU (the process's affinity mask where known)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def bind_address(host: str, port: int) -> str:
    """gunicorn's bind string: IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def check_port(host: str, port: int) -> None:
    """Raise PortInUse when HOST:PORT cannot be bound now (as gunicorn binds: SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise PortInUse(errno.EADDRNOTAVAIL, f"{host} is not an address to listen on") from exc
    for family, socktype, proto, _name, sockaddr in infos[:1]:
        with socket.socket(family, socktype, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(sockaddr)
            except OSError as exc:
                raise PortInUse(exc.errno, exc.strerror or str(exc)) from exc


def free_port(host: str) -> int:
    """A port the system says is free on HOST now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class TrustedProxy:
    """Believe X-Forwarded-For/-Proto/-Host from one proxy address only; drop them otherwise."""

    def __init__(self, app: WSGIApp, address: str | None) -> None:
        self.app = app
        self.address = address
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.address and environ.get("REMOTE_ADDR") == self.address:
            return self.fixed(environ, start_response)
        for name in _FORWARDED:
            environ.pop(name, None)
        return self.app(environ, start_response)


@dataclass
class ServeOptions:
    """What `csrnews serve` runs: where, how many workers and threads, and the app factory."""

    host: str
    port: int
    workers: int
    threads: int
    app_factory: Callable[[], WSGIApp]
    trust_proxy: str | None = None
    quiet: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Called in the arbiter with the port it listens on, once it does (port 0: the one the
    # system gave).
    on_listening: Callable[[int], None] | None = None

    def gunicorn_settings(self) -> dict[str, Any]:
        return {
            "bind": [bind_address(self.host, self.port)],
            "workers": self.workers,
            "worker_class": ThreadWorker,
            "threads": self.threads,
            "graceful_timeout": STOP_GRACE_SECONDS,
            "timeout": WORKER_TIMEOUT,
            "keepalive": KEEPALIVE_SECONDS,
            "proc_name": "csrnews",
            "loglevel": "warning" if self.quiet else "info",
            "accesslog": None,
            "errorlog": "-",
            # Forwarded headers are TrustedProxy's business, for one named address only.
            "forwarded_allow_ips": "",
            "proxy_allow_ips": "",
            "control_socket_disable": True,  # no control socket in $HOME (ProtectHome=yes)
            "post_worker_init": _worker_ready,
            **self.extra,
        }


class ThreadWorker(GthreadWorker):
    """gunicorn's gthread worker, with a quick stop (SIGINT, SIGQUIT) that cannot deadlock.

    A Python signal handler runs in the main thread between two of its bytecodes, whatever
    that thread was doing, and gthread's quick stop does its work there: it shuts the thread
    pool down, which takes the pool's lock (a Lock, not reentrant), then raises SystemExit.
    When the handler interrupts code that holds that lock it waits for itself until the
    arbiter's SIGKILL, 5 s later ("Worker was sent SIGKILL! Perhaps out of memory?"): the
    main thread handing a connection to the pool, or a first INT/QUIT handler, as Ctrl-C in
    a terminal signals the whole process group, so a worker gets SIGINT from the terminal and
    SIGQUIT from the arbiter at once. And a SystemExit raised at any bytecode can leave a lock
    of the pool's held (in a `with` block's exit), so that the pool's threads cannot be joined
    when the interpreter exits.

    Here the handler takes no lock and raises nothing once the worker serves: later INTs and
    QUITs are let be, and the main loop raises SystemExit at its next turn, outside any lock;
    the pool's threads are then woken and joined as the interpreter exits (concurrent.futures'
    exit hook), a request in progress finished first. A worker still loading the site and its
    index stops at once, as before (it has no request threads yet).

    The stop signals are blocked in the pool's threads, so that they come to the main thread
    (the one that handles them), and in the main thread once it leaves: the arbiter's QUIT
    after Ctrl-C's INT can come late, when the exiting interpreter has put the default actions
    back (QUIT's dumps core), while the OS threads of the joined pool have not quite ended.
    """

    quitting = False

    def init_signals(self) -> None:
        """The worker's handlers; then the stop signals _Arbiter blocked across the fork reach
        them (one that came meanwhile was kept pending for them)."""
        super().init_signals()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def get_thread_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.cfg.threads, initializer=block_stop_signals)

    def run(self) -> None:
        super().run()
        block_stop_signals()  # stopped (SIGTERM, the arbiter gone): leaving

    def handle_quit(self, sig: int, frame: Any) -> None:
        if self.quitting:
            return  # the second of Ctrl-C's two signals, or a third: the worker is leaving
        self.quitting = True
        if self.booted:
            self.method_queue.defer(self.quit_now)  # a SimpleQueue and a pipe: no lock
        else:
            self.quit_now()

    def quit_now(self) -> None:
        """Leave the worker: gunicorn's worker_int hook, then SystemExit."""
        block_stop_signals()
        self.alive = False
        self.cfg.worker_int(self)
        sys.exit(0)


def block_stop_signals() -> None:
    """Keep SIGINT, SIGQUIT and SIGTERM from the calling thread (they wait, pending)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


class _Arbiter(Arbiter):
    """gunicorn's arbiter, forking each worker with the stop signals blocked.

    A new worker runs with the arbiter's handlers, inherited with the fork, until it has put
    its own in place: a SIGINT, SIGQUIT or SIGTERM that came to it meanwhile (Ctrl-C, or the
    arbiter stopping it, just after the fork) went to the arbiter's handler, and the worker
    loaded the site and served on until the arbiter's SIGKILL. Blocked, the signal waits for
    the worker's own handlers (ThreadWorker.init_signals unblocks them); one that comes to the
    arbiter during the fork is taken right after it.

    A worker the arbiter SIGKILLs because it outlived its stop signal's grace period (or its
    timeout's SIGABRT) is logged as such (_ReapLog), not with gunicorn's "Perhaps out of
    memory?", which is kept, reworded, for a SIGKILL from outside.
    """

    log: Any  # gunicorn's Logger (its arbiter sets it up)

    def __init__(self, app: BaseApplication) -> None:
        self.stopping: dict[int, tuple[str, float]] = {}  # pid -> last stop signal sent, when
        self.killed: dict[int, tuple[float, str]] = {}  # pid -> (seconds since it, its name)
        super().__init__(app)

    def start(self) -> None:
        """gunicorn's start (it binds the address), then the port it listens on announced."""
        super().start()
        announce = getattr(self.app, "options", None) and self.app.options.on_listening
        if announce and self.LISTENERS:
            address = self.LISTENERS[0].sock.getsockname()
            if isinstance(address, tuple):
                announce(int(address[1]))

    def spawn_worker(self) -> Any:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            return super().spawn_worker()
        finally:
            if os.getpid() == self.pid:  # the arbiter, once it forked (not a worker exiting)
                signal.pthread_sigmask(signal.SIG_SETMASK, before)

    def kill_worker(self, pid: int, sig: int) -> None:
        """Signal a worker, remembering what for: a SIGKILL is the backstop after a stop
        signal (the grace period) or SIGABRT (the timeout) that the worker outlived."""
        now = time.monotonic()
        if sig == signal.SIGKILL:
            name, since = self.stopping.get(pid, ("", now))
            self.killed[pid] = (now - since, name)
        elif sig in _STOPPING:
            self.stopping[pid] = (signal.Signals(sig).name, now)
        super().kill_worker(pid, sig)

    def stop(self, graceful: bool = True) -> None:
        """gunicorn's, then a moment (at most KILLED_REAP_SECONDS) for the workers it SIGKILLed
        to be reaped, so that the log says so: gunicorn looks once, right after its SIGKILLs,
        often before the kernel has ended those processes."""
        super().stop(graceful)
        deadline = time.monotonic() + KILLED_REAP_SECONDS
        while self.killed.keys() & self.WORKERS.keys() and time.monotonic() < deadline:
            time.sleep(0.01)
            self.reap_workers()

    def reap_workers(self) -> None:
        """gunicorn's, logging a worker's death by SIGKILL as what it was (_ReapLog)."""
        log = self.log
        self.log = _ReapLog(log, self.killed)
        try:
            super().reap_workers()
        finally:
            self.log = log
            for known in (self.stopping, self.killed):
                for pid in [pid for pid in known if pid not in self.WORKERS]:
                    del known[pid]


class _ReapLog:
    """The arbiter's logger while it reaps workers, with gunicorn's guess at a SIGKILL
    ("Worker (pid:N) was sent SIGKILL! Perhaps out of memory?") replaced by what happened:
    the arbiter's own SIGKILL of a worker that did not stop within the grace period of its
    stop signal (or of its timeout's SIGABRT), or a SIGKILL from outside (the kernel's OOM
    killer, an operator)."""

    def __init__(self, log: Any, killed: dict[int, tuple[float, str]]) -> None:
        self.log = log
        self.killed = killed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.log, name)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if not (isinstance(msg, str) and msg.endswith("Perhaps out of memory?") and args):
            self.log.error(msg, *args, **kwargs)
        elif args[0] in self.killed:
            waited, name = self.killed[args[0]]
            if name:
                self.log.warning(
                    "Worker (pid:%s) did not stop within %.1f s of %s and was killed (SIGKILL)",
                    args[0],
                    waited,
                    name,
                )
            else:
                self.log.warning("Worker (pid:%s) was killed by the arbiter (SIGKILL)", args[0])
        else:
            self.log.error(
                "Worker (pid:%s) was killed by SIGKILL from outside (out of memory?)", args[0]
            )


def _worker_ready(worker: Any) -> None:
    """gunicorn's hook once a worker has loaded the site and its index: say it serves now."""
    worker.log.info("Worker %s ready", worker.pid)


class _Application(BaseApplication):
    """gunicorn configured from ServeOptions instead of its command line."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        known = self.cfg.settings
        for name, value in self.options.gunicorn_settings().items():
            if name in known:
                self.cfg.set(name, value)

    def load(self) -> WSGIApp:
        return TrustedProxy(self.options.app_factory(), self.options.trust_proxy)

    def run(self) -> None:
        """BaseApplication.run with _Arbiter."""
        try:
            _Arbiter(self).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)


def serve(options: ServeOptions) -> None:
    """Run gunicorn until SIGTERM or SIGINT (then exits 0); raises PortInUse before it starts."""
    check_port(options.host, options.port)
    _Application(options).run()
