"""The enrichment data files: valid, complete, and an editor's change takes effect."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from csrnews.crawler.enrichment import DEFAULT_DATA_DIR, enrich, load_rules
from csrnews.crawler.enrichment.textutil import alias_key

from csrnews.story.vocabulary import EVENT_TYPES

REQUIRED_ORGANISATIONS = [
    "amfori",
    "RBA",
    "CESA",
    "CESI",
    "MIIT",
    "MOFCOM",
    "OECD",
    "BSR",
    "IFC",
    "World Bank",
    "GeSI",
    "UN Global Compact",
    "GRI",
    "ISO",
    "ILO",
    "UNDP",
    "SASAC",
    "China WTO Tribune",
    "CNTAC",
    "CCCMC",
    "RMI",
    "Fair Labor Association",
    "Ethical Trading Initiative",
    "SAI",
    "WBCSD",
    "CDP",
    "SGS",
    "NDRC",
    "Ministry of Ecology and Environment",
    "China Enterprise Confederation",
    "CASS",
    "IPE",
    "WWF",
    "UNICEF",
    "GIZ",
    "EU Chamber of Commerce in China",
    "AmCham China",
]
REQUIRED_STANDARDS = [
    "SJ/T 16000-2016",
    "SJ/T 11728-2018",
    "GB/T 36000-2015",
    "GB/T 36001-2015",
    "ISO 26000",
    "ISO 14001",
    "ISO 45001",
    "SA8000",
    "GRI Standards",
    "amfori BSCI Code of Conduct",
    "RBA Code of Conduct",
    "OECD Due Diligence Guidance",
    "UN Guiding Principles on Business and Human Rights",
]


def _load(name: str) -> dict:
    return yaml.safe_load((DEFAULT_DATA_DIR / name).read_text(encoding="utf-8"))


def test_gazetteer_is_complete_and_unambiguous() -> None:
    entries = _load("organisations.yaml")["organisations"]
    names = [e["name"] for e in entries]
    assert len(entries) >= 60
    assert len(names) == len(set(names))
    assert set(REQUIRED_ORGANISATIONS) <= set(names)
    owner: dict[str, str] = {}
    for entry in entries:
        assert any("\u4e00" <= c <= "\u9fff" for a in entry["aliases"] for c in a) or entry[
            "name"
        ] in {"Sedex", "UN Women", "ELEVATE", "Shift"}, f"{entry['name']} has no Chinese alias"
        for alias in [entry["name"], *entry["aliases"]]:
            key = alias_key(alias)
            assert owner.setdefault(key, entry["name"]) == entry["name"], f"{alias} is ambiguous"


def test_standards_and_event_types_are_valid() -> None:
    names = [s["name"] for s in _load("standards.yaml")["standards"]]
    assert set(REQUIRED_STANDARDS) <= set(names)
    types = _load("event_types.yaml")["types"]
    assert set(types) <= set(EVENT_TYPES)
    assert set(EVENT_TYPES) - {"other"} <= set(types)
    for rules in types.values():
        for rule in rules:
            assert rule["weight"] > 0 and (rule.get("words") or rule.get("patterns"))
            assert set(rule.get("zones") or ["body"]) <= {"headline", "lead", "body"}


def _append(path: Path, text: str) -> None:
    """Append to a data file and move its mtime on, as an editor's save would."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def test_editor_adds_an_organisation(data_copy: Path) -> None:
    text = "The Jiangnan Dyers Guild met the Pearl Delta Workers Club (PDWC). 江南染业公会欢迎。"
    assert "Jiangnan Dyers Guild" not in load_rules(data_copy).enrich("", text).organisations
    _append(
        data_copy / "organisations.yaml",
        "  - name: Jiangnan Dyers Guild\n    aliases: [JDG, 江南染业公会]\n",
    )
    found = load_rules(data_copy).enrich("", text).organisations
    assert found.count("Jiangnan Dyers Guild") == 1
    assert found[0] == "Jiangnan Dyers Guild"
    # The default data is untouched.
    assert "Jiangnan Dyers Guild" not in enrich("", text).organisations


def test_editor_adds_an_event_type_rule(data_copy: Path) -> None:
    title, text = "Hackathon on supply chain data", "Forty coders met over a weekend hackathon."
    assert load_rules(data_copy).enrich(title, text).category == "other"
    path = data_copy / "event_types.yaml"
    data = path.read_text(encoding="utf-8")
    rule = "    - {weight: 5, words: [hackathon*, 黑客松]}\n"
    data = data.replace("  training:\n", "  training:\n" + rule)
    path.write_text(data, encoding="utf-8")
    _append(path, "")
    assert load_rules(data_copy).enrich(title, text).category == "training"
    assert load_rules(data_copy).enrich("黑客松活动", "").category == "training"


def test_editor_adds_a_standard_and_a_place(data_copy: Path) -> None:
    _append(
        data_copy / "standards.yaml",
        "  - name: ZDHC MRSL\n    aliases: [ZDHC Manufacturing Restricted Substances List]\n",
    )
    _append(data_copy / "locations.yaml", "  - {name: Keqiao, kind: city, aliases: [柯桥]}\n")
    result = load_rules(data_copy).enrich("", "Mills in 柯桥 follow the ZDHC MRSL.")
    assert result.standards == ["ZDHC MRSL"]
    assert result.locations == ["Keqiao"]


def test_bad_event_type_id_is_reported(data_copy: Path) -> None:
    _append(data_copy / "event_types.yaml", "  webinar:\n    - {weight: 3, words: [webinar]}\n")
    with pytest.raises(ValueError, match="webinar"):
        load_rules(data_copy)
