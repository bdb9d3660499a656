"""The `csrnews top10` command group: editors' annual top-10 lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from csrnews import console
from csrnews.options import content_option, quiet_option

F = Callable[..., Any]

list_option = click.option(
    "--list",
    "list_name",
    default=None,
    metavar="NAME|FILE",
    help="Which list when a year has several: a file, or a name in content/top10 "
    "(e.g. 2018-electronics). Default: <year>.yaml, or the year's only list.",
)


def _stops_on_error(func: F) -> F:
    """A malformed file or a refused edit ends the command with its path and line (exit 1)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from csrnews.top10 import Top10Error

        try:
            return func(*args, **kwargs)
        except Top10Error as exc:
            for line in str(exc).splitlines():
                console.error(line)
            raise SystemExit(1) from None

    return wrapper


@click.group("top10")
def top10() -> None:
    """Editors' commands for the annual "Top 10 CSR events" lists (content/top10/*.yaml)."""


@top10.command("new")
@click.argument("year", type=int)
@click.option("--title", default="", help='The list title (default "Top 10 CSR Events of YEAR").')
@click.option("--topic", default="", help="A topic list: written to <year>-<topic>.yaml.")
@click.option("--region", default="", help="A regional list: written to <year>-<region>.yaml.")
@content_option
@quiet_option
@_stops_on_error
def new(year: int, title: str, topic: str, region: str, content: str) -> None:
    """Start an empty draft list for YEAR (content/top10/YEAR.yaml)."""
    from csrnews.top10.create import create_list, default_title, list_name, list_text
    from csrnews.top10.io import top10_dir

    name = list_name(year, "-".join(part for part in (region, topic) if part))
    path = top10_dir(content) / f"{name}.yaml"
    title = title or default_title(year, region, topic)
    create_list(path, list_text(year, title, region=region, topic=topic))
    console.summary(f"Created {path} (draft, no entries yet).")


@top10.command("candidates")
@click.argument("year", type=int)
@click.option(
    "--limit", default=20, show_default=True, type=int, help="How many candidates to show (0: all)."
)
@click.option(
    "--weights",
    default=None,
    type=click.Path(dir_okay=False),
    help="A weights file (default: content/top10/weights.yaml, else built-in weights).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the shortlist as JSON.")
@content_option
@quiet_option
@_stops_on_error
def candidates(year: int, limit: int, weights: str | None, as_json: bool, content: str) -> None:
    """A ranked shortlist of YEAR's stories, with the reason for each score."""
    from csrnews.top10 import load_lists
    from csrnews.top10.archive import load_archive
    from csrnews.top10.candidates import load_weights, rank_candidates

    archive = load_archive(content)
    listed: dict[str, int] = {}
    for lst in load_lists(content, check=False):
        if lst.year == year:
            for slug, rank in lst.story_ranks().items():
                listed.setdefault(slug, rank)
    found = rank_candidates(archive, year, load_weights(content, weights), listed, limit or None)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "slug": c.story.slug,
                        "title": c.story.title,
                        "date": c.story.date,
                        "score": c.score,
                        "reasons": c.reasons,
                        "listed": c.listed,
                    }
                    for c in found
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for number, cand in enumerate(found, start=1):
        listed_note = f"  [listed {cand.listed}]" if cand.listed else ""
        click.echo(f"{number:>3}. {cand.score:6.1f}  {cand.story.slug}{listed_note}")
        click.echo(f"     {cand.story.title} ({cand.story.date[:10]})")
        click.echo(f"     why: {'; '.join(cand.reasons)}")
    console.summary(f"{len(found)} candidates for {year}.")


@top10.command("add")
@click.argument("year", type=int)
@click.argument("slug")
@click.option(
    "--rank",
    type=int,
    default=None,
    help="Where the entry goes; the entries from there shift down (default: last).",
)
@click.option("--reason", required=True, help="The reason for listing.")
@click.option("--headline", default="", help="The headline (default: the story's title).")
@click.option("--account", default="", help="A short account (default: the story's summary).")
@click.option(
    "--out-of-year-reason", default="", help="Why a story not dated YEAR belongs in the list."
)
@list_option
@content_option
@quiet_option
@_stops_on_error
def add(
    year: int,
    slug: str,
    rank: int | None,
    reason: str,
    headline: str,
    account: str,
    out_of_year_reason: str,
    list_name: str | None,
    content: str,
) -> None:
    """Add story SLUG to YEAR's list at --rank (others shift down)."""
    from csrnews.top10 import find_list
    from csrnews.top10.archive import load_archive
    from csrnews.top10.edit import add_story

    path = find_list(content, year, list_name)
    given = add_story(
        path,
        load_archive(content),
        year,
        slug,
        reason,
        rank=rank,
        headline=headline,
        account=account,
        out_of_year_reason=out_of_year_reason,
    )
    console.summary(f"Added {slug} as No. {given} in {path}.")


