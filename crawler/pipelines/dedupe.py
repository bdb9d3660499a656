"""Pipeline step 3: find the story this page already is (same URL in any form, or a reprint)."""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from csrnews.crawler.dedupe import signature
from csrnews.crawler.items import StoryItem
from csrnews.crawler.pipelines.step import PipelineStep
from csrnews.crawler.urls import clean_url, url_key

logger = logging.getLogger(__name__)


class DedupePipeline(PipelineStep):
    """Sets `keys`, `path` (the stored story's path, if any) and `duplicate` (a reprint of it)."""

    def process_item(self, item: StoryItem) -> StoryItem:
        ctx = self.spider.ctx
        ex = item.page
        keys = [url_key(item.url), url_key(item.final_url)]
        if ex.canonical_url:
            canonical = clean_url(urljoin(item.final_url, ex.canonical_url))
            parts = urlsplit(canonical)
            # Some sites point every page's canonical at the home page: ignore that.
            if parts.scheme in ("http", "https") and parts.path.strip("/"):
                keys.append(url_key(canonical))
        item.keys = list(dict.fromkeys(keys))
        item.signature = signature(ex.text)
        path = ctx.lookup(*item.keys)
        item.path = path
        owner = ctx.owners.get(path) if path else None
        item.duplicate = bool(path and owner not in item.keys and owner is not None)
        if path is None and item.signature:
            # Only the stored signatures sharing an LSH band are compared: the same best match
            # as comparing with all of them, whenever it reaches the threshold.
            best, best_sim = ctx.signatures.best_match(item.signature, ctx.duplicate_threshold)
            if best is not None:
                logger.info("%s reprints %s (similarity %.2f)", item.url, best, best_sim)
                item.path, item.duplicate = best, True
                # The stored story links to this page, and not the other way round: the stored
                # one is the reprint ("This article first appeared in ..."); this is the original.
                mine = {url_key(link) for link in ex.links}
                theirs = ctx.state.links(best)
                owner = ctx.owners.get(best)
                item.original = bool(owner and item.keys[0] in theirs and owner not in mine)
        return item
