"""The `csrnews` command line: a thin layer that parses options and calls library functions."""

from __future__ import annotations

import logging

import click

from csrnews import __version__
from csrnews.commands import (
    build,
    crawl,
    demo,
    desk,
    extract,
    ingest,
    nightly,
    search,
    serve,
    top10,
)

COMMANDS: list[click.Command] = [
    crawl.crawl,
    ingest.ingest,
    extract.extract,
    build.build,
    search.search,
    serve.serve,
    nightly.nightly,
    nightly.rollback,
    top10.top10,
    desk.desk,
    demo.demo,
    demo.demo_server,
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="csrnews")
@click.option("-v", "--verbose", count=True, help="More log detail (-vv for debug).")
def main(verbose: int) -> None:
    """Crawl CSR news, normalise it into Markdown story files, build a searchable site.

    Run `csrnews COMMAND --help` for the options of each command.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _command in COMMANDS:
    main.add_command(_command)
