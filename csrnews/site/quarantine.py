"""Keep quarantined story files out of a Pelican build, and quarantine any file Pelican fails on.

csrnews.story.storycheck names the files to leave out before the build; Pelican's generators are
told to skip them. A file Pelican still cannot read (a case the checks do not foresee) is
left out by Pelican itself: its error is taken off the build's errors and the file joins
the quarantine, so one story never stops the build of all the others.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pelican import signals

from csrnews.site import pelican_compat
from csrnews.story.storycheck import Quarantined

logger = logging.getLogger(__name__)


class BuildQuarantine:
    """Connects to Pelican's signals for one build; ``found`` lists every file left out."""

    def __init__(self, content: Path, errors: list[str]) -> None:
        self.content = content
        self.found: list[Quarantined] = []
        self.skip: set[str] = set()
        self.errors = errors  # the build's error messages (csrnews.site.build's recorder)
        self._mark = 0
        self._handlers: list[tuple[Any, Callable[..., None]]] = []

    def leave_out(self, found: list[Quarantined]) -> None:
        """Files the checks found: the generators will not read them."""
        self.found += found
        self.skip |= {q.path for q in found}

    @property
    def caught(self) -> list[Quarantined]:
        """The files Pelican failed on that the checks had let through."""
        return [q for q in self.found if q.path not in self.skip]

    def _rel(self, path: str) -> str:
        full = Path(path) if os.path.isabs(path) else self.content / path
        try:
            return full.resolve().relative_to(self.content.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def _prepare(self, generator: Any) -> None:
        """A generator starts: it skips the quarantined files and reports its failures."""
        include, failed = pelican_compat.source_path_hooks(generator)
        skip = self.skip

        def include_path(path: str, extensions: Any = None) -> bool:
            if skip and self._rel(path) in skip:  # resolving every path costs: only if needed
                return False
            return bool(include(path, extensions))

        def add_failed(path: str, static: bool = False) -> None:
            failed(path, static)
            if static:
                return
            reasons = self.errors[self._mark :]
            del self.errors[self._mark :]
            reason = "; ".join(r.splitlines()[0] for r in reasons) or "Pelican could not read it"
            self.found.append(Quarantined(self._rel(path), f"Pelican: {reason}"[:300]))
            logger.debug("Pelican failed on %s: %s", path, reason)

        pelican_compat.set_source_path_hooks(generator, include_path, add_failed)

    def _preread(self, _generator: Any) -> None:
        self._mark = len(self.errors)  # errors from here on are the next file's

    def connect(self) -> None:
        for signal, handler in (
            (signals.article_generator_init, self._prepare),
            (signals.page_generator_init, self._prepare),
            (signals.article_generator_preread, self._preread),
            (signals.page_generator_preread, self._preread),
        ):
            signal.connect(handler)
            self._handlers.append((signal, handler))

    def disconnect(self) -> None:
        for signal, handler in self._handlers:
            signal.disconnect(handler)
        self._handlers.clear()
