"""The `csrnews serve` command: the built site and /api/search on waitress."""

from __future__ import annotations

import socket

import click

from csrnews import console, prefork, settings
from csrnews.options import index_option, output_option, quiet_option


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
@quiet_option
def serve(output: str, index: str, host: str, port: int, workers: int | str, threads: int) -> None:
    """Serve the built site and /api/search on a WSGI server (waitress).

    The app is `search.wsgi:make_app(OUTPUT, INDEX)`; any WSGI server can run it (see deploy/).
    A new build or index is picked up without a restart.

    Searching is CPU-bound Python, so with --workers N (the default, auto, uses the CPUs) the
    command binds the port, forks N worker processes that share it, replaces a worker that
    dies and stops them all on SIGTERM or Ctrl-C.

    Every response carries security headers (a Content-Security-Policy without
    unsafe-inline, X-Frame-Options, Permissions-Policy, ...) and text is gzipped. Each search
    has a cost budget (CSRNEWS_SEARCH_BUDGET seconds, limits on fuzzy and wildcard terms);
    CSRNEWS_API_ALLOW_ORIGIN lets other sites' pages read /api/search. See
    docs/operations.md.
    """
    count = prefork.auto_workers() if workers == "auto" else int(workers)
    if count > 1 and not prefork.can_fork():
        console.warn(f"--workers {workers}: this platform cannot fork; serving with one worker")
        count = 1
    if count == 1:
        _serve_single(output, index, host, port, threads)
    else:
        raise SystemExit(_serve_forked(output, index, host, port, threads, count))


def _serve_single(output: str, index: str, host: str, port: int, threads: int) -> None:
    """One process: waitress binds HOST:PORT itself and serves with THREADS threads."""
    import waitress

    from search import make_app

    app = make_app(output, index)
    console.info(f"serving {output} with search on {index} at http://{host}:{port}/ (Ctrl-C stops)")
    try:
        waitress.serve(
            app, host=host, port=port, threads=threads, ident="csrnews", _quiet=console.is_quiet()
        )
    except (OSError, ValueError) as exc:  # waitress: ValueError("Invalid host/port specified.")
        console.error(f"cannot listen on {host}:{port}: {exc}")
        raise SystemExit(1) from exc


def _serve_forked(output: str, index: str, host: str, port: int, threads: int, count: int) -> int:
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
    quiet = console.is_quiet()

    def worker_main(listening: list[socket.socket]) -> None:
        # In the worker, after the fork: its own app, caches, threads and locks.
        import logging

        import waitress.server

        from search import make_app

        if not quiet:
            logging.basicConfig()
        app = make_app(output, index)
        server = waitress.server.create_server(
            app, sockets=listening, threads=threads, ident="csrnews"
        )
        server.run()

    return prefork.serve_prefork(sockets, count, worker_main)
