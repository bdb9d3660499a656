"""deploy/distributed/: the worker and nightly units, the timer, the compose file, the docs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_deploy import CSRNEWS, _check_cli_args, _command_args, _ini

HERE = ROOT / "deploy" / "distributed"
UNITS = sorted(HERE.glob("csrnews-*"))


def test_the_example_has_units_compose_redis_conf_and_a_readme() -> None:
    names = {p.name for p in HERE.iterdir()}
    assert {
        "csrnews-worker@.service",
        "csrnews-nightly-distributed.service",
        "csrnews-nightly-distributed.timer",
        "docker-compose.yml",
        "redis.conf",
        "README.md",
    } <= names
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "## Crawling on several machines" in operations
    assert "deploy/distributed/" in operations


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_units_parse_and_name_real_options(unit: Path) -> None:
    sections = _ini(unit)
    assert sections["Unit"]["Description"]
    if unit.suffix == ".service":
        (exec_start,) = sections["Service"]["ExecStart"]
        args = _command_args(exec_start)
        _check_cli_args(args)
        env = " ".join(sections["Service"].get("Environment", []))
        assert "CSRNEWS_REDIS=redis://" in env
        assert args[0] in ("crawl", "nightly") and "--seed" not in args
    else:
        assert sections["Timer"]["Unit"] == ["csrnews-nightly-distributed.service"]


def test_compose_has_one_redis_three_workers_and_one_writer() -> None:
    compose = yaml.safe_load((HERE / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    workers = [
        n for n, c in commands.items() if c and c[:2] == ["csrnews", "crawl"] and "--seed" not in c
    ]
    writers = [n for n, c in commands.items() if c and c[:2] == ["csrnews", "ingest"]]
    assert len(workers) == 3 and len(writers) == 1
    assert "redis-server" in services["redis"]["command"]
    for name, command in commands.items():
        if command and command[0] == "csrnews":
            _check_cli_args(command[1:])
        if name != "redis":
            env = services[name]["environment"]
            assert env["CSRNEWS_REDIS"].startswith("redis://redis:")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace("/opt/csrnews/.venv/bin/csrnews", CSRNEWS)
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "csrnews" in line]
    assert result.returncode == 0 and not ours, result.stdout + result.stderr
