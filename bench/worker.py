"""Work the benchmark runs in a subprocess (so its peak RSS is its own): index, query.

    python -m bench.worker index --content C --index I
    python -m bench.worker query --index I --rounds 20

Each prints one line of JSON as its last line of output.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

logger = logging.getLogger(__name__)


def _index(args: argparse.Namespace) -> dict[str, object]:
    from csrnews.search.indexer import update_index

    started = time.perf_counter()
    stats = update_index(args.content, args.index)
    return {"seconds": round(time.perf_counter() - started, 3), **stats.as_dict()}


def _query(args: argparse.Namespace) -> dict[str, object]:
    from bench.queries import in_process_latency

    return in_process_latency(args.index, args.rounds, args.max_seconds, cache=args.cache)


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand, do the work, print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    index = sub.add_parser("index", help="update (or build) the search index")
    index.add_argument("--content", required=True)
    index.add_argument("--index", required=True)
    query = sub.add_parser("query", help="query latency in-process over the fixed mix")
    query.add_argument("--index", required=True)
    query.add_argument("--rounds", type=int, default=20)
    query.add_argument("--max-seconds", type=float, default=120.0)
    query.add_argument(
        "--cache", action="store_true", help="keep the result cache on (repeats are cache hits)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = _index(args) if args.command == "index" else _query(args)
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
