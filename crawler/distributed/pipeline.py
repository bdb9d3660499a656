"""The worker's last pipeline step: push the extracted, enriched item to the Redis item queue."""

from __future__ import annotations

import logging
from typing import Any, Self

from csrnews.crawler.distributed.items import story_record
from csrnews.crawler.items import StoryItem
from scrapy_redis.pipelines import RedisPipeline

logger = logging.getLogger(__name__)


class ItemQueuePipeline(RedisPipeline):
    """scrapy-redis's RedisPipeline (its key and serializer settings), in Scrapy 2.13+'s form.

    RedisPipeline.process_item(item, spider) takes the spider argument Scrapy now deprecates
    and pushes from a thread; this one takes the item alone and pushes before it returns, so
    that when Scrapy is done with a response its items are in Redis (the request's lease is
    acknowledged only then). What is pushed is `items.story_record`: the page's body is not.
    """

    crawler: Any

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        pipeline = cls.from_settings(crawler.settings)
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: StoryItem) -> StoryItem:
        spider = self.crawler.spider
        record = story_record(item, spider.source)
        self.server.rpush(self.key, self.serialize(record))
        spider.ctx.queued += 1
        logger.info("%s: %s queued for the writer", spider.source.name, item.url)
        item.outcome = "queued"
        return item
