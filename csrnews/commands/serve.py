"""The `csrnews serve` command: the built site and /api/search on waitress."""

from __future__ import annotations

import click

from csrnews import console, settings
from csrnews.options import index_option, output_option, quiet_option


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
    "--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads."
)
@quiet_option
def serve(output: str, index: str, host: str, port: int, threads: int) -> None:
    """Serve the built site and /api/search on a WSGI server (waitress).

    The app is `search.wsgi:make_app(OUTPUT, INDEX)`; any WSGI server can run it (see deploy/).
    A new build or index is picked up without a restart.
    """
    import waitress

    from search import make_app

    app = make_app(output, index)
    console.info(f"serving {output} with search on {index} at http://{host}:{port}/ (Ctrl-C stops)")
    try:
        waitress.serve(
            app, host=host, port=port, threads=threads, ident="csrnews", _quiet=console.is_quiet()
        )
    except OSError as exc:
        console.error(f"cannot listen on {host}:{port}: {exc}")
        raise SystemExit(1) from exc
