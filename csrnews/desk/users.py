"""Desk users: names, roles and argon2 password hashes in a JSON file outside the site."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from csrnews.story.storyfile import write_text_atomic

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("editor", "admin")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


class UserError(ValueError):
    """A user name, role or password that is refused, or a users file that cannot be read."""


@dataclass(frozen=True)
class User:
    """One desk user."""

    name: str
    role: str
    hash: str
    created: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise UserError(
            f"user name {name!r}: use 2 to 32 lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


class UserStore:
    """The users file; re-read when it changes on disk (the CLI may edit it while serving)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, User]] | None = None
        self._dummy = _HASHER.hash("not a password of anyone's")

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def load(self) -> dict[str, User]:
        """Every user by name ({} when the file does not exist yet)."""
        stamp = self._stamp()
        if stamp is None:
            return {}
        cached = self._cache
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            users = {
                name: User(name, str(item["role"]), str(item["hash"]), str(item.get("created", "")))
                for name, item in data["users"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"cannot read the users file {self.path}: {exc}") from exc
        with self._lock:
            self._cache = (stamp, users)
        return users

    def _save(self, users: dict[str, User]) -> None:
        data = {
            "version": 1,
            "users": {
                u.name: {"role": u.role, "hash": u.hash, "created": u.created}
                for u in sorted(users.values(), key=lambda u: u.name)
            },
        }
        # readable by its owner only (password hashes)
        write_text_atomic(self.path, json.dumps(data, indent=2) + "\n", private=True)

    def add(self, name: str, password: str, role: str = "editor", *, replace: bool = False) -> User:
        """Add a user (or, with replace, set an existing user's password and role)."""
        check_name(name)
        check_password(password)
        if role not in ROLES:
            raise UserError(f"role {role!r} must be one of: {', '.join(ROLES)}")
        users = dict(self.load())
        if name in users and not replace:
            raise UserError(f"user {name!r} exists already (use --replace to reset it)")
        created = users[name].created if name in users else _now()
        users[name] = User(name, role, _HASHER.hash(password), created)
        self._save(users)
        return users[name]

    def remove(self, name: str) -> None:
        users = dict(self.load())
        if name not in users:
            raise UserError(f"no user {name!r} in {self.path}")
        del users[name]
        self._save(users)

    def get(self, name: str) -> User | None:
        return self.load().get(name)

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right; None otherwise (as slow for unknown names)."""
        user = self.load().get(name)
        try:
            _HASHER.verify(user.hash if user else self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        if _HASHER.check_needs_rehash(user.hash):
            try:
                self.add(name, password, user.role, replace=True)
            except (UserError, OSError) as exc:
                logger.warning("could not rehash the password of %s: %s", name, exc)
        return user


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
