"""Seed a build's staging folder from the previous site, in a light child process.

A nightly build's staging folder starts as the spare site (the one the live site replaced),
pruned to the previous build's pages and linked to the ones it lacks
(``reseed``), or as links to every file of the previous site (``seed``). That is file system
work only: about 30,000 folders read at 20,000 stories, most of it waiting for the disk when
the page cache no longer holds them. Run in threads of the build process it competed with
Pelican, which reads the stories meanwhile, for the interpreter's lock (about 1.3 CPU-s of
futex calls on a cold night at 20,000 stories). ``seed_in_child`` runs it in a process of
its own that imports nothing but this module and csrnews.site.sparewalk (no Pelican), started
with ``python -m csrnews.site.seeding FD``: the request is a pickle on its standard input, the
answer a pickle it writes into the temporary file FD.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from csrnews.lifeline import die_with_parent
from csrnews.site.folders import spare_of
from csrnews.site.sparewalk import link_all, prune

logger = logging.getLogger(__name__)

MANIFEST = ".csrnews-manifest.json"
FORMAT = 1


def read_manifest(site: Path, fingerprint: str) -> dict[str, str]:
    """The previous build's keys, or nothing when it was another build setup or unreadable."""
    try:
        data = json.loads((site / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    if data.get("fingerprint") != fingerprint:
        return {}
    keys = data.get("keys")
    return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}


def seed(previous_site: Path, staging: Path, names: Iterable[str]) -> set[str]:
    """Hard-link (or copy, across file systems) the previous site's files into staging."""
    return link_all(str(previous_site), str(staging), names)


def reseed(
    previous_site: Path,
    staging: Path,
    names: Mapping[str, str],
    fingerprint: str,
    discard: Callable[[str], object] = shutil.rmtree,
) -> set[str]:
    """Bring an older site moved to ``staging`` to what ``seed`` would make there; its names.

    ``staging`` holds an older site with its own manifest: the one the previous site
    replaced (kept as a spare by csrnews.site.build), or a pruned release's (the nightly run).
    One walk of it removes every file and folder that is not a page or feed of the previous
    site's manifest ``names`` (its manifest, static files, search bundle, pages of stories
    gone); a file whose key in the spare's manifest is the previous site's is kept as it is
    (same key, same bytes), every other name is linked again from ``previous_site``.
    Nothing is written to: files are only unlinked and linked. Folders that hold none of the
    names (the search bundle, theme files) go to ``discard``.
    """
    spare_keys = read_manifest(staging, fingerprint)
    files = {n for n in names if _plain(n)}
    folders: set[str] = set()
    for name in files:
        folder = os.path.dirname(name)
        while folder and folder not in folders:
            folders.add(folder)
            folder = os.path.dirname(folder)
    present = prune(str(staging), files, folders, discard)
    kept = {n for n in present if spare_keys.get(n) == names[n]}
    for name in present - kept:
        os.unlink(os.path.join(staging, name))
    return kept | seed(previous_site, staging, [n for n in names if n not in kept])


def _plain(name: str) -> bool:
    """A relative, normalised name (as the writer records them), the walk's own spelling."""
    if not name or os.path.isabs(name) or ".." in name.split(os.sep):
        return False
    return os.path.normpath(name) == name != "."


def seed_staging(
    keys: dict[str, str], fingerprint: str, previous: Path, staging: Path, output: Path
) -> set[str]:
    """Seed ``staging`` for the build: reseed the spare when there is one, else link every file
    of the previous site; the names seeded."""
    if take_spare(output, staging):  # the spare may be of another lineage: reseed
        trash = Trash(output)
        try:
            return reseed(previous, staging, keys, fingerprint, trash.take)
        except OSError as exc:
            logger.warning("the spare site could not be reused (%s); seeding afresh", exc)
            discard(staging, output)
            staging.mkdir()
        finally:
            trash.empty()
    return seed(previous, staging, keys)


def take_spare(output: Path, staging: Path) -> bool:
    """Move the spare site (if any) to ``staging``, an empty folder; True when it was there.

    A rename, so that a build that fails or is killed leaves no spare to be trusted: it is
    removed with the staging folder (or left as a staging folder, never used again).
    """
    spare = spare_of(output)
    if spare.is_symlink() or not spare.is_dir():
        return False
    try:
        os.replace(spare, staging)
    except OSError:
        return False
    return True


class Trash:
    """A folder beside the output that what is moved into it is removed from in the background.

    Folders of the spare that the next site does not keep (the search bundle: tens of
    thousands of files) cost a rename each in the build, not their removal.
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        self.folder: Path | None = None
        self.count = 0

    def take(self, path: str) -> None:
        if self.folder is None:
            folder = self.output.with_name(
                f".{self.output.name}.old-{os.getpid()}-{time.time_ns()}"
            )
            folder.mkdir()
            self.folder = folder
        self.count += 1
        os.replace(path, self.folder / str(self.count))

    def empty(self) -> None:
        if self.folder is not None:
            remove_later(self.folder)
            self.folder = None


def discard(folder: Path, output: Path) -> None:
    """Rename a folder beside ``output`` out of the way and remove it in the background."""
    old = output.with_name(f".{output.name}.old-{os.getpid()}-{time.time_ns()}")
    try:
        os.replace(folder, old)
    except FileNotFoundError:
        return
    remove_later(old)


def remove_later(folder: Path) -> None:
    """Delete a folder in a detached `rm -rf`, so the command does not wait for it.

    Removing a site of tens of thousands of folders can take longer than building it (each
    rmdir is a synchronous metadata write on some disks); nothing reads the old folder once it
    has been renamed away. Falls back to deleting in-process where `rm` cannot be started.
    """
    if not folder.exists():
        return
    try:
        # sh puts rm in the background and exits at once: rm is adopted by init, no zombie
        subprocess.run(
            ["sh", "-c", 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "sh", str(folder)],
            check=True,
            start_new_session=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(folder, ignore_errors=True)


def seed_in_child(
    keys: dict[str, str], fingerprint: str, previous: Path, staging: Path, output: Path
) -> set[str]:
    """``seed_staging`` in a child process; its warnings are logged here, its ``OSError``
    raised here (any other failure of the child as a ``RuntimeError`` with what it said).

    The request goes on the child's standard input; the answer (the names seeded: a
    megabyte at 20,000 stories) comes back in an unnamed temporary file, not a pipe: a
    process stopped and continued while it writes to a full pipe (a debugger or profiler
    attaching, a job stopped with Ctrl-Z) can have its write cut short, and Python then
    drops the rest of the buffer without an error (seen here, under py-spy).
    """
    request = (keys, fingerprint, str(previous), str(staging), str(output), os.getpid())
    with tempfile.TemporaryFile() as answer_file:
        fd = answer_file.fileno()
        child = subprocess.run(
            [sys.executable, "-m", "csrnews.site.seeding", str(fd)],
            input=pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(fd,),
            check=False,
        )
        size = os.fstat(fd).st_size
        answer_file.seek(0)  # the child moved the offset it shares with this descriptor
        try:
            answer = pickle.load(answer_file) if child.returncode == 0 else None
        except (pickle.UnpicklingError, EOFError, ValueError):
            answer = None
    if not isinstance(answer, tuple) or len(answer) != 3:
        said = child.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(
            f"seeding the site's staging folder failed (exit {child.returncode}, "
            f"{size} bytes of answer): " + (" | ".join(said) or "nothing on stderr")
        )
    outcome, value, warnings = answer
    for message in warnings:
        logger.warning("%s", message)
    if outcome == "error":
        raise OSError(value)
    return set(value)


class _Collect(logging.Handler):
    """The child's warnings, handed back to the build process to log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def main() -> None:
    """The child: a pickled request on standard input, a pickled answer into the file whose
    descriptor is its one argument."""
    answer_fd = int(sys.argv[1])
    keys, fingerprint, previous, staging, output, parent = pickle.load(sys.stdin.buffer)
    die_with_parent(parent)  # no seeding goes on for a build that is gone
    collect = _Collect()
    logger.addHandler(collect)
    logger.propagate = False
    try:
        names = seed_staging(keys, fingerprint, Path(previous), Path(staging), Path(output))
        answer: tuple[str, object, list[str]] = ("ok", sorted(names), collect.messages)
    except OSError as exc:
        answer = ("error", str(exc), collect.messages)
    with os.fdopen(answer_fd, "wb") as out:
        pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
