"""Build the static site with Pelican in-process: our settings merged in one place, atomically."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csrnews import settings as defaults

logger = logging.getLogger(__name__)


class SiteBuildError(RuntimeError):
    """Pelican failed or logged errors; the previous output is left as it was."""


@dataclass
class SiteStats:
    """What a build made."""

    articles: int = 0
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    output: str = ""
    warnings: list[str] = field(default_factory=list)


class _QuietFeedWarning(logging.Filter):
    """Root-relative local builds are intended; Pelican's warning about them is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Feeds generated without SITEURL")


class _Recorder(logging.Handler):
    """Collects warnings and errors Pelican logs during a build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        (self.errors if record.levelno >= logging.ERROR else self.warnings).append(message)


def pelican_settings(
    content_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    site_url: str = "",
    relative_urls: bool = False,
    conf: str | os.PathLike[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """pelicanconf.py read with this build's paths and URL merged over it."""
    from pelican.settings import read_settings

    override: dict[str, Any] = {
        "PATH": str(Path(content_dir).resolve()),
        "OUTPUT_PATH": str(Path(output_dir).resolve()),
        "SITEURL": site_url.rstrip("/"),
        "FEED_DOMAIN": site_url.rstrip("/"),
        "RELATIVE_URLS": relative_urls,
        "THEME": str(defaults.THEME_DIR),
        "CACHE_PATH": str(Path(output_dir).resolve().parent / ".pelican-cache"),
    }
    override.update(extra or {})
    return read_settings(str(conf or defaults.PELICANCONF), override=override)


def build_site(
    content_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    site_url: str = "",
    relative_urls: bool = False,
    quiet: bool = False,
    extra_settings: dict[str, Any] | None = None,
) -> SiteStats:
    """Build into a temporary sibling folder, then swap it in place of ``output_dir``.

    Raises SiteBuildError when Pelican raises or logs an error (a story it cannot read, a
    template error); ``output_dir`` then keeps the last good site.
    """
    from pelican import Pelican, signals
    from pelican.log import console as pelican_console

    started = time.monotonic()
    content, output = Path(content_dir), Path(output_dir).resolve()
    if not content.is_dir():
        raise SiteBuildError(f"content folder not found: {content}")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.building-", dir=output.parent))
    stats = SiteStats(output=str(output))

    def count_articles(generator: Any) -> None:
        stats.articles = len(generator.articles) + len(generator.translations)

    def count_pages(generator: Any) -> None:
        stats.pages = len(generator.pages) + len(generator.translations)

    recorder = _Recorder()
    pelican_logger = logging.getLogger("pelican")
    plugin_logger = logging.getLogger("plugins")
    pelican_logger.addHandler(recorder)
    plugin_logger.addHandler(recorder)
    quiet_filter = _QuietFeedWarning()
    settings_logger = logging.getLogger("pelican.settings")
    settings_logger.addFilter(quiet_filter)
    was_quiet, pelican_console.quiet = pelican_console.quiet, True  # we print our own summary
    signals.article_generator_finalized.connect(count_articles)
    signals.page_generator_finalized.connect(count_pages)
    try:
        conf = pelican_settings(
            content, staging, site_url=site_url, relative_urls=relative_urls, extra=extra_settings
        )
        Pelican(conf).run()
        if recorder.errors:
            raise SiteBuildError("; ".join(recorder.errors[:5]))
    except SiteBuildError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SiteBuildError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        pelican_logger.removeHandler(recorder)
        plugin_logger.removeHandler(recorder)
        settings_logger.removeFilter(quiet_filter)
        pelican_console.quiet = was_quiet
        signals.article_generator_finalized.disconnect(count_articles)
        signals.page_generator_finalized.disconnect(count_pages)
    _swap_in(staging, output)
    stats.files = sum(len(files) for _, _, files in os.walk(output))
    stats.warnings = recorder.warnings
    if not quiet:
        for message in recorder.warnings[:20]:
            logger.warning("pelican: %s", message)
    stats.seconds = time.monotonic() - started
    return stats


def _swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` with ``staging`` with two renames (the old site removed after)."""
    staging.chmod(0o755)
    old = output.with_name(f".{output.name}.old-{os.getpid()}")
    if output.exists():
        os.replace(output, old)
    os.replace(staging, output)
    shutil.rmtree(old, ignore_errors=True)
