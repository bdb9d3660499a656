"""One WSGI app: the built static site plus `GET /api/search`, for gunicorn, uWSGI, waitress.

    gunicorn 'csrnews.serve.wsgi:app_from_env()'   # with CSRNEWS_OUTPUT and CSRNEWS_INDEX set

Both folders are resolved on every request, so a nightly build that swaps a symlink (or
replaces the index) is picked up without a restart.
"""

from __future__ import annotations

import email.utils
import json
import logging
import mimetypes
import os
import posixpath
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from csrnews.search.limits import BudgetExceeded
from csrnews.search.query import (
    PER_PAGE,
    IndexMissingError,
    QueryError,
    SearchRequest,
    SearchService,
    service_options,
)
from csrnews.serve.headers import SecureHeaders
from csrnews.story import schema, settings

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
MAX_PER_PAGE = 50
mimetypes.add_type("text/calendar", ".ics")
mimetypes.add_type("application/atom+xml", ".atom")


def _json(
    start_response: StartResponse,
    status: str,
    payload: dict[str, Any],
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *(extra or []),
        ],
    )
    return [body]


def parse_search_params(query_string: str) -> SearchRequest:
    """Turn `/api/search` parameters into a SearchRequest; raises QueryError when malformed."""
    try:
        params = parse_qs(
            query_string,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=50,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise QueryError(f"malformed parameters: {exc}") from exc
    filter_names = schema.filters()
    known = {"q", "page", "per_page", "sort", "from", "to", *filter_names}
    unknown = sorted(set(params) - known)
    if unknown:
        raise QueryError(f"unknown parameter(s): {', '.join(unknown)}")

    def one(name: str, default: str = "") -> str:
        values = params.get(name, [default])
        if len(values) > 1:
            raise QueryError(f"parameter {name!r} given more than once")
        return values[0]

    def number(name: str, default: int, high: int) -> int:
        raw = one(name, str(default)) or str(default)
        if not raw.isdigit() or not 1 <= int(raw) <= high:
            raise QueryError(f"{name} must be a whole number from 1 to {high}")
        return int(raw)

    filters = {name: [v for v in params[name] if v] for name in filter_names if name in params}
    return SearchRequest(
        q=one("q"),
        filters={k: v for k, v in filters.items() if v},
        page=number("page", 1, 1000),
        per_page=number("per_page", PER_PAGE, MAX_PER_PAGE),
        sort=one("sort", "relevance") or "relevance",
        date_from=one("from"),
        date_to=one("to"),
    )


class SiteApp:
    """Serves files from the output folder and answers /api/search from the index folder."""

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        index_dir: str | os.PathLike[str],
        search_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.service = SearchService(index_dir, **(search_options or {}))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.rstrip("/") == "/api/search":
            if method not in ("GET", "HEAD"):
                return _json(
                    start_response, "405 Method Not Allowed", {"error": "use GET for /api/search"}
                )
            return self._search(environ, start_response)
        if method not in ("GET", "HEAD"):
            start_response(
                "405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")]
            )
            return [b"method not allowed\n"]
        return self._static(path, environ, start_response, head=method == "HEAD")

    def _search(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            request = parse_search_params(environ.get("QUERY_STRING", ""))
            answer = self.service.search(request)
        except QueryError as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
        except IndexMissingError as exc:
            return _json(start_response, "503 Service Unavailable", {"error": str(exc)})
        except BudgetExceeded as exc:
            return _json(
                start_response,
                "503 Service Unavailable",
                {"error": str(exc)},
                [("Retry-After", str(exc.retry_after))],
            )
        except Exception:  # a query must never take the service down; log and answer 400
            logger.exception("search failed for %r", environ.get("QUERY_STRING", ""))
            return _json(
                start_response, "400 Bad Request", {"error": "this query could not be answered"}
            )
        return _json(start_response, "200 OK", answer)

    def _resolve(self, url_path: str) -> Path | None:
        root = Path(os.path.realpath(self.output_dir))
        clean = posixpath.normpath(unquote(url_path, errors="strict"))
        parts = [p for p in clean.split("/") if p and p not in (".", "..")]
        if any(p.startswith(".") for p in parts):
            return None  # the build's bookkeeping (.csrnews-manifest.json), leftovers: not served
        candidate = root.joinpath(*parts)
        if candidate.is_dir():
            candidate = candidate / "index.html"
        try:
            real = Path(os.path.realpath(candidate))
            real.relative_to(root)
        except (ValueError, OSError):
            return None
        return real if real.is_file() else None

    def _static(
        self, path: str, environ: dict[str, Any], start_response: StartResponse, head: bool
    ) -> list[bytes]:
        try:
            target = self._resolve(path)
        except UnicodeDecodeError:
            target = None
        if (
            target is not None
            and target.name == "index.html"
            and not path.endswith("/")
            and not path.endswith("index.html")
        ):
            start_response(
                "301 Moved Permanently", [("Location", path + "/"), ("Content-Length", "0")]
            )
            return [b""]
        status = "200 OK"
        if target is None:
            status = "404 Not Found"
            not_found = Path(os.path.realpath(self.output_dir)) / "404.html"
            if not not_found.is_file():
                start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
                return [b"not found\n"]
            target = not_found
        stat = target.stat()
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if status.startswith("200") and environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", [("ETag", etag)])
            return [b""]
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in (
            "application/javascript",
            "application/json",
            "application/xml",
            "application/atom+xml",
            "application/rss+xml",
            "image/svg+xml",
        ):
            ctype += "; charset=utf-8"
        body = b"" if head else target.read_bytes()
        start_response(
            status,
            [
                ("Content-Type", ctype),
                ("Content-Length", str(stat.st_size)),
                ("Last-Modified", last_modified),
                ("ETag", etag),
                ("Cache-Control", "public, max-age=300"),
            ],
        )
        return [body]


def allowed_origins_from_env(env: Mapping[str, str]) -> list[str]:
    """CSRNEWS_API_ALLOW_ORIGIN: origins (or ``*``) allowed to read /api/search, comma-separated."""
    raw = env.get("CSRNEWS_API_ALLOW_ORIGIN", "")
    return [part.strip() for part in raw.replace(" ", ",").split(",") if part.strip()]


def make_app(
    output_dir: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    allow_origins: Iterable[str] = (),
    search_options: Mapping[str, Any] | None = None,
) -> SecureHeaders:
    """The WSGI app for a site folder and an index folder, with security headers and gzip.

    ``allow_origins`` lists the other sites whose pages may read /api/search answers in a
    browser (none by default); ``search_options`` are SearchService's (``service_options``).
    """
    return SecureHeaders(
        SiteApp(output_dir, index_dir, search_options), allow_origins=list(allow_origins)
    )


def app_from_env(environ: Mapping[str, str] | None = None) -> SecureHeaders:
    """The WSGI app configured by the environment, for gunicorn and uWSGI (an entry point).

    CSRNEWS_OUTPUT and CSRNEWS_INDEX name the folders; CSRNEWS_API_ALLOW_ORIGIN and the
    CSRNEWS_SEARCH_* settings are read here too, as `csrnews serve` reads them.
    """
    env = os.environ if environ is None else environ
    return make_app(
        env.get("CSRNEWS_OUTPUT", settings.OUTPUT_DIR),
        env.get("CSRNEWS_INDEX", settings.INDEX_DIR),
        allow_origins=allowed_origins_from_env(env),
        search_options=service_options(env),
    )
