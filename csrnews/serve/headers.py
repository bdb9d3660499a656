"""WSGI middleware: security headers on every response, gzip for text, the API's CORS policy.

The same headers are in the nginx example (deploy/nginx/); docs/operations.md explains them.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The theme loads its scripts and styles from files of its own (no inline script, no inline
# style), images may come from the site or over https (a story may show its publisher's
# picture), and nothing may frame the site. 'wasm-unsafe-eval' lets the search page's static
# search (Pagefind, search/staticsearch.py) compile its WebAssembly module, which browsers
# otherwise refuse under a script-src without 'unsafe-eval'; it allows no JavaScript eval.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; "
    "frame-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
GZIP_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/atom+xml",
    "application/rss+xml",
    "application/ld+json",
    "image/svg+xml",
)
GZIP_MIN_SIZE = 512  # bytes; smaller bodies are sent as they are
GZIP_LEVEL = 6
GZIP_CACHE_BYTES = 32 * 1024 * 1024  # compressed static files kept in memory, per process


_GZ_SUFFIX = '-gz"'


def _gz_etag(etag: str) -> str:
    """The validator of a response's gzip variant (a strong ETag names one byte sequence)."""
    return etag[:-1] + _GZ_SUFFIX if etag.endswith('"') else etag


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    drop = {n.lower() for n in names}
    return [(k, v) for k, v in headers if k.lower() not in drop]


def accepts_gzip(environ: dict[str, Any]) -> bool:
    """True when the client's Accept-Encoding allows gzip (and does not refuse it by q=0)."""
    for part in str(environ.get("HTTP_ACCEPT_ENCODING", "")).split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


class _GzipCache:
    """Compressed static files by path and ETag (the file's version), up to a byte budget."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._data:
                return
            self._data[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, old = self._data.popitem(last=False)
                self._size -= len(old)


class SecureHeaders:
    """Wraps a WSGI app: security headers on every response, gzip for text, CORS for /api/.

    ``allow_origins``: the origins (``https://other.example``) whose pages may call the
    search API from a browser, or ``("*",)`` for any; empty (the default) sends no
    Access-Control-Allow-Origin, so only the site's own pages can read the answers.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        allow_origins: Iterable[str] = (),
        gzip_min_size: int = GZIP_MIN_SIZE,
    ) -> None:
        self.app = app
        self.allow_origins = tuple(o.strip().rstrip("/") for o in allow_origins if o.strip())
        self.gzip_min_size = gzip_min_size
        self._cache = _GzipCache(GZIP_CACHE_BYTES)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # the wrapped app's attributes (service, output_dir)

    def _cors(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        if not self.allow_origins or not str(environ.get("PATH_INFO", "")).startswith("/api/"):
            return []
        if "*" in self.allow_origins:
            return [("Access-Control-Allow-Origin", "*")]
        origin = str(environ.get("HTTP_ORIGIN", "")).rstrip("/")
        if origin and origin in self.allow_origins:
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return [("Vary", "Origin")]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None  # the app returns its body; write() is not used here

        head = environ.get("REQUEST_METHOD") == "HEAD"
        inner = dict(environ)
        if head:
            inner["REQUEST_METHOD"] = "GET"  # the same headers as GET (gzip needs the body)
        wanted = str(environ.get("HTTP_IF_NONE_MATCH", ""))
        gz_validator = wanted.endswith(_GZ_SUFFIX)
        if gz_validator:  # the validator of our gzip variant: ask the app about the file's own
            inner["HTTP_IF_NONE_MATCH"] = wanted[: -len(_GZ_SUFFIX)] + '"'
        result = self.app(inner, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status: str = captured["status"]
        headers = _without(captured["headers"], *(name for name, _ in SECURITY_HEADERS))
        headers += SECURITY_HEADERS
        headers += self._cors(environ)
        ctype = (_header(headers, "Content-Type") or "").lower()
        compressible = ctype.startswith(GZIP_TYPES) and _header(headers, "Content-Encoding") is None
        etag = _header(headers, "ETag")
        if status.startswith("304") and gz_validator and etag:
            headers = [*_without(headers, "ETag"), ("ETag", _gz_etag(etag))]
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))
            if accepts_gzip(environ) and len(body) >= self.gzip_min_size:
                body = self._compress(
                    body, f"{environ.get('PATH_INFO', '')}\0{etag}" if etag else None
                )
                headers = _without(headers, "Content-Length", "ETag")
                headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
                if etag:
                    headers.append(("ETag", _gz_etag(etag)))
        start_response(status, headers)
        return [b"" if head else body]

    def _compress(self, body: bytes, key: str | None) -> bytes:
        """gzip a body; a static file's (``key``: its path and ETag) is compressed once."""
        if key:
            found = self._cache.get(key)
            if found is not None:
                return found
        packed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        if key:
            self._cache.put(key, packed)
        return packed
