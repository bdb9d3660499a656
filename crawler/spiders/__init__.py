"""One spider per source type (feed, sitemap, listing), each configured from sources.yaml."""

from __future__ import annotations

from csrnews.crawler.spiders.feed import FeedSpider
from csrnews.crawler.spiders.listing import ListingSpider
from csrnews.crawler.spiders.sitemap import StorySitemapSpider

SPIDERS = {"feed": FeedSpider, "sitemap": StorySitemapSpider, "listing": ListingSpider}

__all__ = ["SPIDERS", "FeedSpider", "ListingSpider", "StorySitemapSpider"]
