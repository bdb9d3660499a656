"""Prune an older site to a set of names, link or count a site's files, folders at once.

A nightly build takes the site before the previous one (the spare) as its staging folder and
removes from it whatever the new site does not keep (csrnews.site.seeding.reseed). That
means reading every folder of it: about 30,000 at 20,000 stories, one per story page. When
the page cache no longer holds them (a night after the last build, or a host that reclaims
idle memory), each folder is a read from the disk, and read one after the other they took
5-6 s of a 15-20 s night here, against 0.4-0.6 s when cached. Reading a level of the tree in
WALK_THREADS slices at once keeps the disk busy with several reads (the threads wait in the
system calls, which release the interpreter's lock); when cached it costs about what one
walk does. Linking every file of the previous site into an empty folder (a night with no
spare to take: after a full build) reads each of its folders the same way: 10.9 s cold at
20,000 stories one after the other, 2.3 s cached.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

WALK_THREADS = 8  # folders read at once


def _slices(items: Sequence[tuple[str, str]], count: int) -> Iterator[Sequence[tuple[str, str]]]:
    size = -(-len(items) // count)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def prune(
    root: str,
    files: set[str],
    folders: set[str],
    discard: Callable[[str], object],
    threads: int = WALK_THREADS,
) -> set[str]:
    """Remove under ``root`` what is neither one of ``files`` nor one of ``folders`` (names
    relative to ``root``, ``os.sep`` between parts); return the ``files`` found there.

    A file that is not listed, or a symbolic link, is unlinked; a folder that is not listed is
    given to ``discard`` (called in this thread, after the level it was found on) and not
    read. An error reading a folder or removing a file is raised (an ``OSError``) once every
    read under way has ended.
    """
    present: set[str] = set()
    unwanted: list[str] = []

    def walk(part: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        below: list[tuple[str, str]] = []
        for folder, rel in part:
            with os.scandir(folder) as scan:
                entries = list(scan)
            for entry in entries:
                name = rel + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if name in folders:
                        below.append((entry.path, name + os.sep))
                    else:
                        unwanted.append(entry.path)
                elif name in files and not entry.is_symlink():
                    present.add(name)
                else:
                    os.unlink(entry.path)
        return below

    level: list[tuple[str, str]] = [(root, "")]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        while level:
            if len(level) < 2 * threads:
                parts = [walk(level)]  # a few folders: not worth the threads
            else:
                parts = list(pool.map(walk, _slices(level, threads)))
            level = [pair for part in parts for pair in part]
            for path in unwanted:
                discard(path)
            unwanted.clear()
    return present


def count_files(root: str, threads: int = WALK_THREADS) -> int:
    """Files (anything not a folder: links too) under ``root``, a level of folders at a time
    in ``threads`` slices. A folder below ``root`` removed while it is counted (a concurrent
    build's) counts as empty; ``root`` missing, or a folder that cannot be read, raises its
    ``OSError``."""

    def walk(part: Sequence[str]) -> tuple[int, list[str]]:
        count, below = 0, []
        for folder in part:
            try:
                scan = os.scandir(folder)
            except (FileNotFoundError, NotADirectoryError):
                if folder == root:
                    raise
                continue  # gone since its parent was read
            with scan:
                for entry in scan:
                    if entry.is_dir(follow_symlinks=False):
                        below.append(entry.path)
                    else:
                        count += 1
        return count, below

    total, level = 0, [root]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        while level:
            if len(level) < 2 * threads:
                parts = [walk(level)]
            else:
                size = -(-len(level) // threads)
                parts = list(
                    pool.map(walk, [level[i : i + size] for i in range(0, len(level), size)])
                )
            total += sum(count for count, _ in parts)
            level = [folder for _, below in parts for folder in below]
    return total


def _link_group(source: str, target: str, names: Sequence[str]) -> list[str]:
    """Link (or copy, across file systems) ``names`` from ``source`` into ``target``; the names
    linked. A name gone from ``source`` is skipped."""
    linked: list[str] = []
    made: set[str] = set()
    for name in names:
        src, dst = os.path.join(source, name), os.path.join(target, name)
        parent = os.path.dirname(dst)
        if parent not in made:
            try:  # one mkdir per folder (os.makedirs also stats it and walks its parents)
                os.mkdir(parent)
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(parent, exist_ok=True)
            made.add(parent)
        try:
            os.link(src, dst)
        except FileNotFoundError:
            continue
        except OSError:
            try:
                shutil.copy2(src, dst)
            except OSError:
                continue
        linked.append(os.path.normpath(name))
    return linked


def link_all(
    source: str, target: str, names: Iterable[str], threads: int = WALK_THREADS
) -> set[str]:
    """Hard-link ``names`` (relative, no ``..``) from the site ``source`` into ``target``, in
    ``threads`` groups of whole folders at once; the names linked."""
    by_folder: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if os.path.isabs(name) or ".." in name.split(os.sep):
            continue
        by_folder[os.path.dirname(name)].append(name)
    groups: list[list[str]] = [[] for _ in range(max(1, threads))]
    for number, folder in enumerate(sorted(by_folder)):
        groups[number % len(groups)].extend(by_folder[folder])
    groups = [group for group in groups if group]
    if len(groups) < 2:
        return set(_link_group(source, target, groups[0])) if groups else set()
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        parts = list(pool.map(lambda group: _link_group(source, target, group), groups))
    return {name for part in parts for name in part}
