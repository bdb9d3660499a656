"""What the crawler's gazetteers know, for the site: organisations' full and Chinese names,
and the kind of each place (city, province, region, country).

The data files are crawler/data/organisations.yaml and locations.yaml (editors keep them);
this module only reads them. An organisation's canonical name is often its acronym ("MIIT");
its full name is the alias that spells the acronym out ("Ministry of Industry and Information
Technology"), its Chinese name the first alias written in Chinese. A body whose canonical name
is the full one ("Fair Labor Association") gets its acronym from the aliases the same way.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from csrnews.story import settings

# libyaml's safe loader where PyYAML has it (the gazetteer files are read at every build)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

logger = logging.getLogger(__name__)

DATA_DIR = settings.ENRICHMENT_DATA_DIR
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_ACRONYM_RE = re.compile(r"[A-Za-z]*[A-Z][A-Za-z]*[A-Z][A-Za-z]*")  # two capitals, no space
_COMPANY_FORM_RE = re.compile(r"\b(Co\.|Ltd|Inc\.|Limited|GmbH|plc|AG|SA|N\.V\.)", re.I)


@dataclass(frozen=True)
class OrgNames:
    """How an organisation is named in full: ``name`` is the canonical (page) name."""

    name: str
    full: str = ""  # the full English name, when the canonical name is an acronym
    acronym: str = ""  # the acronym, when the canonical name is the full one
    chinese: str = ""  # the Chinese name, where known

    @property
    def heading(self) -> str:
        """The name a page shows: "Ministry of ... (MIIT)", "Fair Labor Association (FLA)"."""
        if self.full:
            return f"{self.full} ({self.name})"
        if self.acronym:
            return f"{self.name} ({self.acronym})"
        return self.name


def spells_out(acronym: str, full: str) -> bool:
    """True when ``full`` reads as ``acronym`` spelt out ("RBA" / "Responsible Business
    Alliance"): several words, starting with the acronym's first letter, the acronym's
    letters in order among its letters, not a company's legal name nor the acronym again."""
    letters = [c for c in acronym.lower() if c.isalpha()]
    words = full.split()
    if len(words) < 2 or not letters or _CJK_RE.search(full) or full.isupper():
        return False
    if words[0].lower() == acronym.lower() or _COMPANY_FORM_RE.search(full):
        return False
    text = full.lower()
    if text[0] != letters[0]:
        return False
    at = 0
    for letter in letters:
        at = text.find(letter, at)
        if at < 0:
            return False
        at += 1
    return True


def _names_of(entry: dict[str, object]) -> OrgNames | None:
    name = str(entry.get("name") or "").strip()
    if not name:
        return None
    aliases = [str(a).strip() for a in entry.get("aliases") or [] if str(a).strip()]  # type: ignore[attr-defined]
    chinese = next((a for a in aliases if _CJK_RE.search(a)), "")
    full = acronym = ""
    if _ACRONYM_RE.fullmatch(name):
        full = next((a for a in aliases if spells_out(name, a)), "")
    else:
        acronym = next((a for a in aliases if _ACRONYM_RE.fullmatch(a) and spells_out(a, name)), "")
    return OrgNames(name, full, acronym, chinese)


@functools.cache
def organisations(data_dir: Path = DATA_DIR) -> dict[str, OrgNames]:
    """Every organisation of the gazetteer by canonical name ({} when the file is unreadable)."""
    path = data_dir / "organisations.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("cannot read %s for organisation names: %s", path, exc)
        return {}
    out: dict[str, OrgNames] = {}
    for entry in data.get("organisations") or []:
        if isinstance(entry, dict):
            names = _names_of(entry)
            if names is not None:
                out.setdefault(names.name, names)
    return out


def org_names(name: str) -> OrgNames:
    """The names of an organisation (only its own name when the gazetteer does not know it)."""
    return organisations().get(name) or OrgNames(name)


@functools.cache
def place_kinds(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Kind of each place by its canonical name and its aliases: city, province, country..."""
    path = data_dir / "locations.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("cannot read %s for kinds of places: %s", path, exc)
        return {}
    kinds: dict[str, str] = {}
    for entry in data.get("locations") or []:
        if isinstance(entry, dict) and entry.get("name"):
            kind = str(entry.get("kind") or "")
            for alias in [entry["name"], *(entry.get("aliases") or [])]:
                kinds.setdefault(str(alias), kind)
    return kinds


def event_place(locations: list[str]) -> tuple[str, str] | None:
    """The one place of an event and its address: the first place the story names that is not
    a country (stories name the event's place first), else the country. The address adds the
    country only when the story names just that place, then its country ("Beijing, China").
    None when the story names no place."""
    if not locations:
        return None
    kinds = place_kinds()
    place = next((loc for loc in locations if kinds.get(loc) != "country"), locations[0])
    others = [loc for loc in locations if loc != place]
    if (
        len(others) == 1
        and kinds.get(others[0]) == "country"
        and kinds.get(place) != "country"
        and locations.index(others[0]) > locations.index(place)  # "Beijing, China"
    ):
        return place, f"{place}, {others[0]}"
    return place, place
