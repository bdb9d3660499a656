"""Child process of `csrnews build` and the nightly run: update one index folder, print stats.

    python -m csrnews.nightly.indexstep CONTENT INDEX [--confirm]

With ``--confirm`` the update does all its work, then waits before its commit for one JSON
line on stdin from the parent: ``{"commit": true, "leave_out": [paths]}`` commits (leaving
out those story files too), anything else or end of input calls it off and the index stays
as it was. `csrnews build` uses this to change site and index together or neither.

The new postings are held in memory up to LIMIT_MB, past which they are sorted into temporary
files (csrnews.search.fastwrite): this process lives beside the site build until the site is
complete, so its memory adds to the site's.
"""

from __future__ import annotations

import json
import sys

from csrnews.search.indexer import IndexAborted, IndexLockedError, update_index

EXIT_ABORTED = 3  # called off before the commit (the site build failed): nothing changed
# At 20,000 stories: 132 MB peak instead of 222 with update_index's 256, CPU within
# the noise (30.6 s against 30.7: the runs written and merged at the commit are cheap).
LIMIT_MB = 32


def _read_decision() -> list[str] | None:
    """The parent's decision: the paths to leave out as well, or None to call it off."""
    line = sys.stdin.readline()
    try:
        decision = json.loads(line) if line.strip() else {}
    except ValueError:
        return None
    if not isinstance(decision, dict) or decision.get("commit") is not True:
        return None
    return [str(path) for path in decision.get("leave_out") or []]


def main(argv: list[str] | None = None) -> int:
    """Run the update; JSON IndexStats on stdout (exit 0), or a one-line error on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    confirm = "--confirm" in args
    paths: list[str] = []
    seeds: list[str] = []
    while args:
        arg = args.pop(0)
        if arg == "--checks-from" and args:
            seeds.append(args.pop(0))
        elif arg != "--confirm":
            paths.append(arg)
    if len(paths) != 2:
        print(
            "usage: python -m csrnews.nightly.indexstep CONTENT INDEX [--confirm] "
            "[--checks-from FOLDER]...",
            file=sys.stderr,
        )
        return 2
    try:
        stats = update_index(
            paths[0],
            paths[1],
            confirm=_read_decision if confirm else None,
            limitmb=LIMIT_MB,
            check_seeds=seeds,
        )
    except IndexAborted as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ABORTED
    except (IndexLockedError, OSError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(stats.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
