"""Pipeline step 4: write the story file atomically; never overwrite an editor's change."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from csrnews.crawler.context import CrawlContext
from csrnews.crawler.extraction.clean import markdown_to_text
from csrnews.crawler.items import StoryItem
from csrnews.crawler.pipelines.step import PipelineStep
from csrnews.crawler.sources import Source
from csrnews.crawler.urls import url_key
from scrapy.exceptions import DropItem

from csrnews.story.storycheck import MAX_YEAR, MIN_YEAR, check_text, parse_story_date
from csrnews.story.storyfile import (
    FULLTEXT_SUFFIX,
    Story,
    is_edited,
    read_story,
    render_story,
    slugify,
    story_path,
    story_write_lock,
    write_story,
    write_text_atomic,
)
from csrnews.story.vocabulary import event_type_label

logger = logging.getLogger(__name__)

SUMMARY_CHARS = 300


def summary_of(text: str) -> str:
    """The first paragraph of a text, shortened to a sentence boundary near SUMMARY_CHARS."""
    for para in text.split("\n\n"):
        para = " ".join(para.split())
        if len(para) >= 40 or (para and re.search(r"[\u3400-\u9fff]", para)):
            if len(para) <= SUMMARY_CHARS:
                return para
            cut = para[:SUMMARY_CHARS]
            stop = max(cut.rfind(". "), cut.rfind("。"))
            return cut[: stop + 1] if stop > 80 else cut.rsplit(" ", 1)[0] + "…"
    return ""


def excerpt_of(markdown: str, paragraphs: int, url: str, source: str) -> str:
    """The lead paragraphs of a story and a link to the original."""
    kept: list[str] = []
    for block in markdown.split("\n\n"):
        block = block.strip()
        if not block or block.startswith(("#", "|", "- ", "* ")):
            continue
        kept.append(block)
        if len(kept) >= paragraphs:
            break
    kept.append(f"[Read the full story at {source}]({url})")
    return "\n\n".join(kept)


def story_date(value: str | None, now: str) -> str:
    """The page's date when it is one the story format takes (ISO 8601, a real year), else now.

    A feed or page may say anything ("0000-00-00", year 99999): the story file must still be
    one the site can publish.
    """
    parsed = parse_story_date(value or "")
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        if value:
            logger.info("date %r is not a usable date; using the crawl time", value)
        return now
    return str(value).strip()


def sidecar_path(path: Path) -> Path:
    """Where an excerpt story's full plain text lives: `<slug>` + FULLTEXT_SUFFIX."""
    return path.with_name(path.stem + FULLTEXT_SUFFIX)


def build_story(item: StoryItem, source: Source, ctx: CrawlContext, slug: str) -> Story:
    """The story file for a processed item (without Fingerprint)."""
    ex, en = item.page, item.found
    story = Story()
    story.set("Title", ex.title)
    story.set("Date", story_date(ex.date, ctx.now))
    story.set("Slug", slug)
    story.set("Lang", ex.lang)
    story.set("Summary", summary_of(ex.text))
    story.set("Category", event_type_label(en.category))
    story.set_list("Tags", en.tags)
    story.set_list("Organisations", en.organisations)
    story.set_list("Standards", en.standards)
    story.set_list("Locations", en.locations)
    story.set("Event_date", en.event_date.isoformat() if en.event_date else None)
    story.set("Source", source.name)
    story.set("Source_url", item.url)
    if en.top10_items:
        story.set("Top10_items", json.dumps(en.top10_items, ensure_ascii=False, default=str))
    if source.republish == "excerpt":
        story.set("Republish", "excerpt")
        story.body = excerpt_of(ex.markdown, ctx.excerpt_paragraphs, item.url, source.name)
    else:
        story.body = ex.markdown
    story.set("Crawled", ctx.now)
    return story


def _comparable(story: Story) -> str:
    copy = Story(
        meta={
            k: v for k, v in story.meta.items() if k not in ("Crawled", "Modified", "Fingerprint")
        },
        body=story.body,
    )
    return render_story(copy, fingerprint=False)


