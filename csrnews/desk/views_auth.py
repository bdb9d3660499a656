"""Logging in and out (rate-limited), and the admins' list of users."""

from __future__ import annotations

import logging
import math

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from csrnews.desk.forms import ButtonForm, LoginForm
from csrnews.desk.web import auth_tag, desk_of, safe_next

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    form = LoginForm()
    desk = desk_of()
    target = request.args.get("next")
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("desk/login.html", form=form, next=target), status
    name = form.username.data.strip().lower()
    keys = [f"user:{name}", f"ip:{request.remote_addr or '?'}"]
    wait = desk.throttle.wait(keys)
    if wait > 0:
        seconds = math.ceil(wait)
        logger.warning("desk: login for %r from %s refused for %d s", name, keys[1], seconds)
        body = render_template(
            "desk/login.html",
            form=form,
            next=target,
            error=f"Too many failed attempts. Wait {seconds} seconds, then try again.",
        )
        return Response(body, 429, {"Retry-After": str(seconds)})
    user = desk.users.verify(name, form.password.data)
    if user is None:
        desk.throttle.failed(keys)
        logger.warning("desk: failed login for %r from %s", name, keys[1])
        return render_template(
            "desk/login.html", form=form, next=target, error="Wrong user name or password."
        ), 401
    desk.throttle.succeeded(keys)
    session.clear()  # a fresh session (and CSRF token) on every login
    session["user"] = user.name
    session["auth"] = auth_tag(desk, user)
    session.permanent = True
    logger.info("desk: %s logged in from %s", user.name, keys[1])
    return redirect(safe_next(target, url_for("stories.index")))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if ButtonForm().validate_on_submit():
        session.clear()
        flash("You are logged out.")
    return redirect(url_for("auth.login"))


@bp.route("/users")
def users() -> str:
    if not g.user.is_admin:
        abort(403)
    listed = sorted(desk_of().users.load().values(), key=lambda u: u.name)
    return render_template("desk/users.html", users=listed)
