"""Logging of a nightly run: a rotating file with the detail, the console only with problems."""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass, field
from pathlib import Path

LOG_FILE = "nightly.log"
LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 7
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _not_reported(record: logging.LogRecord) -> bool:
    """Console filter: drop what the run's summary will print anyway."""
    return not getattr(record, "csrnews_reported", False)


@dataclass
class LogSetup:
    """What setup_logging changed, so that close_logging can put it back."""

    file_handler: logging.Handler
    root_level: int
    consoles: dict[logging.Handler, int] = field(default_factory=dict)
    added_console: logging.Handler | None = None


def setup_logging(log_dir: str | Path, verbose: int = 0) -> LogSetup:
    """A rotating file (INFO, DEBUG with -vv) and the console (WARNING, INFO with -v)."""
    folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / LOG_FILE,
        maxBytes=LOG_MAX_BYTES,
        backupCount=LOG_BACKUPS,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    root = logging.getLogger()
    setup = LogSetup(handler, root.level)
    console_level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING
    for existing in root.handlers:
        if type(existing) is logging.StreamHandler:  # the CLI's console handler
            setup.consoles[existing] = existing.level
            existing.setLevel(console_level)
            existing.addFilter(_not_reported)
    if not setup.consoles:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(FORMAT))
        console.setLevel(console_level)
        console.addFilter(_not_reported)
        root.addHandler(console)
        setup.added_console = console
    root.addHandler(handler)
    root.setLevel(min(handler.level, console_level))
    return setup


def close_logging(setup: LogSetup) -> None:
    """Detach and close the file handler and put the console back as it was."""
    root = logging.getLogger()
    root.removeHandler(setup.file_handler)
    setup.file_handler.close()
    for console, level in setup.consoles.items():
        console.setLevel(level)
        console.removeFilter(_not_reported)
    if setup.added_console is not None:
        root.removeHandler(setup.added_console)
    root.setLevel(setup.root_level)
