"""The top-10 lists: start one, see candidates, add, reorder, remove, validate, publish."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from csrnews.desk import lists
from csrnews.desk.forms import (
    AddEntryForm,
    BaseForm,
    EntryForm,
    MoveForm,
    NewListForm,
    RemoveForm,
    RestoreForm,
    StatusForm,
)
from csrnews.desk.views_stories import version_rows
from csrnews.desk.web import desk_of
from csrnews.top10 import Top10Error

bp = Blueprint("top10", __name__, url_prefix="/top10")


def _problems(exc: Top10Error) -> None:
    lines = [p.message for p in exc.problems] if exc.problems else [str(exc)]
    for line in lines[:12]:
        flash(line, "error")


def _conflict(exc: lists.ListConflict) -> None:
    flash(
        f"Not changed: {exc.user} changed this list since you loaded it. "
        "Their change is shown below; look again, then repeat what you did (what you typed "
        "is kept in its form).",
        "error",
    )
    flash("\n".join(exc.diff[2:]) or "(no visible change)", "diff")


@bp.route("/", methods=["GET", "POST"])
def index() -> Response | str:
    desk = desk_of()
    form = NewListForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                name = lists.new(desk, form.year.data, g.user.name, topic=form.topic.data.strip())
            except Top10Error as exc:
                _problems(exc)
            else:
                flash("A draft list was started: add entries from the candidates.")
                return redirect(url_for("top10.edit", name=name))
        else:
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
    return render_template("desk/top10_index.html", lists=lists.all_lists(desk), form=form)


@bp.route("/<name>")
def edit(name: str) -> str:
    return _list_page(name)


def _list_page(name: str, kept: dict[str, str] | None = None) -> str:
    """The list's page; KEPT is what an editor typed into an entry's or a candidate's form that
    was not saved (a conflict, a refused value): put back into that form, or shown on its own
    when that form is no longer there, never dropped."""
    desk = desk_of()
    try:
        view = lists.view(desk, name)
    except Top10Error as exc:
        return render_template("desk/top10_broken.html", name=name, problems=str(exc))
    placed = False
    if kept:
        if kept["form"] == "add":
            full = len(view.lst.entries) >= view.lst.max_entries
            placed = not full and any(
                c.story.slug == kept["slug"] and not c.listed for c in view.candidates
            )
        else:
            entry = next((e for e in view.lst.entries if _entry_key(e) == kept["key"]), None)
            if entry is not None:
                kept["rank"] = str(entry.rank)  # where that entry is now
                placed = True
    return render_template(
        "desk/top10_list.html",
        view=view,
        lst=view.lst,
        base=BaseForm(formdata=None, base=view.sha),  # not the posted (stale) base
        add_form=AddEntryForm(formdata=None, base=view.sha),
        moved=request.args.get("moved", type=int),
        restore=RestoreForm(),
        kept=kept or {},
        kept_placed=placed,
        entry_key=_entry_key,
    )


def _entry_key(entry: object) -> str:
    """What an entry is about (its stories or link), whatever its rank."""
    stories = getattr(entry, "stories", None) or []
    return " ".join(stories) or str(getattr(entry, "url", "") or "")


def _kept_add(form: AddEntryForm) -> dict[str, str]:
    return {
        "form": "add",
        "slug": form.slug.data or "",
        "reason": form.reason.data or "",
        "headline": form.headline.data or "",
        "rank": str(form.rank.data or ""),
    }


def _kept_entry(form: EntryForm) -> dict[str, str]:
    return {
        "form": "entry",
        "key": request.form.get("key", ""),
        "headline": form.headline.data or "",
        "reason": form.reason.data or "",
        "account": form.account.data or "",
    }


def _back(name: str, **args: object) -> Response:
    return redirect(url_for("top10.edit", name=name, **args))  # type: ignore[arg-type]


@bp.route("/<name>/add", methods=["POST"])
def add(name: str) -> Response | tuple[str, int]:
    form = AddEntryForm()
    lists.list_path(desk_of(), name)
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            label = getattr(form, field).label.text if hasattr(form, field) else field
            flash(f"{label}: {'; '.join(str(e) for e in errors)}", "error")
        return _list_page(name, _kept_add(form)), 400
    try:
        rank = lists.add(
            desk_of(),
            name,
            form.base.data,
            g.user.name,
            slug=form.slug.data,
            reason=form.reason.data.strip(),
            rank=form.rank.data,
            headline=(form.headline.data or "").strip(),
            out_of_year_reason=(form.out_of_year_reason.data or "").strip(),
        )
    except lists.ListConflict as exc:
        _conflict(exc)
        return _list_page(name, _kept_add(form)), 409
    except Top10Error as exc:
        _problems(exc)
        return _list_page(name, _kept_add(form)), 400
    flash(f"Added as No. {rank}.")
    return _back(name, _anchor=f"entry-{rank}")


@bp.route("/<name>/move", methods=["POST"])
def move(name: str) -> Response:
    form = MoveForm()
    lists.list_path(desk_of(), name)
    if not form.validate_on_submit():
        flash("This form is out of date; nothing was moved.", "error")
        return _back(name)
    try:
        headline = lists.move(
            desk_of(), name, form.base.data, g.user.name, form.src.data, form.dst.data
        )
    except lists.ListConflict as exc:
        _conflict(exc)
        return _back(name)
    except Top10Error as exc:
        _problems(exc)
        return _back(name)
    flash(f"Moved “{headline}” to No. {form.dst.data}.")
    return _back(name, moved=form.dst.data)  # the page focuses the moved entry


@bp.route("/<name>/entry", methods=["POST"])
def entry(name: str) -> Response | tuple[str, int]:
    form = EntryForm()
    lists.list_path(desk_of(), name)
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            label = getattr(form, field).label.text if hasattr(form, field) else field
            flash(f"{label}: {'; '.join(str(e) for e in errors)}", "error")
        return _list_page(name, _kept_entry(form)), 400
    values = {
        "headline": form.headline.data.strip(),
        "reason": " ".join((form.reason.data or "").split()),
        "account": " ".join((form.account.data or "").split()),
    }
    try:
        lists.update(desk_of(), name, form.base.data, g.user.name, form.rank.data, values)
    except lists.ListConflict as exc:
        _conflict(exc)
        return _list_page(name, _kept_entry(form)), 409
    except Top10Error as exc:
        _problems(exc)
        return _list_page(name, _kept_entry(form)), 400
    flash(f"No. {form.rank.data} changed.")
    return _back(name, moved=form.rank.data)


@bp.route("/<name>/remove", methods=["POST"])
def remove(name: str) -> Response:
    form = RemoveForm()
    lists.list_path(desk_of(), name)
    if not form.validate_on_submit():
        flash("This form is out of date; nothing was removed.", "error")
        return _back(name)
    try:
        headline = lists.remove(desk_of(), name, form.base.data, g.user.name, form.rank.data)
    except lists.ListConflict as exc:
        _conflict(exc)
        return _back(name)
    except Top10Error as exc:
        _problems(exc)
        return _back(name)
    flash(f"Removed “{headline}”; the entries after it moved up.")
    return _back(name)


@bp.route("/<name>/status", methods=["POST"])
def status(name: str) -> Response:
    form = StatusForm()
    lists.list_path(desk_of(), name)
    if not form.validate_on_submit():
        flash("This form is out of date; nothing was changed.", "error")
        return _back(name)
    try:
        lists.publish(desk_of(), name, form.base.data, g.user.name, form.status.data)
    except lists.ListConflict as exc:
        _conflict(exc)
        return _back(name)
    except Top10Error as exc:
        flash("Not published: the list breaks these rules.", "error")
        _problems(exc)
        return _back(name)
    if form.status.data == "published":
        flash("Published: the list goes live with the next rebuild.")
    else:
        flash("Unpublished: the list is a draft again and leaves the site at the next rebuild.")
    return _back(name)


@bp.route("/<name>/validate", methods=["POST"])
def validate(name: str) -> Response:
    form = BaseForm()
    lists.list_path(desk_of(), name)
    view = lists.view(desk_of(), name)
    if not form.validate_on_submit():
        flash("This form is out of date.", "error")
    elif view.publish_problems:
        flash(f"{len(view.publish_problems)} problem(s) to fix before publishing:", "error")
        for problem in view.publish_problems[:12]:
            flash(problem.message, "error")
    else:
        flash("Valid: the list passes every rule of `csrnews top10 check` and can be published.")
    return _back(name, _anchor="validation")


@bp.route("/<name>/history")
def history(name: str) -> str:
    desk = desk_of()
    path = lists.list_path(desk, name)
    current = path.read_text(encoding="utf-8")
    return render_template(
        "desk/history.html",
        kind="list",
        title=name,
        back=url_for("top10.edit", name=name),
        restore_url=url_for("top10.restore", name=name),
        rows=version_rows(desk, f"top10/{name}.yaml", current),
        history=desk.history,
        form=RestoreForm(),
    )


@bp.route("/<name>/restore", methods=["POST"])
def restore(name: str) -> Response:
    form = RestoreForm()
    lists.list_path(desk_of(), name)
    if not form.validate_on_submit():
        flash("This form is out of date; nothing was restored.", "error")
        return redirect(url_for("top10.history", name=name))
    try:
        lists.restore(desk_of(), name, form.version.data, g.user.name)
    except lists.ListNotFound:
        flash("That version is not in this list's history; nothing was restored.", "error")
        return redirect(url_for("top10.history", name=name))
    except Top10Error as exc:
        _problems(exc)
        return redirect(url_for("top10.history", name=name))
    flash(f"Restored the version {form.version.data[:10]}.")
    return _back(name)
