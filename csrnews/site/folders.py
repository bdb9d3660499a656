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


def staging_prefix(output: Path) -> str:
    """How the staging folders of builds of ``output`` begin (``.NAME.building-``, beside it)."""
    return f".{output.name}.building-"


def build_lock_of(output: Path) -> Path:
    """The file builds of ``output`` flock while their staging folders exist.

    Each build holds it shared; one that gets it exclusively knows that no other build of
    ``output`` runs, so that staging folders beside the output are killed builds' leftovers
    (csrnews.site.build removes them then).
    """
    return output.with_name(f".{output.name}.building.lock")
