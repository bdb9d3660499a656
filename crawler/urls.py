"""URL forms: one story URL in any form (tracking, http/https, slash, fragment) is one key."""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from csrnews.crawler import settings


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in settings.TRACKING_PARAMS or low.startswith(settings.TRACKING_PREFIXES)


def clean_url(url: str) -> str:
    """The URL to store: no fragment, no tracking parameters, lower-case host, default port gone."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    path = parts.path or "/"
    if path not in ("/", "") and "//" in path:
        path = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def url_key(url: str) -> str:
    """The identity of a story URL: clean_url without scheme, 'www.', end slash or index page."""
    parts = urlsplit(clean_url(url))
    host = parts.netloc.removeprefix("www.")
    path = parts.path
    for index in ("/index.html", "/index.htm", "/index.php"):
        if path.endswith(index):
            path = path[: -len(index) + 1]
    path = path.rstrip("/") or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{host}{path}" + (f"?{query}" if query else "")
