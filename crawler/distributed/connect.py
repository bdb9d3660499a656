"""One place that opens a Redis connection from a URL, with a one-line error when it cannot."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from csrnews.crawler.distributed import DistributedError, require


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = f"{parts.username}:***@" if parts.username else ":***@"
        return urlunsplit(parts._replace(netloc=user + netloc))
    return url


def check_url(url: str) -> None:
    """Refuse what is not a redis:// (or rediss://, unix://) URL, before connecting."""
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise DistributedError(f"{redacted(url)}: not a Redis URL (expected redis://HOST:PORT/DB)")


def connect(url: str) -> Any:
    """A redis-py client for `url`, checked with PING; DistributedError when Redis is away."""
    require()
    check_url(url)
    import redis

    try:
        server = redis.Redis.from_url(
            url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True
        )
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise DistributedError(f"cannot reach Redis at {redacted(url)}: {exc}") from None
    return server
