"""The `csrnews build` command: build the static site and, beside it, update the search index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from csrnews import console
from csrnews.options import content_option, index_option, output_option, quiet_option


@click.command("build")
@content_option
@output_option
@index_option
@click.option(
    "--site-url",
    default="",
    envvar="CSRNEWS_SITEURL",
    help="The public URL of the site (empty: root-relative links).",
)
@click.option(
    "--previous",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A site built before, whose unchanged pages are reused (default: the output folder).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Pelican's cache of parsed stories (default: .pelican-cache beside the output).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Render every page and parse every story again, ignoring earlier builds.",
)
@click.option(
    "--no-index",
    is_flag=True,
    help="Build the site only; leave the search index as it is.",
)
@quiet_option
def build(
    content: str,
    output: str,
    index: str,
    site_url: str,
    previous: Path | None,
    cache_dir: Path | None,
    full: bool,
    no_index: bool,
) -> None:
    """Build the site with Pelican and update the search index in a second process beside it.

    Only pages whose stories, settings or theme changed since the last build are rendered
    again; `--full` renders all of them. The old site is replaced in one step when the new one
    is complete; if the build fails, the old site stays.
    """
    from csrnews.site import SiteBuildError, build_site

    indexer = None if no_index else _start_index(content, index)
    console.info(f"building the site from {content} into {output} ...")
    try:
        stats = build_site(
            content,
            output,
            site_url=site_url,
            quiet=console.is_quiet(),
            previous=previous,
            cache_dir=cache_dir,
            incremental=not full,
        )
    except SiteBuildError as exc:
        console.error(f"site build failed, {output} left as it was: {exc}")
        if indexer is not None:
            _stop_index(indexer, index)
        raise SystemExit(1) from exc
    reused = f", {stats.unchanged} unchanged pages kept" if stats.unchanged else ""
    console.info(
        f"site: {stats.articles} stories, {stats.pages} pages, {stats.files} files "
        f"({stats.rendered} rendered{reused}) in {stats.seconds:.1f} s"
    )
    if indexer is None:
        index_note = "search index: not updated (--no-index)"
    else:
        console.info(f"waiting for the search index update in {index} ...")
        finished = _finish_index(indexer, index)
        if finished is None:
            raise SystemExit(1)
        index_note = finished
    console.summary(
        f"Built {_plural(stats.articles, 'story', 'stories')} and "
        f"{_plural(stats.pages, 'page', 'pages')} into {output} "
        f"in {stats.seconds:.1f} s; {index_note}"
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _start_index(content: str, index: str) -> subprocess.Popen[str]:
    """The index update as a child process, so it runs on the other core while Pelican works."""
    console.info(f"updating the search index in {index} (in a second process) ...")
    return subprocess.Popen(
        [sys.executable, "-m", "csrnews.nightly.indexstep", content, index],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _stop_index(child: subprocess.Popen[str], index: str) -> None:
    """After a failed site build: stop the index update unless it has already committed.

    The site and the index go together; an index that describes stories the live site does
    not show yet would send readers to missing pages. A commit is atomic, so a stopped update
    leaves the index as it was.
    """
    if child.poll() is None:
        child.terminate()
        child.communicate()
        console.warn(f"search index update in {index} stopped; the index is as it was")
    elif _finish_index(child, index) is not None:
        console.warn(f"the search index in {index} was updated before the site build failed")


def _finish_index(child: subprocess.Popen[str], index: str) -> str | None:
    """Wait for the index update; its summary, or None (after printing why) when it failed."""
    stdout, stderr = child.communicate()
    if child.returncode != 0:
        reason = (stderr.strip() or stdout.strip() or f"exit {child.returncode}").splitlines()
        console.error(f"search index update in {index} failed: {reason[-1]}")
        return None
    try:
        stats = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        console.error(f"search index update in {index} printed no statistics")
        return None
    for message in stats.get("warnings", []) or []:
        console.warn(f"search index: {message}")
    parts = [f"{stats[key]} {key}" for key in ("added", "updated", "deleted") if key in stats]
    return f"search index: {', '.join(parts) or 'updated'}"
