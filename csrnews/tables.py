"""Report tables as plain text (rich.table): the crawl's, the nightly's and the benchmarks'."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


def text_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    align: str = "",
    max_width: int | None = 40,
) -> str:
    """A table as plain text: one header line, a rule, one line a row.

    `align` has a letter a column, "l" or "r" (columns past its end are left-aligned). Plain
    text, so the same table goes to the terminal, a report file and a mail; cells are shown
    as they are (no rich markup: a source may be called "[x]"); a cell longer than
    `max_width` ends in "…".
    """
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
    for number, header in enumerate(headers):
        grid.add_column(
            header,
            justify="right" if align[number : number + 1] == "r" else "left",
            max_width=max_width,
            no_wrap=True,
            overflow="ellipsis",
        )
    for row in rows:
        grid.add_row(*(Text(str(cell)) for cell in row))
    buffer = io.StringIO()
    Console(file=buffer, width=1000, color_system=None, highlight=False).print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines() if line.strip())
