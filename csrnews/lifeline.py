"""Child processes that die with the process that started them (Linux ``PR_SET_PDEATHSIG``)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Any:
    """libc's prctl, looked up once in the parent: the child between fork and exec only calls."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


PRCTL = _load_prctl()  # None where there is no prctl (not Linux)


def die_with_parent(parent: int) -> None:
    """In a child of ``parent``: get SIGKILL when the thread of ``parent`` that started it
    ends (Linux), so that no orphan goes on working for a process killed even by SIGKILL; exit
    at once if ``parent`` died before that took effect. Safe between fork and exec."""
    if PRCTL is not None:
        PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:
        os._exit(1)
