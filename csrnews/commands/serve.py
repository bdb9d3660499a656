"""The `csrnews serve` command."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("serve")
def serve() -> None:
    """Serve the built site and /api/search on a WSGI server (waitress)."""
    not_built_yet("csrnews serve", 6)
