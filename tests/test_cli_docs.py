"""Every CLI command has help text and is listed in the README (like sqlite-utils' test_docs)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from csrnews.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{full} "))
    return found


COMMANDS = _commands(main)


def test_there_are_commands() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"crawl", "extract", "build", "search", "serve", "nightly", "top10", "demo"} <= names
    # each command is listed under the name it gives itself
    assert all(command.name == name.split()[-1] for name, command in COMMANDS)


def test_a_command_imports_only_what_it_needs() -> None:
    """The command line loads a command's module when that command runs, not every one."""
    probe = (
        "import sys; from click.testing import CliRunner; from csrnews.cli import main; "
        "heavy = ('whoosh', 'numpy', 'pelican', 'scrapy', 'csrnews.search'); "
        "before = [m for m in heavy if m in sys.modules]; "
        "result = CliRunner().invoke(main, ['desk', '--help']); "
        "after = [m for m in heavy if m in sys.modules]; "
        "print(before, after, result.exit_code, 'csrnews.commands.desk' in sys.modules, "
        "'csrnews.commands.build' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["[]", "[]", "0", "True", "False"], done.stdout + done.stderr


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"csrnews {name} has no help text"
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"csrnews {name} {param.opts[0]} has no help"


@pytest.mark.parametrize("name", sorted({n.split()[0] for n, _ in COMMANDS}))
def test_every_top_level_command_is_in_the_readme(name: str) -> None:
    assert re.search(rf"`csrnews {re.escape(name)}\b", README), f"csrnews {name} not in README"


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "csrnews" in result.output
