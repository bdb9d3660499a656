"""The deploy/ examples: systemd units (systemd-analyze verify), the crontab line, CI, nginx."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from csrnews.cli import main
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("csrnews-*.*"))
CSRNEWS = str(Path(sys.executable).with_name("csrnews"))


def _command_args(line: str) -> list[str]:
    """The csrnews subcommand and options of a command line, without the program path."""
    words = line.replace("\\\n", " ").split()
    start = next(i for i, w in enumerate(words) if w.endswith("csrnews"))
    return words[start + 1 :]


def _check_cli_args(args: list[str]) -> None:
    """The options a deploy file gives really exist: `csrnews ARGS --help` accepts them."""
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, f"csrnews {' '.join(args)}: {result.output}"


def _ini(path: Path) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}: bad section line {raw!r}"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}: bad line {raw!r}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_deploy_has_units_cron_ci_nginx_and_a_readme() -> None:
    names = {p.name for p in UNITS}
    assert {"csrnews-nightly.service", "csrnews-nightly.timer", "csrnews-serve.service"} <= names
    for path in (
        "cron/crontab",
        "ci/github-actions-nightly.yml",
        "nginx/csrnews.conf",
        "README.md",
    ):
        assert (DEPLOY / path).is_file(), path
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert "csrnews.serve.wsgi:app_from_env()" in readme and "nginx" in readme


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_files_parse_and_name_real_options(unit: Path) -> None:
    sections = _ini(unit)
    assert "Unit" in sections and sections["Unit"]["Description"]
    if unit.suffix == ".service":
        (exec_start,) = sections["Service"]["ExecStart"]
        _check_cli_args(_command_args(exec_start))
    else:
        timer = sections["Timer"]
        assert timer["Unit"] == ["csrnews-nightly.service"] and timer["OnCalendar"]
        assert sections["Install"]["WantedBy"] == ["timers.target"]


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed; units checked by the parser only",
)
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    for unit in UNITS:  # the units name /opt/csrnews; point them at this checkout's csrnews
        text = unit.read_text(encoding="utf-8").replace("/opt/csrnews/.venv/bin/csrnews", CSRNEWS)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "csrnews" in line]
    assert result.returncode == 0 and not ours, result.stdout + result.stderr
    timer = _ini(tmp_path / "csrnews-nightly.timer")["Timer"]["OnCalendar"][0]
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", timer], capture_output=True, text=True, timeout=30
    )
    assert calendar.returncode == 0, calendar.stderr


def test_systemd_analyze_catches_a_broken_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    broken = tmp_path / "csrnews-nightly.timer"
    broken.write_text(
        (DEPLOY / "systemd" / "csrnews-nightly.timer").read_text().replace("02:30:00", "25:30:00")
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 or "csrnews" in result.stderr


_CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _cron_field_ok(value: str, low: int, high: int) -> bool:
    for part in value.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        bounds = base.split("-")
        if not all(b.isdigit() and low <= int(b) <= high for b in bounds) or len(bounds) > 2:
            return False
    return True


def _check_cron_schedule(fields: list[str]) -> None:
    assert len(fields) == 5
    for value, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        assert _cron_field_ok(value, low, high), f"bad cron field {value!r}"


def test_crontab_line() -> None:
    jobs = []
    for raw in (DEPLOY / "cron" / "crontab").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        parts = line.split(None, 5)
        _check_cron_schedule(parts[:5])
        jobs.append(parts[5])
    assert len(jobs) == 1 and "csrnews nightly" in jobs[0] and "--quiet" in jobs[0]
    _check_cli_args(_command_args(jobs[0].split("&&")[-1]))
    assert subprocess.run(["sh", "-n", "-c", jobs[0]], timeout=30).returncode == 0
    assert not _cron_field_ok("61", 0, 59) and not _cron_field_ok("1-99", 0, 23)


def test_ci_workflow() -> None:
    flow = yaml.safe_load((DEPLOY / "ci" / "github-actions-nightly.yml").read_text())
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    for entry in triggers["schedule"]:
        _check_cron_schedule(entry["cron"].split())
    steps = flow["jobs"]["nightly"]["steps"]
    assert all(("uses" in s) != ("run" in s) for s in steps)
    runs = [s["run"] for s in steps if "run" in s]
    nightly = next(r for r in runs if "csrnews nightly" in r)
    line = next(x for x in nightly.replace("\\\n", " ").splitlines() if "csrnews nightly" in x)
    _check_cli_args(_command_args(line))
    for script in runs:
        check = subprocess.run(
            ["bash", "-n", "-c", script], capture_output=True, text=True, timeout=30
        )
        assert check.returncode == 0, check.stderr
    assert any("upload-pages-artifact" in s.get("uses", "") for s in steps)
    assert any("deploy-pages" in s.get("uses", "") for s in steps)


def test_nginx_conf_is_balanced_and_points_at_the_live_release() -> None:
    text = (DEPLOY / "nginx" / "csrnews.conf").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    depth = 0
    for char in code:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    for line in code.splitlines():  # every directive ends with ; or opens/closes a block
        line = line.strip()
        assert not line or line.endswith((";", "{", "}")), line
    assert "current/site" in code and "proxy_pass http://127.0.0.1:8000" in code
