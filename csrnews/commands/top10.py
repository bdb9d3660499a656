"""The `csrnews top10` command group: editors' annual top-10 lists."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.group("top10")
def top10() -> None:
    """Editors' commands for the annual "Top 10 CSR events" lists."""


@top10.command("check")
def check() -> None:
    """Validate every list in content/top10/."""
    not_built_yet("csrnews top10 check", 7)
