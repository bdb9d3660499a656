"""Who changed what on the desk, and every earlier version: git commits or an append-only journal.

When the content folder is inside a git work tree (and git does not ignore its story and list
files), each desk save is a commit of that one file with the editor as author; a file changed
outside the desk (by the crawler or by hand) is first committed as it was, so that version can
be restored too. Otherwise each save is a line in ``<content>.history/journal.jsonl`` beside
the content folder, with the text before and after in a content-addressed store beside it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from csrnews.desk.objects import ObjectStore, is_sha, text_sha

logger = logging.getLogger(__name__)

DESK_EMAIL_DOMAIN = "desk.invalid"
SYSTEM_AUTHOR = "csrnews"


class HistoryError(RuntimeError):
    """The history could not record a change (git failed, the journal cannot be written)."""


@dataclass(frozen=True)
class Version:
    """One version of a file: what `restore` takes (id), when, who and why."""

    id: str
    time: float
    user: str
    message: str
    outside: bool = False  # the file as the crawler (or someone by hand) left it


@dataclass(frozen=True)
class Change:
    """One recorded desk change of any file (for "pending" and the activity list)."""

    time: float
    user: str
    path: str
    message: str


class History:
    """The interface both kinds of history give."""

    kind = ""

    def record(
        self, rel: str, before: str | None, user: str, message: str, write: Callable[[], str]
    ) -> None:
        """Record a change of file ``rel`` (relative to content): write() makes it, returns
        the new text. The caller holds the desk's write lock."""
        raise NotImplementedError

    def versions(self, rel: str) -> list[Version]:
        """Every known version of a file, newest first."""
        raise NotImplementedError

    def text(self, rel: str, version_id: str) -> str | None:
        """A version's text, or None when that id is no version of this file."""
        raise NotImplementedError

    def changes_since(self, since: float) -> list[Change]:
        """Desk changes after a moment, oldest first."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class JournalHistory(History):
    """An append-only JSON-lines journal and an object store, in a folder beside the content."""

    kind = "journal"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.journal = self.folder / "journal.jsonl"
        self.objects = ObjectStore(self.folder / "objects")

    def describe(self) -> str:
        return f"journal {self.journal}"

    def _entries(self) -> list[dict[str, object]]:
        try:
            lines = self.journal.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
            except ValueError:
                logger.warning("%s:%d: not a journal entry, skipped", self.journal, number)
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def record(
        self, rel: str, before: str | None, user: str, message: str, write: Callable[[], str]
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        before_sha = self.objects.put(before) if before is not None else None
        after = write()
        entry = {
            "time": round(time.time(), 3),
            "user": user,
            "path": rel,
            "message": message,
            "before": before_sha,
            "after": self.objects.put(after),
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise HistoryError(f"cannot append to {self.journal}: {exc}") from exc

    def versions(self, rel: str) -> list[Version]:
        found: list[Version] = []
        previous: object = None
        for entry in self._entries():
            if entry.get("path") != rel:
                continue
            when = float(entry.get("time") or 0)  # type: ignore[arg-type]
            before, after = entry.get("before"), entry.get("after")
            if isinstance(before, str) and before != previous:
                found.append(
                    Version(before, when, SYSTEM_AUTHOR, "as it was before this desk change", True)
                )
            if isinstance(after, str):
                found.append(Version(after, when, str(entry.get("user")), str(entry["message"])))
            previous = after
        return found[::-1]

    def text(self, rel: str, version_id: str) -> str | None:
        if not is_sha(version_id) or version_id not in {v.id for v in self.versions(rel)}:
            return None
        return self.objects.get(version_id)

    def changes_since(self, since: float) -> list[Change]:
        return [
            Change(float(e["time"]), str(e.get("user")), str(e.get("path")), str(e.get("message")))  # type: ignore[arg-type]
            for e in self._entries()
            if float(e.get("time") or 0) > since  # type: ignore[arg-type]
        ]


class GitHistory(History):
    """Commits of single files in the git work tree the content folder is in."""

    kind = "git"

    def __init__(self, content: str | os.PathLike[str]) -> None:
        self.content = Path(content).resolve()

    def describe(self) -> str:
        return f"git repository of {self.content}"

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [
            "git",
            "-c",
            "user.name=csrnews desk",
            "-c",
            f"user.email=desk@{DESK_EMAIL_DOMAIN}",
            "-c",
            "commit.gpgsign=false",
            *args,
        ]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            result = subprocess.run(
                argv, cwd=self.content, capture_output=True, text=True, env=env, timeout=60
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise HistoryError(f"git {args[0]} failed: {exc}") from exc
        if check and result.returncode != 0:
            raise HistoryError(f"git {args[0]} failed: {result.stderr.strip()[-500:]}")
        return result

    def _commit(self, rel: str, author: str, message: str) -> None:
        self._git("add", "--", rel)
        staged = self._git("diff", "--cached", "--quiet", "--", rel, check=False)
        if staged.returncode == 0:
            return  # nothing changed
        self._git(
            "commit",
            "-q",
            "--no-verify",
            f"--author={author} <{author}@{DESK_EMAIL_DOMAIN}>",
            "-m",
            message,
            "--",
            rel,
        )

    def record(
        self, rel: str, before: str | None, user: str, message: str, write: Callable[[], str]
    ) -> None:
        if before is not None:
            dirty = self._git("status", "--porcelain", "--", rel).stdout.strip()
            if dirty:
                self._commit(rel, SYSTEM_AUTHOR, f"{rel}: as it was before a desk change")
        write()
        self._commit(rel, user, message)

    def _log(self, *args: str) -> list[tuple[str, str, float, str]]:
        out = self._git("log", "--format=%H%x1f%an%x1f%at%x1f%s%x1e", *args).stdout
        rows = []
        for record in out.split("\x1e"):
            parts = record.strip("\n").split("\x1f")
            if len(parts) == 4:
                rows.append((parts[0], parts[1], float(parts[2]), parts[3]))
        return rows

    def versions(self, rel: str) -> list[Version]:
        return [
            Version(h, when, author, subject, author == SYSTEM_AUTHOR)
            for h, author, when, subject in self._log("--", rel)
        ]

    def text(self, rel: str, version_id: str) -> str | None:
        if not (len(version_id) == 40 and all(c in "0123456789abcdef" for c in version_id)):
            return None
        if version_id not in {v.id for v in self.versions(rel)}:
            return None
        shown = self._git("show", f"{version_id}:./{rel}", check=False)
        return shown.stdout if shown.returncode == 0 else None

    def changes_since(self, since: float) -> list[Change]:
        out = self._git(
            "log",
            # with its zone: git reads a bare "@0" (no build yet) as a relative date, now
            f"--since=@{int(since)} +0000",
            "--format=%x1e%an%x1f%ae%x1f%at%x1f%s",
            "--name-only",
            "--",
            "news",
            "top10",
        ).stdout
        changes = []
        for record in out.split("\x1e"):
            lines = [line for line in record.split("\n") if line.strip()]
            if not lines:
                continue
            parts = lines[0].split("\x1f")
            # Commit times are whole seconds: a commit in the build's own second counts as
            # pending (shown once too often rather than never).
            if len(parts) != 4 or parts[0] == SYSTEM_AUTHOR or int(parts[2]) < int(since):
                continue
            if not parts[1].endswith(f"@{DESK_EMAIL_DOMAIN}"):
                continue  # not a desk change
            for name in lines[1:]:
                changes.append(Change(float(parts[2]), parts[0], name, parts[3]))
        return changes[::-1]


def _git_usable(content: Path) -> bool:
    """True when content is in a git work tree that does not ignore its stories and lists."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=content,
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return False
        ignored = subprocess.run(
            ["git", "check-ignore", "--", "news/0000/x.md", "top10/0000.yaml"],
            cwd=content,
            capture_output=True,
            env=env,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return ignored.returncode == 1  # 1: none of them is ignored


def journal_folder(content: str | os.PathLike[str]) -> Path:
    """Where the journal of a content folder lives: ``<content>.history`` beside it."""
    content = Path(content).resolve()
    return content.with_name(f"{content.name}.history")


def open_history(content: str | os.PathLike[str]) -> History:
    """Git when the content folder is in a usable git work tree, else the journal."""
    content = Path(content)
    if _git_usable(content):
        return GitHistory(content)
    return JournalHistory(journal_folder(content))


def texts_differ(a: str | None, b: str | None) -> bool:
    return (text_sha(a) if a is not None else None) != (text_sha(b) if b is not None else None)
