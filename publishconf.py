"""Production settings for the public site: pelicanconf.py with the site's absolute URL.

    csrnews build --settings publishconf.py        # or: csrnews build --site-url URL

`--site-url` and the CSRNEWS_SITEURL environment variable still win over SITEURL here.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: F403

SITEURL = "https://csr.example.org"  # the site's public URL (with its path, if any)
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
