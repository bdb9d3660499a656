"""A synthetic, seeded corpus of CSR story files (about 10% Chinese) for the benchmarks.

Story ``i`` depends only on the seed and ``i``, so a corpus of 1,000 stories is the first 1,000
of a corpus of 20,000, and two runs with the same seed write byte-identical files.

    python -m bench.corpus --stories 1000 --content /tmp/corpus
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.wordpools import (
    EN_OBJECTS,
    EN_QUOTES,
    EN_SUBJECTS,
    EN_TAILS,
    EN_TITLES,
    EN_VERBS,
    EVENT_WEIGHTS,
    LOCATIONS,
    ORGANISATIONS,
    PEOPLE,
    SOURCES,
    STANDARDS,
    TOPICS,
    ZH_LOCATIONS,
    ZH_SENTENCES,
    ZH_TITLES,
    ZH_TOPICS,
)
from csrnews.story.storyfile import Story, read_story, slugify, story_path, write_story
from csrnews.story.vocabulary import EVENT_TYPES

logger = logging.getLogger(__name__)

SEED = 20180601
CHINESE_SHARE = 0.10
CRAWLED = "2026-01-05T02:00:00+00:00"  # fixed, so that files do not depend on the clock
FIRST_YEAR, LAST_YEAR = 2010, 2025


@dataclass(frozen=True)
class GeneratedStory:
    """One synthetic story before it is written: its year, slug and story-file content."""

    year: int
    slug: str
    story: Story


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _zipf_pick(rng: random.Random, pool: Sequence[str]) -> str:
    """Pick from a pool with a long tail: the first entries are much more common."""
    weights = [1.0 / (rank + 1) for rank in range(len(pool))]
    return rng.choices(pool, weights=weights)[0]


def _sample(rng: random.Random, pool: Sequence[str], low: int, high: int) -> list[str]:
    picked: dict[str, None] = {}
    for _ in range(rng.randint(low, high)):
        picked.setdefault(_zipf_pick(rng, pool), None)
    return list(picked)


def _year(rng: random.Random) -> int:
    """Years from 2010 to 2025, recent years more common (sites grow)."""
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    return rng.choices(years, weights=[1 + (y - FIRST_YEAR) for y in years])[0]


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _fill(rng: random.Random, template: str, ctx: dict[str, str]) -> str:
    values = dict(ctx)
    values.update(
        person=rng.choice(PEOPLE), k=str(rng.randint(12, 600)), n=_ordinal(rng.randint(2, 19))
    )
    return template.format(**values)


def _english_body(rng: random.Random, ctx: dict[str, str]) -> str:
    paragraphs: list[str] = []
    for p in range(rng.randint(4, 10)):
        sentences = []
        for _ in range(rng.randint(2, 5)):
            tail = _fill(rng, rng.choice(EN_TAILS), ctx)
            obj = rng.choice(EN_OBJECTS)
            if rng.random() < 0.3:
                obj = f"{obj} and {ctx['topic']}"
            sentences.append(f"{rng.choice(EN_SUBJECTS)} {rng.choice(EN_VERBS)} {obj} {tail}.")
        if rng.random() < 0.25:
            sentences.append(_fill(rng, rng.choice(EN_QUOTES), ctx))
        paragraph = " ".join(sentences)
        if p and rng.random() < 0.15:
            paragraph = f"## {ctx['topic'].capitalize()} in {ctx['loc']}\n\n{paragraph}"
        paragraphs.append(paragraph)
    if rng.random() < 0.2:
        items = "\n".join(f"- {_fill(rng, rng.choice(EN_OBJECTS), ctx)}" for _ in range(3))
        paragraphs.append(f"Next steps:\n\n{items}")
    return "\n\n".join(paragraphs)


def _chinese_body(rng: random.Random, ctx: dict[str, str]) -> str:
    paragraphs = []
    for _ in range(rng.randint(3, 8)):
        paragraphs.append(
            "".join(_fill(rng, rng.choice(ZH_SENTENCES), ctx) for _ in range(rng.randint(3, 6)))
        )
    return "\n\n".join(paragraphs)


def make_story(index: int, seed: int = SEED) -> GeneratedStory:
    """The synthetic story number ``index`` for ``seed`` (independent of every other story)."""
    rng = random.Random(f"{seed}:{index}")
    event = _weighted(rng, EVENT_WEIGHTS)
    chinese = rng.random() < CHINESE_SHARE
    year = _year(rng)
    published = dt.datetime(
        year,
        rng.randint(1, 12),
        rng.randint(1, 28),
        rng.randint(6, 21),
        rng.choice((0, 15, 30, 45)),
        tzinfo=dt.timezone(dt.timedelta(hours=8)),
    )
    orgs = _sample(rng, ORGANISATIONS, 1, 4)
    standards = _sample(rng, STANDARDS, 0, 2)
    locations = _sample(rng, LOCATIONS, 1, 2)
    tags = _sample(rng, TOPICS, 1, 3)
    source, host = rng.choice(SOURCES)
    ctx = {
        "org": orgs[0],
        "org2": orgs[1] if len(orgs) > 1 else rng.choice(ORGANISATIONS),
        "loc": locations[0],
        "topic": tags[0],
        "year": str(year),
        "std": standards[0] if standards else rng.choice(STANDARDS),
        "zloc": rng.choice(ZH_LOCATIONS),
        "ztopic": rng.choice(ZH_TOPICS),
    }
    if chinese:
        title = _fill(rng, rng.choice(ZH_TITLES[event]), ctx)
        body = _chinese_body(rng, ctx)
        summary = body.split("。")[0] + "。"
    else:
        title = _fill(rng, rng.choice(EN_TITLES[event]), ctx)
        title = title[:1].upper() + title[1:]
        body = _english_body(rng, ctx)
        summary = body.split(". ")[0].lstrip("# ") + "."
    url = f"https://{host}/{year}/{published:%m}/story-{index:06d}.html"
    slug = slugify(title, key=url)
    story = Story()
    story.set("Title", title)
    story.set("Date", published.isoformat())
    story.set("Slug", slug)
    story.set("Lang", "zh" if chinese else "en")
    story.set("Summary", summary[:300])
    story.set("Category", EVENT_TYPES[event])
    story.set_list("Tags", tags)
    story.set_list("Organisations", orgs)
    story.set_list("Standards", standards)
    story.set_list("Locations", locations)
    if rng.random() < 0.4:
        event_day = published.date() - dt.timedelta(days=rng.randint(0, 5))
        story.set("Event_date", event_day.isoformat())
    story.set("Source", source)
    story.set("Source_url", url)
    story.set("Crawled", CRAWLED)
    story.body = body
    return GeneratedStory(year=year, slug=slug, story=story)


def generate_corpus(
    content_dir: str | Path, stories: int, *, seed: int = SEED, start: int = 0
) -> list[Path]:
    """Write stories ``start`` .. ``start + stories - 1`` under ``<content_dir>/news``.

    Slugs are unique across years too, so that plain Pelican (one folder for all articles)
    builds the same files without collisions.
    """
    content = Path(content_dir)
    used = {path.stem for path in (content / "news").glob("*/*.md")}
    written = []
    for index in range(start, start + stories):
        item = make_story(index, seed)
        slug = item.slug
        if slug in used:  # two titles with the same words: keep both stories
            slug = f"{slug}-{index}"
            item.story.set("Slug", slug)
        used.add(slug)
        path = story_path(content, item.year, slug)
        write_story(path, item.story)
        written.append(path)
    logger.debug("wrote %d synthetic stories to %s", len(written), content)
    return written


NIGHTLY_DATES = ("recent", "spread")
# The night the nightly changes are crawled: after every corpus story (years up to LAST_YEAR).
NIGHT = dt.datetime(LAST_YEAR + 1, 1, 5, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _date_recent(content: Path, paths: list[Path], night: int = 1) -> list[Path]:
    """Give new stories the dates a nightly crawl finds: the day before the night, in order
    (night ``night`` is ``night - 1`` days after the first)."""
    moved = []
    tonight = NIGHT + dt.timedelta(days=night - 1)
    for number, path in enumerate(paths):
        story = read_story(path)
        published = tonight - dt.timedelta(minutes=10 * (len(paths) - number))
        story.set("Date", published.isoformat())
        target = story_path(content, published.year, path.stem)
        write_story(target, story)
        if target != path:
            path.unlink()
        moved.append(target)
    return moved


def nightly_changes(
    content_dir: str | Path,
    existing: int,
    *,
    new: int = 50,
    changed: int = 20,
    seed: int = SEED,
    dates: str = "recent",
    night: int = 1,
) -> tuple[list[Path], list[Path]]:
    """The nightly case: add ``new`` stories after the first ``existing`` and edit ``changed``.

    ``night``: the how-manieth night since the corpus was made; each is a day after the one
    before (its new stories and its edits dated that day, not the first night's again).

    With ``dates="recent"`` the new stories are published in the day before the night (what a
    nightly crawl of news sites finds); with ``"spread"`` they keep the generator's dates, spread
    over 2010-2025 like the corpus (stories found late, for old dates). The changed stories
    are spread evenly over the corpus; each gets a new paragraph and a Modified date, as a
    re-crawled story that its publisher updated would.
    """
    if dates not in NIGHTLY_DATES:
        raise ValueError(f"dates must be one of {', '.join(NIGHTLY_DATES)}, not {dates!r}")
    content = Path(content_dir)
    added = generate_corpus(content, new, seed=seed, start=existing)
    if dates == "recent":
        added = _date_recent(content, added, night)
    fresh = set(added)
    files = sorted(p for p in (content / "news").rglob("*.md") if p not in fresh)
    step = max(1, len(files) // max(1, changed))
    edited = []
    for number, path in enumerate(files[::step][:changed]):
        story = read_story(path)
        story.body = (
            f"{story.body.rstrip()}\n\nUpdate {number + 1}: the organisers published "
            "the full list of participants and the follow-up plan.\n"
        )
        modified = dt.datetime(2026, 1, 6, 2, 0, tzinfo=dt.UTC)
        story.set("Modified", (modified + dt.timedelta(days=night - 1)).isoformat())
        write_story(path, story)
        edited.append(path)
    return added, edited


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.corpus --stories N --content DIR [--seed S]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--content", required=True, help="folder to write news/ into")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    paths = generate_corpus(args.content, args.stories, seed=args.seed)
    print(f"wrote {len(paths)} stories under {Path(args.content) / 'news'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
