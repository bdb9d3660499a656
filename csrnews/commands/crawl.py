"""The `csrnews crawl` command."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("crawl")
def crawl() -> None:
    """Crawl every source in the sources file and write or update story files."""
    not_built_yet("csrnews crawl", 3)
