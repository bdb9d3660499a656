"""The `csrnews extract` command."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("extract")
@click.argument("targets", nargs=-1, required=True, metavar="FILE|URL...")
@click.option("--url", help="The URL a local FILE was fetched from (for dates and links).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per page.")
def extract(targets: tuple[str, ...], url: str | None, as_json: bool) -> None:
    """Show how pages would be normalised (title, date, text, markdown, event type, ...)."""
    not_built_yet("csrnews extract", 3)
