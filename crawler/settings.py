"""The Scrapy project's settings module: UPPERCASE defaults, at Scrapy's "project" priority.

`csrnews crawl` (csrnews.crawler.run) reads this module into a scrapy Settings and puts the
run's values (sources.yaml's user agent, --delay, --source-timeout) over it at "cmdline"
priority; `scrapy crawl NAME` in the checkout (scrapy.cfg) reads it as Scrapy always does.
"""

from __future__ import annotations

from csrnews.crawler.pipelines import PIPELINES

from csrnews.story import settings as csrnews_settings

BOT_NAME = "csrnews"
# One spider per source of sources.yaml (`scrapy list`), made from the spider of its type.
SPIDER_MODULES = ["csrnews.crawler.spiders"]
SPIDER_LOADER_CLASS = "csrnews.crawler.spiderloader.SourcesSpiderLoader"
ITEM_PIPELINES = PIPELINES
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's offsite filter, counting what it drops (redirects to other hosts).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "csrnews.crawler.offsite.CountingOffsiteMiddleware": 50,
}
# Where `scrapy crawl NAME` reads sources and writes stories (`csrnews crawl` has options).
CSRNEWS_SOURCES = csrnews_settings.SOURCES_FILE
CSRNEWS_CONTENT = csrnews_settings.CONTENT_DIR
CSRNEWS_STATE = csrnews_settings.STATE_DIR

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
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
HTTPCACHE_ENABLED = False
# Scrapy re-reads a generator callback's source for this check on every response (its cache
# is keyed by the bound method, made anew each time): about 1 ms a page.
WARN_ON_GENERATOR_RETURN_VALUE = False

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
