"""The `csrnews desk` commands: the desk's users (the desk runs in `csrnews serve --desk`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from csrnews import console
from csrnews.options import quiet_option

F = Callable[..., Any]

desk_dir_option = click.option(
    "--desk-dir",
    default="var/desk",
    show_default=True,
    envvar="CSRNEWS_DESK_DIR",
    type=click.Path(file_okay=False),
    help="The desk's own folder (users, session key, login counts), outside the site.",
)


@click.group("desk")
def desk() -> None:
    """The editors' desk: a web page under /desk/ for editors (`csrnews serve --desk`).

    These commands manage who may log in to it.
    """


@desk.group("user")
def user() -> None:
    """Add, remove and list the desk's users (roles: editor, admin)."""


def _store(desk_dir: str) -> Any:
    from pathlib import Path

    from csrnews.desk.users import UserStore

    folder = Path(desk_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return UserStore(folder / "users.json")


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["editor", "admin"]),
    default="editor",
    show_default=True,
    help="editor: stories, lists, history, rebuild; admin: also sees the users page.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.option("--replace", is_flag=True, help="Set a new password (and role) for an existing user.")
@desk_dir_option
@quiet_option
def user_add(name: str, role: str, password_stdin: bool, replace: bool, desk_dir: str) -> None:
    """Add user NAME (asks for the password twice; stored as an argon2 hash)."""
    from csrnews.desk.users import UserError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        added = _store(desk_dir).add(name, password, role, replace=replace)
    except UserError as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    console.summary(f"{'Updated' if replace else 'Added'} {added.role} {added.name}.")


@user.command("remove")
@click.argument("name")
@desk_dir_option
@quiet_option
def user_remove(name: str, desk_dir: str) -> None:
    """Remove user NAME (their sessions end at once)."""
    from csrnews.desk.users import UserError

    try:
        _store(desk_dir).remove(name)
    except UserError as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    console.summary(f"Removed {name}.")


@user.command("list")
@desk_dir_option
def user_list(desk_dir: str) -> None:
    """List the users and their roles."""
    from csrnews.desk.users import UserError

    try:
        users = sorted(_store(desk_dir).load().values(), key=lambda u: u.name)
    except UserError as exc:
        console.error(str(exc))
        raise SystemExit(1) from None
    for item in users:
        click.echo(f"{item.name}\t{item.role}\t{item.created}")
    console.summary(f"{len(users)} user{'s' if len(users) != 1 else ''}.")
