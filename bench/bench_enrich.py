"""Benchmark enrichment: stories per second over 1,000 stories on one core.

Run ``.venv/bin/python -m bench.bench_enrich [--stories N]``. The stories are the labelled demo
stories and enrichment fixtures, cycled, each given a distinct suffix so nothing is reused.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from csrnews.crawler.enrichment import load_rules
from csrnews.crawler.enrichment.evaluate import DEFAULT_DIRS, iter_labelled

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Time enrichment of N stories and print stories/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1000, help="how many stories to enrich")
    args = parser.parse_args(argv)
    corpus = iter_labelled(DEFAULT_DIRS)
    if not corpus:
        print("no labelled stories found", file=sys.stderr)
        return 1
    stories = [
        (s.title, f"{s.body}\n\nStory {i}.", s.lang, s.published)
        for i, s in enumerate((corpus * (args.stories // len(corpus) + 1))[: args.stories])
    ]
    chars = sum(len(title) + len(text) for title, text, _, _ in stories)

    started = time.perf_counter()
    enricher = load_rules()
    compiled = time.perf_counter() - started

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for title, text, lang, published in stories:
        enricher.enrich(title, text, lang, published)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0

    print(f"compiled data files in {compiled * 1000:.0f} ms")
    print(
        f"enriched {len(stories)} stories ({chars / len(stories):.0f} chars each) "
        f"in {wall:.2f} s wall, {cpu:.2f} s CPU: {len(stories) / wall:.0f} stories/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
