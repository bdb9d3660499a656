"""Where the desk finds the content, the live site and index, its own files and the lock."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DESK_DIR = "var/desk"


class DeskConfigError(ValueError):
    """A desk setting that cannot work (a folder missing, or its files inside the site)."""


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


@dataclass(frozen=True)
class DeskConfig:
    """The desk's paths and switches.

    ``root`` is the nightly folder: its ``lock`` is taken for every rebuild, and when it has a
    live release (``ROOT/current``) a rebuild publishes a new release as the nightly does;
    otherwise a rebuild builds into ``output`` and ``index``.
    """

    content: Path
    output: Path
    index: Path
    desk_dir: Path = Path(DEFAULT_DESK_DIR)
    root: Path = Path("var/site")

    @property
    def users_file(self) -> Path:
        return self.desk_dir / "users.json"

    @property
    def secret_file(self) -> Path:
        return self.desk_dir / "secret.key"

    @property
    def throttle_db(self) -> Path:
        return self.desk_dir / "logins.sqlite"

    @property
    def rebuild_file(self) -> Path:
        return self.desk_dir / "rebuild.json"

    @property
    def objects_dir(self) -> Path:
        return self.desk_dir / "objects"

    @property
    def rebuild_lock(self) -> Path:
        return self.desk_dir / "rebuild.lock"

    @property
    def write_lock(self) -> Path:
        return self.desk_dir / "write.lock"

    @property
    def tmp_dir(self) -> Path:
        return self.desk_dir / "tmp"

    def check(self) -> None:
        """Refuse settings that cannot work; create the desk folder (private to its owner)."""
        if not self.content.is_dir():
            raise DeskConfigError(f"content folder not found: {self.content}")
        for folder, what in ((self.output, "site"), (self.content, "content folder")):
            if _inside(self.desk_dir, folder):
                raise DeskConfigError(
                    f"the desk folder {self.desk_dir} (users and secrets) must not be inside "
                    f"the {what} {folder}"
                )
        self.desk_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.desk_dir, 0o700)
