"""The `csrnews nightly` command."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("nightly")
def nightly() -> None:
    """Crawl, build, index and publish atomically; report what changed."""
    not_built_yet("csrnews nightly", 8)
