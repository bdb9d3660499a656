"""The `csrnews serve` command: the built site and /api/search on waitress."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click

from csrnews import console, prefork, settings
from csrnews.commands.desk import desk_dir_option
from csrnews.options import content_option, index_option, output_option, quiet_option


class WorkersType(click.ParamType):
    """`auto` (the usable CPUs, at most 4) or a whole number >= 1."""

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
    help="Worker processes sharing the port, each with its own threads and search caches; "
    f"auto = the usable CPUs, at most {prefork.MAX_AUTO_WORKERS}. 1 serves in this process.",
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
    help="With --desk: the nightly folder, whose lock every desk rebuild takes; when it has a "
    "live release, a rebuild publishes a new one as `csrnews nightly --no-crawl`.",
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
def serve(
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
    """Serve the built site and /api/search on a WSGI server (waitress).

    The app is `search.wsgi:make_app(OUTPUT, INDEX)`; any WSGI server can run it (see deploy/).
    A new build or index is picked up without a restart. With --desk the editors' desk answers
    under /desk/ (off by default).

    Searching is CPU-bound Python, so with --workers N (the default, auto, uses the CPUs) the
    command binds the port, forks N worker processes that share it, replaces a worker that
    dies and stops them all on SIGTERM or Ctrl-C.

    Every response carries security headers (a Content-Security-Policy without
    unsafe-inline, X-Frame-Options, Permissions-Policy, ...) and text is gzipped. Each search
    has a cost budget (CSRNEWS_SEARCH_BUDGET seconds, limits on fuzzy and wildcard terms);
    CSRNEWS_API_ALLOW_ORIGIN lets other sites' pages read /api/search. See
    docs/operations.md.
    """
    desk_config = _desk_config(desk, content, output, index, desk_dir, root)
    proxy = _proxy_settings(trust_proxy)
    count = prefork.auto_workers() if workers == "auto" else int(workers)
    if count > 1 and not prefork.can_fork():
        console.warn(f"--workers {workers}: this platform cannot fork; serving with one worker")
        count = 1
    if count == 1:
        _serve_single(output, index, host, port, threads, desk_config, proxy)
    else:
        raise SystemExit(
            _serve_forked(output, index, host, port, threads, count, desk_config, proxy)
        )


def _proxy_settings(address: str | None) -> dict[str, Any]:
    """waitress's settings for one trusted reverse proxy (none: its headers are dropped)."""
    if not address:
        return {}
    return {
        "trusted_proxy": address,
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        "clear_untrusted_proxy_headers": True,
    }


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
    from csrnews.desk import DeskConfig, DeskConfigError
    from csrnews.desk.service import load_secret
    from csrnews.desk.users import UserError, UserStore

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


def _make_app(output: str, index: str, desk_config: Any) -> Any:
    """The site's app, with the desk mounted under /desk when it is on."""
    from search import make_app

    app = make_app(output, index)
    if desk_config is None:
        return app
    from csrnews.desk import mount

    return mount(app, desk_config)


def _serve_single(
    output: str,
    index: str,
    host: str,
    port: int,
    threads: int,
    desk_config: Any = None,
    proxy: dict[str, Any] | None = None,
) -> None:
    """One process: waitress binds HOST:PORT itself and serves with THREADS threads."""
    import waitress

    app = _make_app(output, index, desk_config)
    console.info(f"serving {output} with search on {index} at http://{host}:{port}/ (Ctrl-C stops)")
    if desk_config is not None:
        console.info(f"editors' desk: http://{host}:{port}/desk/")
    try:
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="csrnews",
            _quiet=console.is_quiet(),
            **(proxy or {}),
        )
    except (OSError, ValueError) as exc:  # waitress: ValueError("Invalid host/port specified.")
        console.error(f"cannot listen on {host}:{port}: {exc}")
        raise SystemExit(1) from exc


def _serve_forked(
    output: str,
    index: str,
    host: str,
    port: int,
    threads: int,
    count: int,
    desk_config: Any = None,
    proxy: dict[str, Any] | None = None,
) -> int:
    """The parent binds HOST:PORT, then supervises COUNT forked waitress workers."""
    try:
        sockets = prefork.bind_sockets(host, port)
    except (OSError, ValueError) as exc:
        console.error(f"cannot listen on {host}:{port}: {exc}")
        return 1
    bound = sockets[0].getsockname()[1] if sockets else port
    console.info(
        f"serving {output} with search on {index} at http://{host}:{bound}/ "
        f"with {count} workers of {threads} threads (Ctrl-C stops)"
    )
    if desk_config is not None:
        console.info(f"editors' desk: http://{host}:{bound}/desk/")
    quiet = console.is_quiet()

    def worker_main(listening: list[socket.socket]) -> None:
        # In the worker, after the fork: its own app, caches, threads and locks.
        import logging

        import waitress.server

        if not quiet:
            logging.basicConfig()
        app = _make_app(output, index, desk_config)
        server = waitress.server.create_server(
            app, sockets=listening, threads=threads, ident="csrnews", **(proxy or {})
        )
        server.run()

    return prefork.serve_prefork(sockets, count, worker_main)
