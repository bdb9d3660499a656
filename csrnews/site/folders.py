"""Names of the folders a site build keeps beside its output (light: no Pelican import)."""

from __future__ import annotations

from pathlib import Path


def spare_of(output: Path) -> Path:
    """Where the site the live one replaced is kept, to seed the next build from.

    csrnews.site.build keeps the old site there when it swaps a new one in, and a build of
    ``output`` starts from it; the nightly run puts the site of the release it is about to
    prune there (csrnews.nightly.release).
    """
    return output.with_name(f".{output.name}.spare")
