"""The controlled vocabulary of event types: ids used in data files, labels used in story files."""

from __future__ import annotations

# id -> the label written to a story's `Category` (Pelican slugifies it for URLs).
EVENT_TYPES: dict[str, str] = {
    "summit": "Summit & forum",
    "mou": "MoU & partnership",
    "top10": "Top-10 & ranking",
    "report": "Report",
    "policy": "Policy & standard",
    "project": "Project & case study",
    "award": "Award",
    "training": "Training",
    "other": "Other",
}

LABEL_TO_ID: dict[str, str] = {label.lower(): key for key, label in EVENT_TYPES.items()}

# The event types whose stories are about an event people attend (a summit or forum, a
# training, an award ceremony): these, with an event date, are the site's events (the events
# page, events.ics, schema.org Event). A signing, a report or a policy is news, not an event.
EVENT_TYPE_IDS: frozenset[str] = frozenset({"summit", "training", "award"})


def event_type_label(type_id: str) -> str:
    """Return the Category label for an event-type id (unknown ids map to "Other")."""
    return EVENT_TYPES.get(type_id, EVENT_TYPES["other"])


def is_event_type(label: str) -> bool:
    """True for the event types that are events people attend (EVENT_TYPE_IDS)."""
    return event_type_id(label) in EVENT_TYPE_IDS


def event_type_id(label: str) -> str:
    """Return the event-type id for a Category label or id (any case); "other" if unknown."""
    key = label.strip().lower()
    if key in EVENT_TYPES:
        return key
    return LABEL_TO_ID.get(key, "other")


# Story languages (the `Lang` key) as readers know them.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}


def language_name(code: str) -> str:
    """A language code as readers know it ("zh-CN" -> 中文); unknown codes as they are."""
    return LANGUAGES.get((code or "").split("-")[0].lower(), code)
