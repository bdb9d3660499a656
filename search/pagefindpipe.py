"""Pagefind's indexing service (``pagefind_extended --service``), spoken to over its pipes.

The service reads requests from its standard input and answers on its standard output, each
message base64-encoded JSON followed by a comma; it handles the requests one after the other,
in the order sent, and answers each (but one it cannot parse). pagefind's own Python client
wraps every request in asyncio futures and tasks, which cost the static search more CPU time
than making the records; this client writes the requests as they come and reads the answers
in batches, with at most ``window`` requests unanswered (so neither side ever waits on a
full pipe: the answers to a window fit in one).

The service runs on one CPU (``cpus``; by default the last this process may use). Pagefind
writes its files from tokio's pool of blocking threads, up to hundreds at once; spread over
several CPUs they contend for the folder being written to (the kernel spins on its lock) and
for each other's memory maps: at 20,000 stories that cost about 40% more of its CPU time
(45 against 32 CPU-s on two cores), a longer wall time and a little more memory.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from typing import IO, Any

ANSWER_WAIT = 600.0  # seconds without any answer after which the service is taken as stuck


class PagefindError(RuntimeError):
    """The service is missing, stopped, or answered a request with an error."""


def pagefind_binary() -> str:
    """The Pagefind binary pagefind's Python package finds (``PAGEFIND_BINARY_PATH``, the
    ``pagefind_bin_extended`` package, then the PATH)."""
    try:
        from pagefind.service import get_executable
    except ImportError as exc:
        raise PagefindError(f"the pagefind package is not installed ({exc})") from exc
    binary = get_executable()
    if binary is None:
        raise PagefindError("no Pagefind binary found")
    return os.fspath(binary)


def one_cpu() -> set[int]:
    """One of the CPUs this process may run on (the last); an empty set where the system
    cannot say (no CPU chosen: the service then runs where the system puts it)."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return set()
    return {max(allowed)} if allowed else set()


def _on_cpus(cpus: set[int]) -> Callable[[], None] | None:
    """What the child runs before Pagefind starts: keep it to ``cpus`` (nothing when empty).

    Set in the child before the binary starts, so every thread it makes inherits it; the
    function only calls sched_setaffinity (no lock a thread of the parent could hold)."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return None
    chosen = frozenset(cpus)

    def pin() -> None:
        try:
            os.sched_setaffinity(0, chosen)
        except OSError:  # a CPU gone since: run where the system puts it
            pass

    return pin


class PagefindPipe:
    """One running Pagefind service and the requests it has not answered yet."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        window: int = 64,
        answer_wait: float = ANSWER_WAIT,
        cpus: set[int] | None = None,
    ) -> None:
        """Start the service; ``env``: its environment (else this process's); ``cpus``: the
        CPUs it may run on (default: one_cpu())."""
        self.window = max(1, window)
        chosen = one_cpu() if cpus is None else cpus
        self.answer_wait = answer_wait
        self._errors: IO[bytes] = tempfile.TemporaryFile()  # its messages, for our errors
        try:
            self._process = subprocess.Popen(
                [pagefind_binary(), "--service"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                env=None if env is None else dict(env),
                preexec_fn=_on_cpus(chosen),
            )
        except (OSError, PagefindError) as exc:
            self._errors.close()
            raise PagefindError(f"Pagefind could not be started: {exc}") from exc
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin = self._process.stdin
        self._stdout = self._process.stdout.fileno()
        self._sent = 0  # the last message id sent
        self._answered = 0  # answers read (in the order sent)
        self._pending = b""  # the start of an answer not read whole yet
        self._failures: list[str] = []

    @property
    def pid(self) -> int:
        return self._process.pid

    def request(self, payload: Mapping[str, Any]) -> None:
        """Send one request; reads answers first when ``window`` are unanswered."""
        if self._sent - self._answered >= self.window:
            self._read(self._sent - self.window // 2)
        self._sent += 1
        message = json.dumps({"message_id": self._sent, "payload": payload}, ensure_ascii=False)
        try:
            self._stdin.write(base64.b64encode(message.encode("utf-8")) + b",")
            self._stdin.flush()
        except OSError as exc:  # the service ended
            raise PagefindError(f"Pagefind stopped: {exc}{self._said()}") from exc

    def call(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its answer (and every one before it)."""
        self.request(payload)
        return self._read(self._sent)

    def wait(self) -> None:
        """Wait for the answers to every request sent; raise on the first that failed."""
        self._read(self._sent)

    def close(self) -> None:
        """End the service (it stops at the end of its input) and wait for it."""
        try:
            self._stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        finally:
            assert self._process.stdout is not None
            self._process.stdout.close()
            self._errors.close()

    def _read(self, until: int) -> dict[str, Any]:
        """Read answers up to message ``until``; returns the last one's payload."""
        last: dict[str, Any] = {}
        while self._answered < until:
            ready, _, _ = select.select([self._stdout], [], [], self.answer_wait)
            chunk = os.read(self._stdout, 1 << 16) if ready else None
            if not chunk:
                self._process.poll()
                why = "no answer" if chunk is None else "it ended"
                raise PagefindError(f"Pagefind stopped ({why}){self._said()}")
            *answers, self._pending = (self._pending + chunk).split(b",")
            for raw in answers:
                last = self._answer(raw)
        if self._failures:
            failures, self._failures = self._failures, []
            raise PagefindError(f"Pagefind failed: {failures[0]} ({len(failures)} requests)")
        return last

    def _answer(self, raw: bytes) -> dict[str, Any]:
        answer = json.loads(base64.b64decode(raw))
        payload: dict[str, Any] = answer.get("payload") or {}
        message_id = answer.get("message_id")
        if message_id is None:  # a request it could not read: its id is in the copy it sends
            message_id = json.loads(payload.get("original_message") or "{}").get("message_id")
        if message_id != self._answered + 1:
            raise PagefindError(f"Pagefind answered message {message_id} out of order")
        self._answered += 1
        if payload.get("type") == "Error":
            self._failures.append(str(payload.get("message")))
        return payload

    def _said(self) -> str:
        """The end of what the service wrote on its standard error, if anything."""
        try:
            self._errors.seek(0)
            said = self._errors.read()[-2000:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return f": {said}" if said else ""
