"""The crawler's UPPERCASE defaults in one place; sources.yaml and CLI options override them."""

from __future__ import annotations

from csrnews.story import settings as csrnews_settings

USER_AGENT = csrnews_settings.USER_AGENT

# Politeness. Tests and benchmarks on loopback turn the delays down through `crawl(politeness=)`.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items of one response processed at once. The pipeline steps never wait, so Scrapy's default
# (100) only costs 100 asyncio tasks per response; a story page yields one item.
CONCURRENT_ITEMS = 4

# Robustness.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a page or feed larger than this is dropped
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5

# Per-source and whole-run limits (seconds; 0 = none).
SOURCE_TIMEOUT = 0
RUN_TIMEOUT = 0
GONE_RETRY_DAYS = 7  # a story URL that answered 404/410 is asked again after this many days
MAX_PAGES = 500  # stories fetched per source per run, unless the source says otherwise

# Extraction and dedupe.
EXCERPT_PARAGRAPHS = 2  # lead paragraphs a `republish: excerpt` story keeps
DUPLICATE_THRESHOLD = 0.8  # shingle similarity above which two bodies are one story
SHINGLE_SIZE = 5  # words (characters for Chinese) per shingle
MINHASH_PERMUTATIONS = 128

# Query parameters that only track readers; dropped when URLs are compared.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "spm",
        "from",
        "ref",
        "ref_src",
        "source",
        "share",
        "_hsenc",
        "_hsmi",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")

STATE_DB = "crawl.sqlite3"  # inside --state DIR
