"""Find, fix, hide, write and restore stories; the live preview."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from csrnews.desk import storyedit
from csrnews.desk.forms import BaseForm, NewStoryForm, RestoreForm, StoryForm
from csrnews.desk.objects import text_sha
from csrnews.desk.stories import SORTS, StoryNotFound, StoryQuery, find, resolve_id
from csrnews.desk.web import desk_of
from csrnews.story.storyfile import Story, is_edited, parse_story
from csrnews.story.urls import story_url

bp = Blueprint("stories", __name__)

MAX_PREVIEW = 500_000


@bp.route("/")
def index() -> str:
    desk = desk_of()
    query = StoryQuery.from_args(request.args)
    found = find(desk.catalogue, desk.search, query)
    records = desk.catalogue.records()
    return render_template(
        "desk/stories.html",
        query=query,
        found=found,
        sorts=SORTS,
        sources=sorted({r.source for r in records if r.source}),
        years=sorted({r.year for r in records if r.year}, reverse=True),
        langs=sorted({r.lang for r in records if r.lang}),
    )


def _edit_page(
    story_id: str, form: StoryForm, story: Story, sha: str, conflict: Any = None, status: int = 200
) -> tuple[str, int]:
    desk = desk_of()
    path = resolve_id(desk.content, story_id)
    text = path.read_text(encoding="utf-8")
    date = story.get("Date")
    shown = (form.event_date.data or "").strip()
    if shown and storyedit.shown_date(shown) != shown[:10]:
        # not a date a date field can show: as text, so that it is seen (and not saved empty)
        form.event_date.render_kw = {**(form.event_date.render_kw or {}), "type": "text"}
    return render_template(
        "desk/edit.html",
        form=form,
        story=story,
        story_id=story_id,
        sha=sha,
        edited=is_edited(text),
        public_url=story_url(
            date[:4] if date[:4].isdigit() else "undated", story.slug or path.stem
        ),
        hidden=story.get("Status").lower() in ("hidden", "draft"),
        visibility_form=BaseForm(formdata=None, base=sha),  # the file as it is now
        conflict=conflict,
    ), status


@bp.route("/story/<path:story_id>", methods=["GET", "POST"])
def edit(story_id: str) -> Response | tuple[str, int]:
    desk = desk_of()
    _, story, sha = storyedit.open_for_edit(desk, story_id)
    if request.method == "GET":
        form = StoryForm(data={**storyedit.form_values(story), "base": sha})
        return _edit_page(story_id, form, story, sha)
    form = StoryForm()
    if not form.validate():
        return _edit_page(story_id, form, story, sha, status=400)
    outcome = storyedit.save(desk, story_id, form.values(), form.base.data, g.user.name)
    if outcome.conflict is not None:
        conflict = outcome.conflict
        merged = StoryForm(formdata=None, data={**conflict.merged, "base": conflict.current_sha})
        return _edit_page(story_id, merged, story, conflict.current_sha, conflict, 409)
    flash(outcome.message)
    return redirect(url_for("stories.edit", story_id=story_id))


@bp.route("/visibility/<path:story_id>", methods=["POST"])
def visibility(story_id: str) -> Response:
    desk = desk_of()
    resolve_id(desk.content, story_id)
    form = BaseForm()
    hide = request.form.get("action") == "hide"
    if form.validate_on_submit():
        outcome = storyedit.set_visibility(desk, story_id, hide, form.base.data, g.user.name)
        flash(outcome.message)
    else:
        flash("This form is out of date; nothing was changed.")
    return redirect(url_for("stories.edit", story_id=story_id))


@bp.route("/history/<path:story_id>")
def history(story_id: str) -> str:
    desk = desk_of()
    path = resolve_id(desk.content, story_id)
    rel = f"news/{story_id}.md"
    current = path.read_text(encoding="utf-8")
    rows = version_rows(desk, rel, current)
    return render_template(
        "desk/history.html",
        kind="story",
        title=parse_story(current).title,
        back=url_for("stories.edit", story_id=story_id),
        restore_url=url_for("stories.restore", story_id=story_id),
        rows=rows,
        history=desk.history,
        form=RestoreForm(),
    )


def version_rows(desk: Any, rel: str, current: str) -> list[dict[str, Any]]:
    """Each version with the diff from the one before it, newest first."""
    versions = desk.history.versions(rel)
    texts = [desk.history.text(rel, v.id) for v in versions]
    rows = []
    for i, (version, text) in enumerate(zip(versions, texts, strict=True)):
        older = texts[i + 1] if i + 1 < len(texts) else None
        rows.append(
            {
                "version": version,
                "diff": storyedit.diff_lines(older or "", text or "", "before", "this version"),
                "current": text is not None and text_sha(text) == text_sha(current),
                "first": older is None,
            }
        )
    return rows


@bp.route("/restore/<path:story_id>", methods=["POST"])
def restore(story_id: str) -> Response:
    desk = desk_of()
    resolve_id(desk.content, story_id)
    form = RestoreForm()
    if not form.validate_on_submit():
        flash("This form is out of date; nothing was restored.")
        return redirect(url_for("stories.history", story_id=story_id))
    try:
        outcome = storyedit.restore(desk, story_id, form.version.data, g.user.name)
    except StoryNotFound:
        flash("That version is not in this story's history; nothing was restored.")
        return redirect(url_for("stories.history", story_id=story_id))
    flash(outcome.message)
    return redirect(url_for("stories.edit", story_id=story_id))


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    form = NewStoryForm()
    if request.method == "GET":
        form = NewStoryForm(data={"category": "other", "lang": "en"})
        return render_template("desk/new.html", form=form), 200
    if not form.validate():
        return render_template("desk/new.html", form=form), 400
    outcome = storyedit.create(desk_of(), form.values(), g.user.name)
    flash(outcome.message, "written")  # the edit page drops the new-story form's kept text
    return redirect(url_for("stories.edit", story_id=outcome.story_id))


@bp.route("/preview", methods=["POST"])
def preview() -> Response | tuple[Response, int]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"error": "send JSON: {title, summary, body}"}), 400
    values = {k: str(data.get(k) or "") for k in ("title", "summary", "body", "lang")}
    if sum(len(v) for v in values.values()) > MAX_PREVIEW:
        return jsonify({"error": "too long to preview"}), 413
    story = Story()
    story.set("Title", values["title"] or "(no title)")
    story.set("Summary", values["summary"])
    story.set("Lang", values["lang"] or None)
    story.body = values["body"]
    return jsonify(desk_of().previewer.render(story))
