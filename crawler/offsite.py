"""Scrapy's offsite filter, counting what it filters in the source's report.

The spiders check the hosts of the links they follow themselves (StoryMixin.offsite()); what
is left to Scrapy's filter is a redirect to a host the source may not use, which Scrapy drops
in silence while the request is scheduled. This subclass counts it as "skipped: off-site".
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)


class CountingOffsiteMiddleware(OffsiteMiddleware):
    """OffsiteMiddleware that tells the spider (``offsite_filtered(url)``) what it drops."""

    def process_request(self, request: Request, spider: Any = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            note = getattr(self.crawler.spider, "offsite_filtered", None)
            if note is not None:
                note(request.url)
            raise
