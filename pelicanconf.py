"""The site's Pelican settings: theme, plugins, URLs, feeds (csrnews.site.build adds overrides)."""

from __future__ import annotations

from pathlib import Path

from csrnews.story import urls as _urls

_ROOT = Path(__file__).resolve().parent

AUTHOR = "csrnews"
SITENAME = "CSR News"
SITESUBTITLE = "Corporate social responsibility news, events and standards"
# The public URL of the site, with its path if it lives under one ("https://example.org/csr").
# Empty: links are root-relative, fine for a local preview; production needs it (the sitemap,
# robots.txt, canonical links, og:url, JSON-LD, feed ids and events.ics must be absolute).
# `csrnews build --site-url URL` / `csrnews nightly --site-url URL` or CSRNEWS_SITEURL
# override this value.
SITEURL = ""
PATH = "content"
THEME = str(_ROOT / "theme")
TIMEZONE = "Asia/Shanghai"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_CATEGORY = "Other"
USE_FOLDER_AS_CATEGORY = False
ARTICLE_PATHS = ["news"]
ARTICLE_EXCLUDES = ["pages", "top10"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
IGNORE_FILES = [".*", "*.fulltext.txt", "*.tmp"]
DELETE_OUTPUT_DIRECTORY = False
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
SUMMARY_MAX_LENGTH = 60
DEFAULT_PAGINATION = 20
PAGINATED_TEMPLATES = {
    "index": None,
    "tag": None,
    "category": None,
    "period_archives": None,
    "taxonomy": None,
}
# Pages numbered from the oldest story (csrnews.site.pagination): page 1 holds the oldest 20,
# the newest page (rule -1) is the list's own URL and holds the newest 20 to 39 stories, so a
# new story changes only that page and a page's URL keeps its stories.
PAGINATION_PATTERNS = (
    (1, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
    (-1, "{url}", "{save_as}"),
)

# URL scheme: pretty directory URLs (csrnews serve serves index.html). Stories and taxonomy
# pages (CATEGORY_URL, TAG_URL, ORG_URL, STANDARD_URL, SOURCE_URL, their *_SAVE_AS and the
# lists: CATEGORIES_URL, ...) come from the story contract, which the search index shares.
ARTICLE_URL = _urls.ARTICLE_URL
ARTICLE_SAVE_AS = _urls.ARTICLE_SAVE_AS
ARTICLE_LANG_URL = ARTICLE_URL
ARTICLE_LANG_SAVE_AS = ARTICLE_SAVE_AS
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_LANG_URL = PAGE_URL
PAGE_LANG_SAVE_AS = PAGE_SAVE_AS
globals().update(_urls.taxonomy_urls())
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
INDEX_URL = ""  # the newest page of the front list is the site's root, not /index.html
INDEX_SAVE_AS = "index.html"
ARCHIVES_URL = "archives/"
ARCHIVES_SAVE_AS = "archives/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
SEARCH_URL = "search/"
SEARCH_SAVE_AS = "search/index.html"
DIRECT_TEMPLATES = ["index", "tags", "categories", "archives", "search", "404"]
SLUG_REGEX_SUBSTITUTIONS = list(_urls.SLUG_SUBSTITUTIONS)

# Feeds: Atom and RSS site-wide and per event type; Atom per tag (org/standard/source/period
# feeds are written by csrnews.site.plugins.csr_taxonomy).
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
CATEGORY_FEED_ATOM = "feeds/type/{slug}.atom.xml"
CATEGORY_FEED_RSS = "feeds/type/{slug}.rss.xml"
TAG_FEED_ATOM = "feeds/tag/{slug}.atom.xml"
TAG_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
FEED_MAX_ITEMS = 50
RSS_FEED_SUMMARY_ONLY = True

# Only the Markdown the stories are written in: trafilatura's output (tables, fenced code)
# and the metadata header. Not "extra": abbreviations, definition lists, footnotes,
# attribute lists and Markdown-in-HTML are syntax no story uses, cost about a sixth of the
# conversion time, and attribute lists would turn a crawled "{...}" at the end of a heading
# into attributes. No codehilite either (Pelican's default; stories have no highlighted code).
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.tables": {},
        "markdown.extensions.fenced_code": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}
# Everything a template prints is escaped unless a filter marked it safe after nh3 cleaned it.
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True}

PLUGIN_PATHS: list[str] = []
PLUGINS = [
    "csrnews.site.plugins.csr_reader",
    "csrnews.site.plugins.csr_meta",
    "csrnews.site.plugins.csr_related",
    "csrnews.site.plugins.csr_taxonomy",
    "csrnews.site.plugins.csr_markup",
    "csrnews.site.plugins.csr_extras",
    "csrnews.site.plugins.csr_top10",
]
RELATED_MAX = 5
MENUITEMS = (
    ("Event types", "type/"),
    ("Organisations", "org/"),
    ("Standards", "standard/"),
    ("Top 10", "top10/"),
    ("Events", "events/"),
    ("Archives", "archives/"),
    ("Search", "search/"),
)
# Fixed in tests for a deterministic golden site; the time stamps in generated files otherwise.
CSR_BUILD_TIME = None
# The day the events page divides upcoming from past events (ISO date); None: today.
CSR_TODAY = None
# The image of a story that has none of its own (JSON-LD, og:image) and the site's logo
# (JSON-LD publisher): path in the site, width, height.
SITE_IMAGE = ("theme/images/share.png", 1200, 630)
SITE_LOGO = ("theme/images/logo.png", 512, 512)
