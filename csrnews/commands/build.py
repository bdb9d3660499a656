"""The `csrnews build` command."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("build")
def build() -> None:
    """Build the site with Pelican and update the search index."""
    not_built_yet("csrnews build", 5)
