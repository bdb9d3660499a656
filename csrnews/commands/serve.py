"""The `csrnews serve` command: the built site and /api/search on gunicorn (gthread workers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from csrnews import console
from csrnews.commands.desk import desk_dir_option
from csrnews.desk import DeskConfig, DeskConfigError, mount
from csrnews.desk.service import load_secret
from csrnews.desk.users import UserError, UserStore
from csrnews.options import content_option, index_option, output_option, quiet_option
from csrnews.search.query import service_options
from csrnews.serve.server import PortInUse, ServeOptions, auto_workers
from csrnews.serve.server import serve as run_server
from csrnews.serve.wsgi import allowed_origins_from_env, make_app
from csrnews.story import settings


class WorkersType(click.ParamType):
    """`auto` (one per usable CPU) or a whole number >= 1."""

    name = "auto|N"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | str:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif str(value).strip().lower() == "auto":
            return "auto"
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not 'auto' or a whole number", param, ctx)
        if number < 1:
            self.fail(f"{number} is not 'auto' or a whole number >= 1", param, ctx)
        return number


@click.command("serve")
@output_option
@index_option
@click.option(
    "--host", default=settings.SERVE_HOST, show_default=True, help="Address to listen on."
)
@click.option(
    "--port", default=settings.SERVE_PORT, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--workers",
    default="auto",
    show_default=True,
    type=WorkersType(),
    help="gunicorn worker processes sharing the port, each with its own threads and search "
    "caches; auto = one per usable CPU.",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker process.",
)
@click.option(
    "--desk",
    is_flag=True,
    help="Also serve the editors' desk under /desk/ (login required; see `csrnews desk`).",
)
@content_option
@desk_dir_option
@click.option(
    "--root",
    default="var/site",
    show_default=True,
    envvar="CSRNEWS_ROOT",
    type=click.Path(file_okay=False),
    help="The nightly folder (`csrnews nightly --root`): when it has a live release "
    "(ROOT/current) and --output/--index are not given, that release is served. With --desk "
    "every desk rebuild takes its lock and publishes a new release as `csrnews nightly "
    "--no-crawl`.",
)
@click.option(
    "--trust-proxy",
    metavar="ADDRESS",
    default=None,
    help="The address of a reverse proxy (e.g. 127.0.0.1 for nginx on this host) whose "
    "X-Forwarded-For/-Proto/-Host headers are believed: put the desk behind HTTPS this way "
    "(its session cookie is then marked Secure).",
)
@quiet_option
@click.pass_context
def serve(
    ctx: click.Context,
    output: str,
    index: str,
    host: str,
    port: int,
    workers: int | str,
    threads: int,
    desk: bool,
    content: str,
    desk_dir: str,
    root: str,
    trust_proxy: str | None,
) -> None:
    """Serve the built site and /api/search on gunicorn (gthread workers).

    The app is `csrnews.serve.wsgi:make_app(OUTPUT, INDEX)`; any WSGI server can run it (see
    deploy/). A new build or index is picked up without a restart. After `csrnews nightly` the
    live release (ROOT/current) is served unless --output or --index is given. With --desk the
    editors' desk answers under /desk/ (off by default).

    Searching is CPU-bound Python, so --workers N (the default, auto, is one per CPU) runs N
    worker processes sharing the port with --threads threads each; a worker that dies is
    replaced, and SIGTERM or Ctrl-C stops them all.

    Every response carries security headers (a Content-Security-Policy without
    unsafe-inline, X-Frame-Options, Permissions-Policy, ...) and text is gzipped. Each search
    has a cost budget (CSRNEWS_SEARCH_BUDGET seconds, limits on fuzzy and wildcard terms);
    CSRNEWS_API_ALLOW_ORIGIN lets other sites' pages read /api/search. See
    docs/operations.md.
    """
    output, index = _live_release(ctx, Path(root), output, index)
    _warn_missing(output, index)
    desk_config = _desk_config(desk, content, output, index, desk_dir, root)
    count = auto_workers() if workers == "auto" else int(workers)
    origins = allowed_origins_from_env(os.environ)
    search_options = service_options(os.environ)

    def app_factory() -> Any:
        """The site's app in a worker, with the desk mounted under /desk when it is on."""
        app = make_app(output, index, allow_origins=origins, search_options=search_options)
        return app if desk_config is None else mount(app, desk_config)

    def announce(listening: int) -> None:
        """Where it serves, with the port it listens on (the system's choice for --port 0)."""
        console.info(
            f"serving {output} with search on {index} at http://{host}:{listening}/ "
            f"with {count} workers of {threads} threads (Ctrl-C stops)"
        )
        if desk_config is not None:
            console.info(f"editors' desk: http://{host}:{listening}/desk/")

    options = ServeOptions(
        host=host,
        port=port,
        workers=count,
        threads=threads,
        app_factory=app_factory,
        trust_proxy=trust_proxy,
        quiet=console.is_quiet(),
        on_listening=announce,
    )
    try:
        run_server(options)
    except PortInUse as exc:
        console.error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise SystemExit(1) from None


def _live_release(ctx: click.Context, root: Path, output: str, index: str) -> tuple[str, str]:
    """ROOT/current's site and index when the nightly published one and no path was given."""
    given = {
        name
        for name in ("output", "index")
        if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
    }
    current = root / "current"
    if given or not (current / "site").is_dir():
        return output, index
    console.info(f"serving the live release of {root} ({current} -> {current.resolve().name})")
    return str(current / "site"), str(current / "index")


def _warn_missing(output: str, index: str) -> None:
    """Say so when there is nothing to serve yet (pages answer 404, searches 503)."""
    if not (Path(output) / "index.html").is_file():
        console.warn(
            f"no built site in {output}: pages will answer 404 until `csrnews build --output "
            f"{output}` (or `csrnews nightly`) makes one"
        )
    if not Path(index).is_dir() or not any(Path(index).glob("_MAIN_*.toc")):
        console.warn(
            f"no search index in {index}: /api/search will answer 503 until `csrnews build "
            f"--index {index}` makes one"
        )


def _desk_config(
    desk: bool,
    content: str,
    output: str,
    index: str,
    desk_dir: str,
    root: str,
) -> Any:
    """The desk's settings, checked before any worker starts (None without --desk)."""
    if not desk:
        return None
    config = DeskConfig(
        content=Path(content),
        output=Path(output),
        index=Path(index),
        desk_dir=Path(desk_dir),
        root=Path(root),
    )
    try:
        config.check()
        load_secret(config.secret_file)  # made once here, before any worker reads it
        users = UserStore(config.users_file).load()
    except (DeskConfigError, UserError, OSError) as exc:
        console.error(f"--desk: {exc}")
        raise SystemExit(2) from None
    if not users:
        console.warn(
            f"--desk: no users in {config.users_file} yet; add one with "
            f"`csrnews desk user add NAME --desk-dir {desk_dir}`"
        )
    return config
