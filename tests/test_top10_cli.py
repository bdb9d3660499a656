"""Every `csrnews top10` command, run as an editor would, against a copy of the fixture content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from csrnews.cli import main
from csrnews.top10.io import read_list
from tests.conftest import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "top10" / "content"


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def cli(content: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["top10", *args, "--content", str(content)])


def _ranks(path: Path) -> list[tuple[int, str]]:
    return [(e.rank, e.headline) for e in sorted(read_list(path).entries, key=lambda e: e.rank)]


def test_new_creates_a_draft_that_checks(content: Path) -> None:
    result = cli(content, "new", "2019")
    assert result.exit_code == 0, result.output
    path = content / "top10" / "2019.yaml"
    lst = read_list(path)
    assert (lst.year, lst.title, lst.status, lst.entries) == (
        2019,
        "Top 10 CSR Events of 2019",
        "draft",
        [],
    )
    assert f"Created {path}" in result.output
    again = cli(content, "new", "2019")
    assert again.exit_code == 1 and "already exists" in again.output
    assert cli(content, "check").exit_code == 0


def test_new_topic_list_and_list_selection(content: Path) -> None:
    result = cli(content, "new", "2018", "--topic", "Electronics")
    assert result.exit_code == 0, result.output
    path = content / "top10" / "2018-electronics.yaml"
    assert read_list(path).title == "Top 10 Electronics CSR Events of 2018"
    added = cli(
        content,
        "add",
        "2018",
        "miit-standard",
        "--reason",
        "A standard.",
        "--list",
        "2018-electronics",
    )
    assert added.exit_code == 0, added.output
    assert _ranks(path) == [(1, "MIIT issues an electronics CSR management system standard")]
    account = read_list(path).entries[0].account
    assert account == "A management system standard for electronics firms."


def test_candidates_ranked_with_reasons(content: Path) -> None:
    result = cli(content, "candidates", "2018", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    slugs = [c["slug"] for c in found]
    # hidden stories and other outlets' top-10 lists are not candidates; 2017/2019 neither
    assert slugs == ["miit-standard", "dyeing-permits", "shenzhen-forum", "iso-workshop"]
    first = found[0]
    assert first["score"] == 6.0 + 3.0 + 1.5 and first["listed"] == "No. 1"
    assert first["reasons"] == [
        "covered by 3 sources +6.0",
        "event type Policy & standard +3.0",
        "3 organisations +1.5",
    ]
    text = cli(content, "candidates", "2018")
    assert "why: covered by 3 sources +6.0" in text.output
    assert "4 candidates for 2018." in text.output


def test_candidates_use_the_editors_weights(content: Path) -> None:
    (content / "top10" / "weights.yaml").write_text(
        "# ours\nevent_types:\n  training: 20\norganisations:\n  ISO: 1\n", encoding="utf-8"
    )
    found = json.loads(cli(content, "candidates", "2018", "--json", "--limit", "1").output)
    assert [c["slug"] for c in found] == ["iso-workshop"]
    assert found[0]["reasons"][-1] == "ISO weighted +1.0"
    assert found[0]["score"] == 2.0 + 20.0 + 0.5 + 1.0


def test_candidates_weights_errors_name_the_line(content: Path) -> None:
    weights = content / "top10" / "weights.yaml"
    weights.write_text("per_source: 2\nevent_types:\n  summitt: 3\n", encoding="utf-8")
    result = cli(content, "candidates", "2018")
    assert result.exit_code == 1
    assert f"{weights}:3: event_types: unknown event type 'summitt'" in result.output
    weights.write_text("per_source: lots\n", encoding="utf-8")
    assert (
        f"{weights}:1: per_source: 'lots' is not a number"
        in cli(content, "candidates", "2018").output
    )


def test_add_shifts_the_others_down(content: Path) -> None:
    path = content / "top10" / "2018.yaml"
    result = cli(
        content,
        "add",
        "2018",
        "shenzhen-forum",
        "--rank",
        "2",
        "--reason",
        "Shared audits cut audit fatigue.",
    )
    assert result.exit_code == 0, result.output
    assert _ranks(path) == [
        (1, "MIIT issues an electronics CSR standard"),
        (2, "Shenzhen forum urges suppliers to join up audits"),
        (3, "Dyeing mills need discharge permits"),
        (4, "ISO 45001 is published"),
    ]
    assert read_list(path).entries[1].reason == "Shared audits cut audit fatigue."
    assert cli(content, "check").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-story"], "story 'no-such-story' not found"),
        (["miit-standard"], "story 'miit-standard' is already No. 1"),
        (["sjt-16000-pilot"], "is dated 2017-03-02, not in 2018; give --out-of-year-reason"),
        (["shenzhen-forum", "--rank", "9"], "rank 9 is outside 1..4"),
    ],
)
def test_add_refusals_leave_the_file_alone(content: Path, args: list[str], message: str) -> None:
    path = content / "top10" / "2018.yaml"
    before = path.read_bytes()
    result = cli(content, "add", "2018", *args, "--reason", "R.")
    assert result.exit_code == 1 and message in result.output, result.output
    assert path.read_bytes() == before


def test_add_out_of_year_with_a_reason(content: Path) -> None:
    result = cli(
        content,
        "add",
        "2018",
        "sjt-16000-pilot",
        "--reason",
        "R.",
        "--out-of-year-reason",
        "Its results were reported in 2018.",
    )
    assert result.exit_code == 0, result.output
    assert cli(content, "check").exit_code == 0


def test_move_and_remove(content: Path) -> None:
    path = content / "top10" / "2018.yaml"
    result = cli(content, "move", "2018", "--from", "3", "--to", "1")
    assert result.exit_code == 0, result.output
    assert "Moved No. 3 (ISO 45001 is published) to No. 1" in result.output
    assert _ranks(path)[0] == (1, "ISO 45001 is published")
    result = cli(content, "remove", "2018", "--rank", "2")
    assert result.exit_code == 0, result.output
    assert _ranks(path) == [
        (1, "ISO 45001 is published"),
        (2, "Dyeing mills need discharge permits"),
    ]
    bad = cli(content, "move", "2018", "--from", "1", "--to", "7")
    assert bad.exit_code == 1 and "rank 7 is outside 1..2" in bad.output


def test_show(content: Path) -> None:
    result = cli(content, "show", "2018")
    assert result.exit_code == 0, result.output
    assert "Top 10 CSR Events of 2018 [published]" in result.output
    assert "No. 2  Dyeing mills need discharge permits" in result.output
    assert "3 entries, published, 0 problems." in result.output
    data = json.loads(cli(content, "show", "2018", "--json").output)
    assert data["entries"][2]["url"] == "https://www.iso.org/standard/63787.html"
    assert data["problems"] == []


def test_check_reports_every_problem_and_fails(content: Path) -> None:
    path = content / "top10" / "2018.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[miit-standard]", "[gone]"), encoding="utf-8"
    )
    (content / "top10" / "2017.yaml").write_text("year: 2017\ntitle: [broken\n", encoding="utf-8")
    result = cli(content, "check")
    assert result.exit_code == 1
    assert f"{path}:10: entry No. 1" in result.output and "story 'gone' not found" in result.output
    assert f"{content / 'top10' / '2017.yaml'}:" in result.output
    assert "Checked 2 lists (1 published): 2 problems." in result.output


def test_check_validates_the_weights_file(content: Path) -> None:
    weights = content / "top10" / "weights.yaml"
    weights.write_text("per_sorce: 2\n", encoding="utf-8")
    result = cli(content, "check")
    assert result.exit_code == 1
    assert f"{weights}:1: unknown key 'per_sorce'" in result.output
    assert "Checked 1 list (1 published): 1 problem." in result.output


def test_import_from_the_crawlers_top10_items(content: Path) -> None:
    result = cli(content, "import", "2018", "--source", "the csr herald", "--list", "2018-herald")
    assert result.exit_code == 0, result.output
    path = content / "top10" / "2018-herald.yaml"
    lst = read_list(path)
    assert lst.status == "draft" and lst.introduction == "The Herald's annual selection for 2018."
    assert [(e.rank, e.headline, e.reason) for e in lst.entries] == [
        (1, "A new ministry takes shape", "One regulator for the environment."),
        (2, "MOFCOM convenes supply chain pilots", "Responsibility enters trade policy."),
        (3, "FTA becomes amfori: a new name", ""),
    ]
    assert {e.url for e in lst.entries} == {"https://herald.example/2019/top10-2018"}
    assert "# Imported from herald-top10-2018" in path.read_text(encoding="utf-8")
    assert cli(content, "check").exit_code == 0
    # The default file exists already: import never overwrites a list.
    again = cli(content, "import", "2018", "--source", "The CSR Herald")
    assert again.exit_code == 1 and "already exists" in again.output


def test_import_errors(content: Path) -> None:
    result = cli(content, "import", "2018", "--source", "Nobody")
    assert result.exit_code == 1
    assert (
        "no story from source 'Nobody' has top-10 items (sources with lists: The CSR Herald)"
        in result.output
    )
    result = cli(content, "import", "2015", "--source", "The CSR Herald")
    assert result.exit_code == 1 and "no top-10 list story for 2015" in result.output


def test_a_malformed_file_stops_a_real_process_without_a_traceback(content: Path) -> None:
    path = content / "top10" / "2018.yaml"
    path.write_text(
        "year: 2018\ntitle: T\nentries:\n  - rank: 1\n   headline: bad indent\n", encoding="utf-8"
    )
    proc = run_cli("top10", "move", "2018", "--from", "1", "--to", "1", "--content", str(content))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"error: {path}:5: YAML syntax error" in proc.stderr


def test_every_top10_command_is_in_the_editors_guide() -> None:
    from csrnews.commands.top10 import top10

    guide = (Path(__file__).resolve().parent.parent / "docs" / "top10.md").read_text(
        encoding="utf-8"
    )
    for name, command in top10.commands.items():
        assert f"`csrnews top10 {name}" in guide, name
        assert (command.help or "").strip(), name
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"{name} {param.opts[0]}"
