"""The desk's Flask app: sessions, login on every page, CSRF, security headers, error pages."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import InternalServerError
from werkzeug.wrappers import Response

from csrnews.desk import views_auth, views_rebuild, views_stories, views_top10
from csrnews.desk.config import DeskConfig
from csrnews.desk.forms import LoginForm
from csrnews.desk.history import HistoryError
from csrnews.desk.lists import ListNotFound
from csrnews.desk.service import Desk
from csrnews.desk.stories import StoryNotFound
from csrnews.desk.users import UserError
from csrnews.desk.web import current_user, desk_of, safe_next, wants_json
from csrnews.story.vocabulary import EVENT_TYPES

logger = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
OPEN_ENDPOINTS = frozenset({"auth.login", "static"})


class DeskSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, the cookie limited to the desk's path and marked Secure
    whenever the request came over HTTPS (through a proxy the WSGI server trusts)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root or "/"


def _require_login() -> Response | tuple[Any, int] | None:
    """No desk URL answers without a valid session (the login page and its CSS aside)."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    user = current_user()
    if user is None:
        if request.method in ("GET", "HEAD") and not wants_json():
            return redirect(
                url_for("auth.login", next=request.script_root + request.full_path.rstrip("?"))
            )
        if wants_json():
            return jsonify({"error": "log in first"}), 401
        return _session_ended()
    g.user = user
    return None


SESSION_ENDED = (
    "Your session has ended (you logged out, it was idle for 12 hours, or your password "
    "changed), so nothing was saved. Log in again to go back to the page: the text you typed "
    "into a story's form is kept in this browser tab and put back into the form."
)


def _session_ended() -> tuple[str, int]:
    """A form posted without a valid session: the login page (not a bare 401), which leads back
    to the page the form was on; the story forms' typed text waits in the tab (desk.js)."""
    if request.endpoint in ("stories.edit", "stories.new"):
        back = request.script_root + request.path  # the form's own page
    else:
        back = _referrer_path()
    typed = []  # a top-10 entry's text has no kept copy in the tab: shown here to copy
    if request.endpoint in ("top10.add", "top10.entry"):
        labels = {"headline": "Headline", "reason": "Reason for listing", "account": "Account"}
        typed = [(label, request.form.get(name, "")) for name, label in labels.items()]
        typed = [(label, text) for label, text in typed if text.strip()]
    page = render_template(
        "desk/login.html",
        form=LoginForm(formdata=None),
        typed=typed,
        next=safe_next(back, "") or None,
        error="You are logged out." if request.endpoint == "auth.logout" else SESSION_ENDED,
    )
    return page, 401


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(status: int, title: str, message: str, back: str = "") -> tuple[str, int]:
    if wants_json():
        return jsonify({"error": message}), status  # type: ignore[return-value]
    return render_template("desk/error.html", title=title, message=message, back=back), status


def _referrer_path() -> str:
    """The desk page a form was sent from (the Referer, when it is this desk), else ""."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return ""
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), "")


def create_app(config: DeskConfig, *, testing: bool = False) -> Flask:
    """A Flask app serving the desk for one content folder and site."""
    app = Flask(__name__, static_folder="static", template_folder="templates")
    desk = Desk(config)
    app.config.update(
        SECRET_KEY=desk.secret,
        SESSION_COOKIE_NAME="csrnews_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=False,  # True per request over HTTPS (DeskSessionInterface)
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a long edit is not lost
        WTF_CSRF_SSL_STRICT=True,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TESTING=testing,
    )
    app.session_interface = DeskSessionInterface()
    app.extensions["csrnews_desk"] = desk
    app.before_request(_require_login)  # before the CSRF check: no session, no answer
    CSRFProtect(app)
    app.after_request(_headers)
    for module in (views_auth, views_stories, views_top10, views_rebuild):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _context() -> dict[str, Any]:
        return {
            "user": g.get("user"),
            "event_types": EVENT_TYPES,
            "pending_count": _pending_count(),
        }

    @app.template_filter("when")
    def _when(moment: float | None) -> str:
        if not moment:
            return ""
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[str, int]:
        logger.warning("desk: refused a form without a valid CSRF token: %s", exc.description)
        return _error_page(
            400,
            "Form refused",
            "This form could not be accepted: its security token was missing or did not match "
            "your session (you logged out or in again since the page was opened, perhaps in "
            "another tab). Nothing was changed. Open the page again and repeat what you did: "
            "text typed into a story's form comes back when you open it.",
            back=_referrer_path(),
        )

    @app.errorhandler(StoryNotFound)
    @app.errorhandler(ListNotFound)
    def _not_found(exc: Exception) -> tuple[str, int]:
        return _error_page(404, "Not found", str(exc))

    @app.errorhandler(404)
    def _404(exc: Exception) -> tuple[str, int]:
        return _error_page(404, "Not found", "There is no such page on the desk.")

    @app.errorhandler(403)
    def _403(exc: Exception) -> tuple[str, int]:
        return _error_page(403, "Not allowed", "This page is for the desk's administrators.")

    @app.errorhandler(405)
    def _405(exc: Exception) -> tuple[str, int]:
        return _error_page(405, "Not allowed", "This address does not take that kind of request.")

    @app.errorhandler(UnicodeDecodeError)
    def _not_text(exc: UnicodeDecodeError) -> tuple[str, int]:
        logger.warning("desk: a file is not UTF-8 text: %s", exc)
        return _error_page(
            422,
            "This file cannot be read",
            "The file is not UTF-8 text, so the desk will not open or change it. "
            "Fix its encoding in the content folder (or restore an earlier version).",
        )

    @app.errorhandler(InternalServerError)
    def _500(exc: InternalServerError) -> tuple[str, int] | Response:
        # Flask has logged the exception with its traceback already.
        message = (
            "Something went wrong on the server; the desk's log has the details. What you "
            "were doing may not have been done: open the page again to see. Text typed into a "
            "story's form is kept in this browser tab and comes back when you open it again."
        )
        try:
            return _error_page(500, "Server error", message)
        except Exception:  # the page itself needs what failed: a plain one
            logger.exception("desk: the error page failed too")
            return Response(message, 500, {"Content-Type": "text/plain; charset=utf-8"})

    @app.errorhandler(HistoryError)
    @app.errorhandler(UserError)
    def _history(exc: Exception) -> tuple[str, int]:
        logger.error("desk: %s", exc)
        return _error_page(500, "Could not record the change", str(exc))

    def _pending_count() -> int:
        if g.get("user") is None:
            return 0
        if "pending" not in g:
            g.pending = views_rebuild.pending_changes(desk_of())
        return len(g.pending)

    return app
