"""Profile one stage with cProfile on a synthetic corpus: where does the time go?

    python -m bench.profiling site --stories 500      # csrnews.site.build.build_site
    python -m bench.profiling pelican --stories 500   # plain Pelican, default theme
    python -m bench.profiling index --stories 500     # csrnews.search.indexer.update_index
    python -m bench.profiling query --stories 500     # the query mix through SearchService
    python -m bench.profiling crawl --stories 300     # csrnews.crawler.run.crawl (loopback)

Prints the top functions by own time and by cumulative time; --out keeps the .prof file
(open it with `python -m pstats` or snakeviz).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import tempfile
import time
from pathlib import Path

from bench.corpus import SEED, generate_corpus
from bench.runner import PELICAN_SETTINGS

logger = logging.getLogger(__name__)

STAGES = ("site", "pelican", "index", "query", "crawl")


def _stage(stage: str, work: Path, content: Path, rounds: int) -> cProfile.Profile:
    profiler = cProfile.Profile()
    if stage == "crawl":
        import os

        from csrnews.crawler.run import crawl, index_existing

        from bench.publisher import write_publisher_stories
        from csrnews.demo.server import render_sources, start_demo_server

        # CSRNEWS_BENCH_CRAWL_EXISTING=N: crawl into a folder already holding N corpus stories.
        existing = int(os.environ.get("CSRNEWS_BENCH_CRAWL_EXISTING", "0") or 0)
        if existing > 0:
            generate_corpus(work / "crawled", existing)
            index_existing(work / "crawled", work / "state")
        write_publisher_stories(work / "stories", len(list(content.rglob("*.md"))))
        server = start_demo_server(stories_dir=work / "stories", slow_seconds=0)
        sources = work / "sources.yaml"
        sources.write_text(render_sources(server.url), encoding="utf-8")
        try:
            profiler.runcall(crawl, sources, work / "crawled", work / "state", delay=0)
        finally:
            server.stop()
    elif stage == "site":
        from csrnews.site.build import build_site

        profiler.runcall(build_site, content, work / "output", quiet=True)
    elif stage == "pelican":
        from pelican import Pelican
        from pelican.settings import read_settings

        conf = work / "pelicanconf.py"
        conf.write_text(PELICAN_SETTINGS, encoding="utf-8")
        settings = read_settings(
            str(conf), override={"PATH": str(content), "OUTPUT_PATH": str(work / "plain")}
        )
        profiler.runcall(Pelican(settings).run)
    elif stage == "index":
        from csrnews.search.indexer import update_index

        profiler.runcall(update_index, content, work / "index")
    else:
        from csrnews.search.indexer import update_index

        from bench.queries import in_process_latency

        update_index(content, work / "index")
        profiler.runcall(in_process_latency, work / "index", rounds)
    return profiler


def main(argv: list[str] | None = None) -> int:
    """Generate a corpus, profile the stage, print the top of the profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--stories", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="query rounds (stage query)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None, help="write the .prof file here")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="csrnews-profile-") as tmp:
        work = Path(tmp)
        content = work / "content"
        generate_corpus(content, args.stories, seed=args.seed)
        started = time.perf_counter()
        profiler = _stage(args.stage, work, content, args.rounds)
        wall = time.perf_counter() - started
    print(f"{args.stage} on {args.stories} stories: {wall:.2f} s (under cProfile)")
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n-- top {args.top} by {order} --")
        print(buffer.getvalue().split("\n\n", 1)[-1].strip())
    if args.out:
        profiler.dump_stats(str(args.out))
        print(f"\nprofile written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
