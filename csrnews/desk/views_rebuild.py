"""“Rebuild now”, its progress and result, and what is waiting to go live."""

from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from csrnews.desk.forms import ButtonForm
from csrnews.desk.history import Change
from csrnews.desk.service import Desk
from csrnews.desk.web import desk_of

bp = Blueprint("rebuild", __name__)


def pending_changes(desk: Desk) -> list[Change]:
    """Desk changes made after the live site was built: they go live with the next rebuild."""
    built = desk.rebuilder.built_at()
    try:
        return desk.history.changes_since(built or 0.0)
    except Exception:  # the page must show even when git cannot be asked
        return []


@bp.route("/rebuild", methods=["GET", "POST"])
def rebuild() -> Response | str:
    desk = desk_of()
    form = ButtonForm()
    if form.validate_on_submit():
        started, message = desk.rebuilder.start(g.user.name)
        flash(message, "info" if started else "error")
        return redirect(url_for("rebuild.rebuild"))
    return render_template(
        "desk/rebuild.html",
        form=form,
        status=desk.rebuilder.status(),
        mode=desk.rebuilder.mode(),
        built_at=desk.rebuilder.built_at(),
        pending=pending_changes(desk),
        command=" ".join(desk.rebuilder.command()),
    )


@bp.route("/rebuild/status")
def status() -> Response:
    data = desk_of().rebuilder.status()
    data.pop("pid", None)
    data.pop("host", None)
    data.pop("command", None)
    return jsonify(data)
