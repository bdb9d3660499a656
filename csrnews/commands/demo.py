"""The `csrnews demo` and `csrnews demo-server` commands."""

from __future__ import annotations

import click

from csrnews.demo.run import run_demo
from csrnews.demo.server import serve_forever
from csrnews.options import quiet_option
from csrnews.story import settings


@click.command("demo")
@click.option(
    "--host",
    default=settings.SERVE_HOST,
    show_default=True,
    help="Address to serve the built site on.",
)
@click.option(
    "--port",
    default=settings.SERVE_PORT,
    show_default=True,
    type=int,
    help="Port to serve the built site on.",
)
@click.option(
    "--workdir",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the demo keeps its sources, content, site and index.",
)
@click.option("--no-serve", is_flag=True, help="Run the job, then exit instead of serving.")
@quiet_option
def demo(host: str, port: int, workdir: str, no_serve: bool) -> None:
    """Start the demo publisher on loopback, run the whole job against it and serve the site.

    The bundled demo publisher (fictional CSR news sites with RSS, Atom, listings and a
    sitemap) starts on a loopback port (the same one as last time in WORKDIR, so a second run
    finds nothing new); the crawl, the build and the index run against it; the site and its
    search are then served on http://HOST:PORT until Ctrl-C or SIGTERM, which stop everything
    the demo started. A PORT that is taken is said at once, and a free one is used instead.
    """
    raise SystemExit(run_demo(host=host, port=port, workdir=workdir, serve=not no_serve))


@click.command("demo-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port", default=0, show_default=True, type=int, help="Port to bind (0: a free port)."
)
def demo_server(host: str, port: int) -> None:
    """Serve the bundled demo publisher (CSR news sites with feeds and a sitemap) on loopback.

    Prints the server's URL on the first line of stdout, then serves until Ctrl-C.
    """
    serve_forever(host=host, port=port)
