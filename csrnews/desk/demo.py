"""The demo's desk user: made for `csrnews demo` only, in the demo's own folder."""

from __future__ import annotations

import secrets
from pathlib import Path

from csrnews.desk.users import UserStore

DEMO_USER = "demo-editor"


def demo_user(desk_dir: Path) -> tuple[str, str]:
    """(name, password) of the demo's editor, with a new random password each run."""
    desk_dir.mkdir(parents=True, exist_ok=True)
    desk_dir.chmod(0o700)
    password = "demo-" + secrets.token_urlsafe(9)
    UserStore(desk_dir / "users.json").add(DEMO_USER, password, "editor", replace=True)
    return DEMO_USER, password