@top10.command("move")
@click.argument("year", type=int)
@click.option("--from", "src", type=int, required=True, help="The rank of the entry to move.")
@click.option("--to", "dst", type=int, required=True, help="Its new rank (the others shift).")
@list_option
@content_option
@quiet_option
@_stops_on_error
def move(year: int, src: int, dst: int, list_name: str | None, content: str) -> None:
    """Move YEAR's entry ranked --from to rank --to (the others shift)."""
    from csrnews.top10 import find_list
    from csrnews.top10.edit import ListEditor

    path = find_list(content, year, list_name)
    editor = ListEditor(path)
    headline = editor.headlines()[src - 1] if 1 <= src <= editor.count else ""
    editor.move(src, dst)
    console.summary(f"Moved No. {src} ({headline}) to No. {dst} in {path}.")


@top10.command("remove")
@click.argument("year", type=int)
@click.option("--rank", type=int, required=True, help="The rank to remove (the rest shift up).")
@list_option
@content_option
@quiet_option
@_stops_on_error
def remove(year: int, rank: int, list_name: str | None, content: str) -> None:
    """Remove YEAR's entry ranked --rank (the others shift up)."""
    from csrnews.top10 import find_list
    from csrnews.top10.edit import ListEditor

    path = find_list(content, year, list_name)
    headline, _ = ListEditor(path).remove(rank)
    console.summary(f"Removed No. {rank} ({headline}) from {path}.")


@top10.command("show")
@click.argument("year", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@list_option
@content_option
@quiet_option
@_stops_on_error
def show(year: int, as_json: bool, list_name: str | None, content: str) -> None:
    """Show YEAR's list with its entries and any problems."""
    from csrnews.top10 import find_list
    from csrnews.top10.archive import load_archive
    from csrnews.top10.io import read_list
    from csrnews.top10.validate import validate_list

    lst = read_list(find_list(content, year, list_name))
    problems = validate_list(lst, load_archive(content))
    entries = sorted(lst.entries, key=lambda e: e.rank)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "year": lst.year,
                    "title": lst.title,
                    "status": lst.status,
                    "path": str(lst.path),
                    "introduction": lst.introduction,
                    "region": lst.region,
                    "topic": lst.topic,
                    "entries": [
                        {
                            "rank": e.rank,
                            "headline": e.headline,
                            "stories": e.stories,
                            "url": e.url,
                            "account": e.account,
                            "reason": e.reason,
                            "related": e.related,
                        }
                        for e in entries
                    ],
                    "problems": [str(p) for p in problems],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"{lst.title} [{lst.status}]  ({lst.path})")
    if lst.introduction:
        click.echo(lst.introduction)
    for entry in entries:
        click.echo(f"\nNo. {entry.rank}  {entry.headline}")
        for slug in entry.stories:
            click.echo(f"    story: {slug}")
        if entry.url:
            click.echo(f"    url: {entry.url}")
        if entry.reason:
            click.echo(f"    reason: {entry.reason}")
        for ref in entry.related:
            click.echo(f"    related: {ref}")
    for problem in problems:
        console.warn(str(problem))
    console.summary(f"{len(entries)} entries, {lst.status}, {len(problems)} problems.")


@top10.command("check")
@content_option
@quiet_option
@_stops_on_error
def check(content: str) -> None:
    """Validate every list (and weights.yaml) in content/top10/ (exit 1 on any problem).

    Other files in content/top10/ (a list saved as latest.yaml) are named in a warning.
    """
    from csrnews.top10 import Problem, Top10Error, check_lists
    from csrnews.top10.candidates import load_weights
    from csrnews.top10.io import unknown_file_warning, unknown_files

    lists, problems = check_lists(content)
    try:
        load_weights(content)  # the candidates' weights file, when there is one
    except Top10Error as exc:
        problems += exc.problems or [Problem(Path(content), 0, str(exc))]
    for path in unknown_files(content):
        console.warn(unknown_file_warning(path))
    for problem in problems:
        console.error(str(problem))
    files = len(
        {p.path for p in problems if p.path.name != "weights.yaml"} | {lst.path for lst in lists}
    )
    published = sum(1 for lst in lists if lst.published)
    console.summary(
        f"Checked {files} list{'s' if files != 1 else ''} ({published} published): "
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''}."
    )
    if problems:
        raise SystemExit(1)


@top10.command("import")
@click.argument("year", type=int)
@click.option(
    "--source",
    required=True,
    help="The source's name as in the stories' Source (e.g. \"The CSR Herald\").",
)
@list_option
@content_option
@quiet_option
@_stops_on_error
def import_(year: int, source: str, list_name: str | None, content: str) -> None:
    """Start YEAR's draft list from the top-10 items recognised in a source's list story."""
    from csrnews.top10.archive import load_archive
    from csrnews.top10.create import create_list, default_title, list_text
    from csrnews.top10.importer import entries_from_story, find_list_story, list_path_for
    from csrnews.top10.io import top10_dir

    story = find_list_story(load_archive(content), year, source)
    entries = entries_from_story(story)
    path = list_path_for(top10_dir(content), year, list_name)
    note = (
        f"Imported from {story.slug} ({story.story.get('Source')}, "
        f"{story.story.get('Source_url')}):\nlink each entry's stories and write its "
        "account before publishing."
    )
    create_list(
        path,
        list_text(
            year,
            default_title(year),
            entries=entries,
            note=note,
            introduction=story.story.get("Summary"),
        ),
    )
    console.summary(f"Created {path} (draft) with {len(entries)} entries from {story.slug}.")
