"""The `csrnews build` command: build the static site, then update the search index."""

from __future__ import annotations

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
@quiet_option
def build(content: str, output: str, index: str, site_url: str) -> None:
    """Build the site with Pelican and update the search index."""
    from csrnews.site import SiteBuildError, build_site

    console.info(f"building the site from {content} into {output} ...")
    try:
        stats = build_site(content, output, site_url=site_url, quiet=console.is_quiet())
    except SiteBuildError as exc:
        console.error(f"site build failed, {output} left as it was: {exc}")
        raise SystemExit(1) from exc
    console.info(
        f"site: {stats.articles} stories, {stats.pages} pages, {stats.files} files "
        f"in {stats.seconds:.1f} s"
    )
    index_note = _update_index(content, index)
    console.summary(
        f"Built {_plural(stats.articles, 'story', 'stories')} and "
        f"{_plural(stats.pages, 'page', 'pages')} into {output} "
        f"in {stats.seconds:.1f} s; {index_note}"
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _update_index(content: str, index: str) -> str:
    try:
        from search.indexer import update_index
    except ImportError:
        console.info("search index: not built yet")
        return "search index: not built yet"
    console.info(f"updating the search index in {index} ...")
    try:
        result = update_index(content, index)
    except Exception as exc:
        console.error(f"search index update failed: {exc}")
        raise SystemExit(1) from exc
    parts = [
        f"{getattr(result, key)} {key}"
        for key in ("added", "updated", "deleted")
        if hasattr(result, key)
    ]
    return f"search index: {', '.join(parts) or 'updated'}"
