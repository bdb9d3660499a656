"""`python -m bench` (`make bench`): run the whole-pipeline benchmarks, print a table, save JSON.

    python -m bench                       # sizes 5k,10k,20k,40k; crawl 1000 pages
    python -m bench --sizes 1000,5000     # other corpus sizes
    python -m bench --quick               # a tiny run (20 stories) to check the harness
    python -m bench --sections build,query
    python -m bench --sections nightly --fold-nights 0   # no nights after the third
    python -m bench quality               # extraction and enrichment quality (../shared)

Figures go to bench/results/<timestamp>.json with a description of the machine.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench.report import format_table
from bench.runner import SECTIONS, Bench, Options

logger = logging.getLogger("bench")

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FULL_SIZES = (5000, 10000, 20000, 40000)
QUICK_SIZE = 20


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("k", "000")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes are numbers like 1000,5k: {text!r}") from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("give at least one positive size")
    return sizes


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"sections are {', '.join(SECTIONS)}")
    return chosen


def _nights(text: str) -> int:
    try:
        nights = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"a number of nights: {text!r}") from exc
    if nights < 0:
        raise argparse.ArgumentTypeError("0 or more nights")
    return nights


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --quick changes the defaults of every size not given explicitly."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="corpus sizes for the build (default 5000,10000,20000,40000; quick: 20); "
        "nightly, index and query use --main-size",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and counts: checks the harness in seconds"
    )
    parser.add_argument(
        "--sections",
        type=_sections,
        default=SECTIONS,
        help=f"comma-separated subset of {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--crawl-pages",
        type=int,
        default=None,
        help="pages on the loopback publisher (default 1000; quick: 20)",
    )
    parser.add_argument(
        "--crawl-existing",
        type=int,
        default=None,
        help="then crawl the same pages into a site already holding this many stories "
        "(default 20000; quick: 0, skipped)",
    )
    parser.add_argument(
        "--query-rounds",
        type=int,
        default=None,
        help="rounds over the query mix in-process (default 20; quick: 2)",
    )
    parser.add_argument(
        "--query-seconds",
        type=float,
        default=None,
        help="stop the in-process rounds after this time (default 120; quick: 20)",
    )
    parser.add_argument(
        "--http-requests",
        type=int,
        default=None,
        help="API requests at most (default 2000; quick: 48)",
    )
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=None,
        help="API load time at most (default 30; quick: 10)",
    )
    parser.add_argument("--seed", type=int, default=None, help="corpus seed")
    parser.add_argument(
        "--nightly-dates",
        choices=("recent", "spread"),
        default="recent",
        help="dates of the nightly's 50 new stories: the day before the night (recent, what a "
        "nightly crawl finds) or spread over the corpus's years like old stories found late",
    )
    parser.add_argument(
        "--fold-nights",
        type=_nights,
        default=None,
        help="after the nightly's third night, run more (warm, like the second) until one "
        "whose static search builds 90%% of its nightly budget outside the recent shard, this "
        "many at most (default 20; quick: 2; 0: none); the heaviest is the JSON's fold_night",
    )
    parser.add_argument(
        "--main-size",
        type=int,
        default=None,
        help="the corpus size index, nightly and query run at (default 20000 when among the "
        "sizes, else the largest)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where corpora and sites go (default: a temporary folder)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    """Options with --quick defaults applied where a value was not given."""
    from bench.corpus import SEED

    quick = args.quick

    def pick(value: object, full: object, small: object) -> object:
        return value if value is not None else (small if quick else full)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="csrnews-bench-"))
    return Options(
        sizes=pick(args.sizes, list(FULL_SIZES), [QUICK_SIZE]),  # type: ignore[arg-type]
        workdir=workdir,
        results_dir=args.results_dir,
        crawl_pages=pick(args.crawl_pages, 1000, 20),  # type: ignore[arg-type]
        crawl_existing=pick(args.crawl_existing, 20000, 0),  # type: ignore[arg-type]
        query_rounds=pick(args.query_rounds, 20, 2),  # type: ignore[arg-type]
        query_seconds=pick(args.query_seconds, 120.0, 20.0),  # type: ignore[arg-type]
        http_requests=pick(args.http_requests, 2000, 48),  # type: ignore[arg-type]
        http_seconds=pick(args.http_seconds, 30.0, 10.0),  # type: ignore[arg-type]
        sections=args.sections,
        seed=args.seed if args.seed is not None else SEED,
        nightly_dates=args.nightly_dates,
        main_size=args.main_size,
        fold_nights=pick(args.fold_nights, 20, 2),  # type: ignore[arg-type]
        quick=quick,
        keep=args.keep or args.workdir is not None,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit 1 when a section failed (targets missed are reported, not fatal).

    `python -m bench quality ...` runs the quality scores instead (bench/quality.py)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["quality"]:
        from bench.quality import main as quality

        return quality(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    options = options_from(args)
    options.progress = progress
    bench = Bench(options)
    progress(
        f"bench: sizes {options.sizes}, sections {','.join(options.sections)}, "
        f"work folder {options.workdir}"
    )
    results = bench.run()
    print(format_table(results))
    print(f"\nfigures written to {bench.results_path}")
    failed = [
        name
        for name in options.sections
        if isinstance(results.get(name), dict) and "error" in results[name]
    ]
    if failed:
        print(f"sections failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
