"""The `csrnews search` command."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("search")
def search() -> None:
    """Query the search index from the terminal."""
    not_built_yet("csrnews search", 6)
