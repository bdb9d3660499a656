"""The `csrnews` command line: a thin layer that parses options and calls library functions."""

from __future__ import annotations

import importlib
import logging

import click

from csrnews import __version__

# Each command's module, imported only when the command runs (or a help lists it): the
# commands' dependencies (Whoosh, numpy, Pelican, Scrapy...) cost more to import than most
# commands take, and `csrnews nightly` starts `python -m` children of its own.
COMMANDS: dict[str, tuple[str, str]] = {
    "crawl": ("csrnews.commands.crawl", "crawl"),
    "ingest": ("csrnews.commands.ingest", "ingest"),
    "extract": ("csrnews.commands.extract", "extract"),
    "build": ("csrnews.commands.build", "build"),
    "search": ("csrnews.commands.search", "search"),
    "serve": ("csrnews.commands.serve", "serve"),
    "nightly": ("csrnews.commands.nightly", "nightly"),
    "rollback": ("csrnews.commands.nightly", "rollback"),
    "top10": ("csrnews.commands.top10", "top10"),
    "desk": ("csrnews.commands.desk", "desk"),
    "demo": ("csrnews.commands.demo", "demo"),
    "demo-server": ("csrnews.commands.demo", "demo_server"),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        command = getattr(importlib.import_module(where[0]), where[1])
        if not isinstance(command, click.Command):
            raise TypeError(f"{where[0]}.{where[1]} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="csrnews")
@click.option("-v", "--verbose", count=True, help="More log detail (-vv for debug).")
def main(verbose: int) -> None:
    """Crawl CSR news, normalise it into Markdown story files, build a searchable site.

    Run `csrnews COMMAND --help` for the options of each command.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
