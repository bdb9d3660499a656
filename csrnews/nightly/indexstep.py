"""Child process of `csrnews build` and the nightly run: update one index folder, print stats."""

from __future__ import annotations

import json
import sys


def main(argv: list[str] | None = None) -> int:
    """`python -m csrnews.nightly.indexstep CONTENT INDEX`: JSON IndexStats on stdout."""
    from search.indexer import IndexLockedError, update_index

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m csrnews.nightly.indexstep CONTENT INDEX", file=sys.stderr)
        return 2
    try:
        stats = update_index(args[0], args[1])
    except (IndexLockedError, OSError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(stats.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
