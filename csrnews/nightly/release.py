"""Releases on disk: releases/<name>/{site,index}, `current`/`previous` symlinks, atomic swaps."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

logger = logging.getLogger(__name__)

RELEASES = "releases"
CURRENT = "current"
PREVIOUS = "previous"
BUILDING_PREFIX = ".building-"
SITE = "site"
INDEX = "index"
# Whoosh's lock files must not travel with a copied index.
_INDEX_SKIP = ("MAIN_WRITELOCK", "_MAIN_WRITELOCK")


class ReleaseError(RuntimeError):
    """A release operation that cannot be done (nothing to roll back to, a missing release)."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_release_name(now: float | None = None) -> str:
    """A sortable UTC name with microseconds, e.g. 20261123T020000.123456Z."""
    moment = time.time() if now is None else now
    micro = int((moment % 1) * 1_000_000)
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(moment)) + f".{micro:06d}Z"


class Releases:
    """The release folders under one root, and the two symlinks that say which is live."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.releases = self.root / RELEASES
        self.current_link = self.root / CURRENT
        self.previous_link = self.root / PREVIOUS

    # What is where.
    def _target(self, link: Path) -> Path | None:
        if not link.is_symlink():
            return None
        target = (link.parent / os.readlink(link)).resolve()
        return target if target.is_dir() else None

    def current(self) -> Path | None:
        """The live release folder (None before the first publish)."""
        return self._target(self.current_link)

    def previous(self) -> Path | None:
        """The release `csrnews rollback` would go back to."""
        return self._target(self.previous_link)

    def names(self) -> list[str]:
        """Every complete release, oldest first."""
        if not self.releases.is_dir():
            return []
        return sorted(
            p.name for p in self.releases.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    # Building.
    def recover(self) -> list[str]:
        """Clean what a killed run left behind; returns what was done (for the report)."""
        done: list[str] = []
        self.releases.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.releases.glob(BUILDING_PREFIX + "*")):
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"removed the unfinished release {path.name} of an interrupted run")
        for path in sorted(self.root.glob(".*.tmp-*")):
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
                done.append(f"removed the stray temporary link {path.name}")
        if self.current_link.is_symlink() and self.current() is None:
            fallback = self.previous()
            if fallback is not None:
                self._point(self.current_link, fallback)
                done.append(f"`current` pointed at a missing release; now {fallback.name}")
        for message in done:
            logger.warning("%s", message)
        return done

    def start(self, name: str) -> Path:
        """A fresh folder to build a release in, seeded with a copy of the live index."""
        building = self.releases / f"{BUILDING_PREFIX}{name}"
        if building.exists():
            shutil.rmtree(building)
        building.mkdir(parents=True)
        live = self.current()
        if live is not None and (live / INDEX).is_dir():
            # A plain copy, not hard links: Whoosh merges segments in place.
            shutil.copytree(
                live / INDEX, building / INDEX, ignore=shutil.ignore_patterns(*_INDEX_SKIP)
            )
        return building

    def discard(self, building: Path) -> None:
        """Throw away an unfinished release."""
        shutil.rmtree(building, ignore_errors=True)

    # Publishing.
    def _point(self, link: Path, target: Path) -> None:
        """Make `link` point at `target` atomically: a new symlink renamed over the old one."""
        tmp = link.parent / f".{link.name}.tmp-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        os.symlink(os.path.relpath(target, link.parent), tmp)
        os.replace(tmp, link)
        _fsync_dir(link.parent)

    def publish(self, building: Path) -> Path:
        """Make a finished build the live release; the old live one becomes `previous`."""
        name = building.name.removeprefix(BUILDING_PREFIX)
        final = self.releases / name
        os.replace(building, final)
        _fsync_dir(self.releases)
        old = self.current()
        if old is not None and old != final:
            self._point(self.previous_link, old)
        self._point(self.current_link, final)
        logger.info("published release %s (previous: %s)", name, old.name if old else "none")
        return final

    def rollback(self) -> tuple[Path, Path]:
        """Swap `current` and `previous`; returns (now live, now previous)."""
        old, back = self.current(), self.previous()
        if back is None:
            raise ReleaseError(f"no previous release under {self.root} to roll back to")
        if old is None:
            self._point(self.current_link, back)
            return back, back
        self._point(self.previous_link, old)
        self._point(self.current_link, back)
        logger.warning("rolled back from release %s to %s", old.name, back.name)
        return back, old

    def reuse_prunable(self, site: Path, keep: int) -> str | None:
        """Give the site of a release the next publish would prune to the build of ``site``.

        When publishing one more release would leave more than ``keep``, the oldest release
        that is neither `current` nor `previous` goes now: its site becomes the spare the build
        starts from (csrnews.site.build: only the pages that differ are linked again, instead
        of every page linked and the whole old site removed), the rest of it is removed. Its
        name, or None. `current` and `previous` are never touched, so a failed build leaves
        every release a rollback can reach.
        """
        from csrnews.site.folders import spare_of

        protected = {p.name for p in (self.current(), self.previous()) if p is not None}
        names = self.names()
        if len(names) + 1 <= max(keep, len(protected) + 1):
            return None
        removable = [n for n in names if n not in protected]
        if not removable:
            return None
        oldest = self.releases / removable[0]
        source, spare = oldest / SITE, spare_of(site)
        if source.is_dir() and not source.is_symlink() and not spare.exists():
            try:
                os.replace(source, spare)
            except OSError as exc:
                logger.warning("the site of release %s cannot be reused: %s", oldest.name, exc)
        shutil.rmtree(oldest, ignore_errors=True)
        logger.info("removed old release %s (its site reused by the new build)", oldest.name)
        return oldest.name

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest releases beyond `keep`, never `current` or `previous`."""
        protected = {p.name for p in (self.current(), self.previous()) if p is not None}
        names = self.names()
        removable = [n for n in names if n not in protected]
        excess = max(0, len(names) - max(keep, len(protected)))
        removed = removable[:excess]
        for name in removed:
            shutil.rmtree(self.releases / name, ignore_errors=True)
            logger.info("removed old release %s", name)
        return removed
