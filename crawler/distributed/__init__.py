"""Crawl on several machines: Scrapy workers sharing a scrapy-redis frontier, one story writer.

Optional: needs the ``distributed`` extra (scrapy-redis, redis). Only this package imports them,
and only when a command is given ``--redis``; the local crawl never does.
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'csrnews[distributed]'"


class DistributedError(RuntimeError):
    """The distributed mode cannot run (packages missing, Redis unreachable); one-line message."""


def require() -> None:
    """Raise DistributedError with an install hint when scrapy-redis or redis is missing."""
    try:
        import redis  # noqa: F401
        import scrapy_redis  # noqa: F401
    except ImportError as exc:
        raise DistributedError(
            f"the distributed crawl needs the optional packages scrapy-redis and redis "
            f"({exc.name} is missing): {INSTALL_HINT}"
        ) from None
