"""Small helpers the desk's views share: the Desk object, the logged-in user, safe redirects."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import current_app, request, session

from csrnews.desk.service import Desk
from csrnews.desk.users import User


def desk_of() -> Desk:
    return current_app.extensions["csrnews_desk"]


def auth_tag(desk: Desk, user: User) -> str:
    """Ties a session to the user's current password hash: a new password or a removed user
    ends every session at once."""
    return hmac.new(desk.secret, user.hash.encode(), hashlib.sha256).hexdigest()[:32]


def current_user() -> User | None:
    name = session.get("user")
    if not isinstance(name, str):
        return None
    desk = desk_of()
    user = desk.users.get(name)
    if user is None or not hmac.compare_digest(str(session.get("auth", "")), auth_tag(desk, user)):
        return None
    return user


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def safe_next(target: str | None, default: str) -> str:
    """Only a path on the desk itself (no other host, no scheme) is followed after login."""
    if not target:
        return default
    parts = urlsplit(target)
    root = request.script_root + "/"
    if parts.scheme or parts.netloc or not target.startswith(root) or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
