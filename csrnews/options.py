"""Shared click options (one decorator each), so every command names its paths the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from csrnews import console
from csrnews.story import settings

F = Callable[..., Any]


def _path_option(name: str, default: str, help_text: str, envvar: str) -> Callable[[F], F]:
    return click.option(
        f"--{name}",
        default=default,
        show_default=True,
        envvar=envvar,
        type=click.Path(file_okay=name == "sources", dir_okay=name != "sources"),
        help=help_text,
    )


sources_option = _path_option(
    "sources", settings.SOURCES_FILE, "The sources file (YAML).", "CSRNEWS_SOURCES"
)
content_option = _path_option(
    "content",
    settings.CONTENT_DIR,
    "The content folder (story files under news/).",
    "CSRNEWS_CONTENT",
)
output_option = _path_option(
    "output", settings.OUTPUT_DIR, "Where the built site goes.", "CSRNEWS_OUTPUT"
)
index_option = _path_option(
    "index", settings.INDEX_DIR, "The search index folder.", "CSRNEWS_INDEX"
)


def quiet_option(func: F) -> F:
    """--quiet: only the summary line and problems."""

    def _set(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            console.set_quiet(True)
        return value

    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        callback=_set,
        is_eager=True,
        help="Only print the summary line and problems.",
    )(func)
