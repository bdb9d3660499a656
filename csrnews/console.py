"""Console output for people: progress on long work, a closing summary, errors; quiet-aware."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")

_state = {"quiet": False}
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def set_quiet(quiet: bool) -> None:
    """Silence progress and info lines (summaries and errors still print)."""
    _state["quiet"] = quiet


def is_quiet() -> bool:
    return _state["quiet"]


def info(message: str) -> None:
    """A line of information on stderr, unless quiet."""
    if not _state["quiet"]:
        err.print(message, markup=False)


def warn(message: str) -> None:
    """A warning on stderr (always shown)."""
    err.print(f"warning: {message}", markup=False, style="yellow")


def error(message: str) -> None:
    """An error on stderr (always shown)."""
    err.print(f"error: {message}", markup=False, style="bold red")


def summary(message: str) -> None:
    """The one closing summary line on stdout (always shown)."""
    out.print(message, markup=False)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Progress | None]:
    """A progress display on stderr for long work; yields None when quiet or not a terminal."""
    if _state["quiet"] or not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        bar.add_task(description, total=total)
        yield bar


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar (when shown)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(description, total) as bar:
        for item in items:
            yield item
            if bar is not None:
                bar.advance(bar.task_ids[0])
