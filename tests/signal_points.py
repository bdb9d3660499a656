"""A stop signal at every line a `csrnews serve` worker runs while it stops or hands work out.

Run as `python -m tests.signal_points` (a process of its own: it installs signal handlers and
a trace function, and a worker that deadlocks would hang it). A Python signal handler runs in
the main thread between two bytecodes of whatever that thread was doing; this raises the
signal at each line (trace "line" event) of such code in turn, so every moment is tried once,
deterministically:

- Ctrl-C: SIGINT to the worker, and the arbiter's SIGQUIT at each line of the worker's
  handling of the SIGINT, up to the main loop's next turn;
- a SIGQUIT at each line of the main thread's handing a connection to the thread pool
  (`tpool.submit`).

Each time the worker must leave (SystemExit), its thread pool must still be joinable
afterwards, as the interpreter's exit joins it, and SIGINT, SIGQUIT and SIGTERM must be blocked
in the pool's threads and, once it leaves, in the main thread (a late one would otherwise find
the default action as the interpreter ends). It prints one line per case and exits 0, or says
what went wrong and exits 3 (hung), 4 (did not leave) or 5 (signals not blocked). The worker
class is the one `csrnews serve` uses.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from gunicorn.config import Config
from gunicorn.glogging import Logger

from csrnews.serve.server import ServeOptions

STOP_SIGNALS = {signal.SIGINT, signal.SIGQUIT, signal.SIGTERM}

HANG_SECONDS = 3.0
STOPS = {signal.SIGINT, signal.SIGQUIT}


def serve_config() -> Config:
    """gunicorn's configuration as `csrnews serve --workers 1 --threads 2` sets it."""
    options = ServeOptions("127.0.0.1", 0, 1, 2, app_factory=lambda: None, quiet=True)
    cfg = Config()
    for name, value in options.gunicorn_settings().items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg


def new_worker(cfg: Config, log: Logger) -> Any:
    """A worker as after its first request: booted, a pool thread, its handlers installed."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a previous worker blocked them
    worker = cfg.worker_class(1, os.getppid(), [], None, 30, cfg, log)
    worker.tpool = worker.get_thread_pool()
    worker.method_queue.init()
    worker.booted = True
    worker.tpool.submit(int).result()
    for stop in STOPS:
        signal.signal(stop, worker.handle_quit)
    return worker


def fail(code: int, message: str) -> None:
    print(message, flush=True)
    os._exit(code)


def signal_at_line(n: int, sig: signal.Signals) -> tuple[Callable[..., Any], Callable[[], int]]:
    """A trace function raising SIG at the Nth line event, and the count of events seen."""
    seen = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal seen
        if event == "line":
            seen += 1
            if seen == n:
                signal.raise_signal(sig)
        return tracer

    return tracer, lambda: seen


def next_turn(worker: Any) -> None:
    """What the worker's main loop does when its wake-up pipe is readable."""
    worker.method_queue.run_callbacks(None)


def every_point(cfg: Config, label: str, action: Callable[[Any], None], sig: signal.Signals) -> int:
    """Run ACTION on a new worker with SIG raised at its 1st, 2nd, ... line; the points tried."""
    log = Logger(cfg)
    unblocked: list[int] = []
    n = 1
    while True:
        worker = new_worker(cfg, log)

        def hung(n: int = n) -> None:
            fail(3, f"HUNG: {label}, {sig.name} at line event {n}")

        watchdog = threading.Timer(HANG_SECONDS, hung)
        watchdog.start()
        tracer, seen = signal_at_line(n, sig)
        left = False
        sys.settrace(tracer)
        try:
            action(worker)
            next_turn(worker)
        except SystemExit:
            left = True
        finally:
            sys.settrace(None)
        if not left:  # the signal came in that last turn: the loop turns again
            try:
                next_turn(worker)
            except SystemExit:
                left = True
        worker.tpool.shutdown(wait=True)  # as the interpreter's exit joins the pool
        watchdog.cancel()
        worker.method_queue.close()
        worker.tmp.close()
        if seen() < n:
            if unblocked:
                fail(5, f"{label}: stop signals not blocked on leaving, {sig.name} at {unblocked}")
            return n - 1
        if not left:
            fail(4, f"NOT STOPPED: {label}, {sig.name} at line event {n}")
        if not STOP_SIGNALS <= signal.pthread_sigmask(signal.SIG_BLOCK, []):
            unblocked.append(n)  # a late QUIT as the interpreter ends would dump core
        n += 1


def main() -> None:
    cfg = serve_config()
    cases: list[tuple[str, Callable[[Any], None], signal.Signals]] = [
        (
            "Ctrl-C: INT, then QUIT",
            lambda worker: signal.raise_signal(signal.SIGINT),
            signal.SIGQUIT,
        ),
        (
            "QUIT while handing a connection to the pool",
            lambda worker: worker.tpool.submit(int),
            signal.SIGQUIT,
        ),
    ]
    for label, action, sig in cases:
        points = every_point(cfg, label, action, sig)
        print(f"{label}: stopped at each of {points} points", flush=True)
    worker = new_worker(cfg, Logger(cfg))
    mask = worker.tpool.submit(signal.pthread_sigmask, signal.SIG_BLOCK, []).result()
    if not STOP_SIGNALS <= mask:  # a late QUIT to a request thread, or to its ending OS thread
        fail(5, f"the stop signals reach the pool's threads: {sorted(STOP_SIGNALS - mask)}")
    worker.tpool.shutdown()
    print("the pool's threads block the stop signals", flush=True)


if __name__ == "__main__":
    main()
