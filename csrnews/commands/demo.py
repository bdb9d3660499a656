"""The `csrnews demo` and `csrnews demo-server` commands."""

from __future__ import annotations

import click

from csrnews.commands import not_built_yet


@click.command("demo")
def demo() -> None:
    """Start the demo publisher on loopback, run the whole job against it and serve the site."""
    not_built_yet("csrnews demo", 2)


@click.command("demo-server")
def demo_server() -> None:
    """Serve the bundled demo publisher (CSR news sites with feeds and a sitemap) on loopback."""
    not_built_yet("csrnews demo-server", 2)
