"""One module per `csrnews` subcommand; each only parses options and calls the library."""

from __future__ import annotations

import click

EXIT_NOT_BUILT = 69  # EX_UNAVAILABLE: the command exists but its capability has not landed yet


def not_built_yet(what: str, issue: int) -> None:
    """Say plainly that a capability is not built yet, and exit with EXIT_NOT_BUILT."""
    click.echo(f"csrnews: {what} is not built yet (issue {issue}).", err=True)
    raise SystemExit(EXIT_NOT_BUILT)