class WritePipeline(PipelineStep):
    """Creates, updates, merges or keeps the story file; records it in the crawl state."""

    def process_item(self, item: StoryItem) -> StoryItem:
        spider = self.spider
        ctx, report, source = spider.ctx, spider.report, spider.source
        try:
            # an editor's save waits for this write, and this read-check-write for the save
            with story_write_lock(ctx.content_dir):
                if item.duplicate and item.original:
                    outcome, rel = self.supersede(item, source, ctx)
                elif item.duplicate:
                    outcome, rel = self.merge(item, ctx)
                elif item.path and ctx.abs(item.path).exists():
                    outcome, rel = self.update(item, source, ctx)
                else:
                    outcome, rel = self.create(item, source, ctx, item.path)
        except DropItem as exc:
            report.error(str(exc))
            raise
        setattr(report, outcome, getattr(report, outcome) + 1)
        item.outcome, item.path = outcome, rel
        entry_hash = item.entry_hash
        if item.from_fallback:
            entry_hash = f"fallback:{entry_hash}"  # the page failed: fetch it again next run
        with ctx.state.transaction():  # one commit per story, not one per row
            for key in item.keys:
                ctx.paths[key] = rel
                ctx.state.save_story(key, item.url, rel, source.name, entry_hash)
            if item.superseded:
                ctx.owners[rel] = item.keys[0]
            if not item.duplicate or item.superseded:
                ctx.owners.setdefault(rel, item.keys[0])
                if item.signature:
                    ctx.signatures[rel] = item.signature
                    ctx.state.save_signature(rel, item.signature)
                ctx.state.save_links(rel, sorted({url_key(u) for u in item.page.links}))
        logger.info("%s: %s -> %s (%s)", source.name, item.url, rel, outcome)
        return item

    def _write(self, path: Path, story: Story, item: StoryItem) -> None:
        problem = check_text(render_story(story))
        if problem:  # never write a file the site would have to leave out
            raise DropItem(f"{item.url}: the story file would be invalid: {problem}")
        sidecar = sidecar_path(path)
        if story.get("Republish") == "excerpt":
            write_text_atomic(sidecar, item.page.text + "\n")
        write_story(path, story)
        if story.get("Republish") != "excerpt" and sidecar.exists():
            sidecar.unlink()  # the story now keeps its full text itself

    def create(
        self, item: StoryItem, source: Source, ctx: CrawlContext, rel: str | None
    ) -> tuple[str, str]:
        if rel:  # the story's file was deleted: write it again where it was
            path = ctx.abs(rel)
            slug = path.stem
        else:
            ex = item.page
            year = story_date(ex.date, ctx.now)[:4]
            base = slugify(ex.title, key=item.url)
            slug, n = base, 1
            path = story_path(ctx.content_dir, year, slug)
            while path.exists() or ctx.rel(path) in ctx.owners:
                n += 1
                slug = f"{base}-{n}"
                path = story_path(ctx.content_dir, year, slug)
        self._write(path, build_story(item, source, ctx, slug), item)
        return "new", ctx.rel(path)

    def update(self, item: StoryItem, source: Source, ctx: CrawlContext) -> tuple[str, str]:
        rel = item.stored
        path = ctx.abs(rel)
        text = path.read_text(encoding="utf-8")
        if is_edited(text):
            return "kept", rel
        old = read_story(path)
        story = build_story(item, source, ctx, old.slug or path.stem)
        story.set_list("Also_reported_by", old.get_list("Also_reported_by"))
        for key in ("Crawled", "Modified"):
            story.set(key, old.get(key) or None)
        if _comparable(story) == _comparable(old):
            return "unchanged", rel
        story.set("Modified", ctx.now)
        story.set("Crawled", ctx.now)
        self._write(path, story, item)
        return "updated", rel

    def supersede(self, item: StoryItem, source: Source, ctx: CrawlContext) -> tuple[str, str]:
        """The original of a stored reprint arrived: it becomes the story, the reprint a URL."""
        rel = item.stored
        path = ctx.abs(rel)
        if is_edited(path.read_text(encoding="utf-8")):
            return "kept", rel
        old = read_story(path)
        story = build_story(item, source, ctx, old.slug or path.stem)
        story.set_list(
            "Also_reported_by", [old.get("Source_url"), *old.get_list("Also_reported_by")]
        )
        self._write(path, story, item)
        item.superseded = True
        return "merged", rel

    def merge(self, item: StoryItem, ctx: CrawlContext) -> tuple[str, str]:
        rel = item.stored
        path = ctx.abs(rel)
        text = path.read_text(encoding="utf-8")
        if is_edited(text):
            return "kept", rel
        story = read_story(path)
        others = story.get_list("Also_reported_by")
        if item.url in others or item.url == story.get("Source_url"):
            return "unchanged", rel
        story.set_list("Also_reported_by", [*others, item.url])
        write_story(path, story)
        return "merged", rel


def body_text(story: Story) -> str:
    """The plain text of a stored story's body (for signatures of files the state lacks)."""
    return markdown_to_text(story.body)
