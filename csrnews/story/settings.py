"""Default settings in one place (UPPERCASE); the CLI merges options and environment over them."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # csrnews/
_CHECKOUT = PACKAGE_DIR.parent
# The project folder: pelicanconf.py, theme/, content/pages/, sources.yaml. A checkout (and an
# editable install) has them beside csrnews/; a wheel ships them in csrnews/project/.
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "pelicanconf.py").is_file() else PACKAGE_DIR / "project"

SOURCES_FILE = "sources.yaml"
CONTENT_DIR = "content"
OUTPUT_DIR = "output"
INDEX_DIR = "index"
STATE_DIR = "var"  # crawl state: HTTP validators, seen URLs, crawl journal

NEWS_SUBDIR = "news"
TOP10_SUBDIR = "top10"
PAGES_SUBDIR = "pages"

SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8000

USER_AGENT = "csrnews/0.1 (+https://github.com/csrnews/csrnews)"

DEMO_DIR = PACKAGE_DIR / "demo"
# The enrichment data files (crawler/data/ of a checkout, csrnews/crawler/data/ installed): the
# crawler tags stories with them, the site names organisations and places by them.
ENRICHMENT_DATA_DIR = (
    _CHECKOUT / "crawler" / "data"
    if (_CHECKOUT / "crawler" / "data").is_dir()
    else PACKAGE_DIR / "crawler" / "data"
)
THEME_DIR = PROJECT_ROOT / "theme"
PELICANCONF = PROJECT_ROOT / "pelicanconf.py"
