"""The desk's forms (WTForms through Flask-WTF: validation and a CSRF token in every form)."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from csrnews.story.vocabulary import EVENT_TYPES

SHA = Regexp(r"^[0-9a-f]{64}$", message="This form is out of date; open the page again.")
LANGS = [SelectChoice("en", "English"), SelectChoice("zh", "中文 (Chinese)")]
EVENT_TYPE_CHOICES = [SelectChoice(key, label) for key, label in EVENT_TYPES.items()]


def _iso_date(form: FlaskForm, field: StringField) -> None:
    if field.data:
        try:
            dt.date.fromisoformat(field.data.strip())
        except ValueError:
            raise ValidationError("Write the date as YYYY-MM-DD.") from None


def _list_help(what: str) -> dict[str, str]:
    return {"placeholder": f"{what}, separated by commas"}


class LoginForm(FlaskForm):
    username = StringField(
        "User name",
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class StoryFields(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField("Summary", validators=[Length(max=3000)], render_kw={"rows": 3})
    category = SelectField("Event type", choices=EVENT_TYPE_CHOICES)
    organisations = StringField(
        "Organisations", validators=[Length(max=2000)], render_kw=_list_help("Organisations")
    )
    standards = StringField(
        "Standards", validators=[Length(max=2000)], render_kw=_list_help("Standards")
    )
    locations = StringField("Places", validators=[Length(max=2000)], render_kw=_list_help("Places"))
    tags = StringField("Topics", validators=[Length(max=2000)], render_kw=_list_help("Topics"))
    event_date = StringField(
        "Event date",
        validators=[Optional(), _iso_date],
        render_kw={"type": "date"},
        description="When the event itself happened, if the story says.",
    )
    body = TextAreaField(
        "Text (Markdown)", validators=[Length(max=500_000)], render_kw={"rows": 18}
    )

    def values(self) -> dict[str, str]:
        names = ("title", "summary", "category", "organisations", "standards", "locations")
        values = {name: (getattr(self, name).data or "").strip() for name in names}
        values["tags"] = (self.tags.data or "").strip()
        values["event_date"] = (self.event_date.data or "").strip()
        values["body"] = self.body.data or ""
        return values


class StoryForm(StoryFields):
    base = HiddenField(validators=[SHA])


class NewStoryForm(StoryFields):
    date = StringField("Date", validators=[DataRequired(), _iso_date], render_kw={"type": "date"})
    lang = SelectField("Language", choices=LANGS)

    def values(self) -> dict[str, str]:
        values = super().values()
        values["date"] = self.date.data.strip()
        values["lang"] = self.lang.data
        return values


class BaseForm(FlaskForm):
    """A button that acts on the version of a file the editor saw."""

    base = HiddenField(validators=[SHA])


class RestoreForm(FlaskForm):
    version = HiddenField(validators=[DataRequired(), Length(max=64)])


class AddEntryForm(BaseForm):
    slug = HiddenField(validators=[DataRequired(), Length(max=250)])
    reason = TextAreaField(
        "Reason for listing", validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 2}
    )
    headline = StringField("Headline", validators=[Length(max=300)])
    rank = IntegerField("Rank", validators=[Optional(), NumberRange(1, 1000)])
    out_of_year_reason = StringField("Why it belongs to this year", validators=[Length(max=500)])


class MoveForm(BaseForm):
    src = IntegerField(validators=[DataRequired(), NumberRange(1, 1000)])
    dst = IntegerField(validators=[DataRequired(), NumberRange(1, 1000)])


class RemoveForm(BaseForm):
    rank = IntegerField(validators=[DataRequired(), NumberRange(1, 1000)])


class EntryForm(BaseForm):
    rank = IntegerField(validators=[DataRequired(), NumberRange(1, 1000)])
    headline = StringField("Headline", validators=[DataRequired(), Length(max=300)])
    reason = TextAreaField("Reason for listing", validators=[Length(max=2000)])
    account = TextAreaField("Account", validators=[Length(max=4000)])


class StatusForm(BaseForm):
    status = HiddenField(validators=[DataRequired(), Regexp(r"^(draft|published)$")])


class NewListForm(FlaskForm):
    year = IntegerField("Year", validators=[DataRequired(), NumberRange(1900, 2999)])
    topic = StringField(
        "Topic or region (optional)",
        validators=[Length(max=60), Regexp(r"^[\w -]*$", message="Letters, digits and spaces.")],
    )


class ButtonForm(FlaskForm):
    """A button with nothing but its CSRF token (log out, rebuild now)."""
