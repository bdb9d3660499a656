"""The `csrnews search` command: query the index from the terminal."""

from __future__ import annotations

import html
import json
import os
import re

import click
from rich.table import Table

from csrnews import console
from csrnews.options import index_option
from csrnews.search import (
    BudgetExceeded,
    IndexMissingError,
    QueryError,
    SearchRequest,
    SearchService,
)
from csrnews.search.query import service_options


@click.command("search")
@click.argument("query", nargs=-1)
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON answer of /api/search.")
@click.option("--type", "types", multiple=True, help="Only this event type (repeatable).")
@click.option("--org", "orgs", multiple=True, help="Only stories naming this organisation.")
@click.option("--year", "years", multiple=True, help="Only stories of this year.")
@click.option("--source", "sources", multiple=True, help="Only stories from this source.")
@click.option("--lang", "langs", multiple=True, help="Only stories in this language (en, zh).")
@click.option(
    "--page", default=1, show_default=True, type=click.IntRange(1, 1000), help="Page of results."
)
@click.option(
    "--sort",
    type=click.Choice(["relevance", "date"]),
    default="relevance",
    show_default=True,
    help="Order of results.",
)
def search(
    query: tuple[str, ...],
    index: str,
    as_json: bool,
    types: tuple[str, ...],
    orgs: tuple[str, ...],
    years: tuple[str, ...],
    sources: tuple[str, ...],
    langs: tuple[str, ...],
    page: int,
    sort: str,
) -> None:
    """Query the search index from the terminal.

    QUERY takes words, "phrases", AND/OR/NOT, field filters (org:, type:, year:, source:,
    lang:, standard:) and wildcards, e.g. `csrnews search '"supply chain" org:amfori'`.
    """
    filters = {
        name: list(values)
        for name, values in (
            ("type", types),
            ("org", orgs),
            ("year", years),
            ("source", sources),
            ("lang", langs),
        )
        if values
    }
    request = SearchRequest(q=" ".join(query), filters=filters, page=page, sort=sort)
    try:
        answer = SearchService(index, **service_options(os.environ)).search(request)
    except (QueryError, IndexMissingError, BudgetExceeded) as exc:
        console.error(str(exc))
        raise SystemExit(1) from exc
    if answer.get("partial"):
        console.warn("the search used up its time budget: the answer may miss some stories")
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    _print_table(answer)


def _print_table(answer: dict[str, object]) -> None:
    table = Table(show_lines=False, highlight=False)
    for column in ("#", "date", "type", "title", "source"):
        table.add_column(column, overflow="fold")
    hits = answer["hits"]
    assert isinstance(hits, list)
    first = (int(answer["page"]) - 1) * 10 + 1  # type: ignore[call-overload]
    for n, hit in enumerate(hits, first):
        table.add_row(
            str(n), hit["date"] or "", hit["category"] or "", hit["title"], hit["source"] or ""
        )
    if hits:
        console.out.print(table)
        for n, hit in enumerate(hits, first):
            snippet = html.unescape(re.sub(r"</?mark[^>]*>", "", hit["snippet"]))
            console.out.print(f"{n}. {hit['url']}\n   {snippet}", markup=False)
    if answer.get("suggestion"):
        console.summary(f"Did you mean: {answer['suggestion']}")
    console.summary(
        f"{answer['total']} stories found (page {answer['page']} of {answer.get('pages', 1)})"
    )
