"""Build the static site with Pelican in-process: our settings merged in one place, atomically."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pelican import Pelican, signals
from pelican.log import console as pelican_console
from pelican.settings import read_settings

from csrnews.site import incremental as incremental_mod
from csrnews.site import pelican_compat, sparewalk
from csrnews.site import seeding as seeding_mod
from csrnews.site import templates as templates_mod
from csrnews.site.collector import stories_long_lived
from csrnews.site.folders import build_lock_of, spare_of, staging_prefix
from csrnews.site.quarantine import BuildQuarantine
from csrnews.story import settings as defaults
from csrnews.story.atomicfile import stale_temporaries
from csrnews.story.storycheck import Quarantined, find_quarantine

logger = logging.getLogger(__name__)
_CACHE_NAME = re.compile(r"[0-9a-f]{16}")


class SiteBuildError(RuntimeError):
    """Pelican failed or logged errors; the previous output is left as it was."""


@dataclass
class SiteStats:
    """What a build made."""

    articles: int = 0
    pages: int = 0
    files: int = 0  # -1: they could not be counted
    rendered: int = 0
    unchanged: int = 0
    removed: int = 0
    incremental: bool = False
    seconds: float = 0.0
    output: str = ""
    staging: str = ""  # the new site's folder until it is swapped in (for before_swap)
    warnings: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)  # files left out, and why


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
        active = sys.exc_info()[1]
        if record.levelno >= logging.ERROR and not record.exc_info and active is not None:
            # Pelican logs "Could not process FILE" without its reason: add the exception's.
            message = f"{message}: {type(active).__name__}: {active}"
        (self.errors if record.levelno >= logging.ERROR else self.warnings).append(message)


def pelican_settings(
    content_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    site_url: str = "",
    relative_urls: bool = False,
    conf: str | os.PathLike[str] | None = None,
    extra: dict[str, Any] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """pelicanconf.py (or ``conf``) read with this build's paths and URL merged over it.

    ``site_url``, when given, replaces the settings file's SITEURL (and FEED_DOMAIN); else the
    file's SITEURL is the site's URL (empty: root-relative links, for a local preview).
    """
    override: dict[str, Any] = {
        "PATH": str(Path(content_dir).resolve()),
        "OUTPUT_PATH": str(Path(output_dir).resolve()),
        "RELATIVE_URLS": relative_urls,
        "THEME": str(defaults.THEME_DIR),
        "CACHE_PATH": str(
            Path(cache_dir).resolve()
            if cache_dir
            else Path(output_dir).resolve().parent / ".pelican-cache"
        ),
    }
    if site_url:
        override["SITEURL"] = override["FEED_DOMAIN"] = site_url.rstrip("/")
    override.update(extra or {})
    settings = read_settings(str(conf or defaults.PELICANCONF), override=override)
    settings["SITEURL"] = str(settings.get("SITEURL") or "").rstrip("/")
    if not site_url and not settings.get("FEED_DOMAIN"):
        settings["FEED_DOMAIN"] = settings["SITEURL"]
    return settings


@stories_long_lived
def build_site(
    content_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    site_url: str = "",
    relative_urls: bool = False,
    quiet: bool = False,
    extra_settings: dict[str, Any] | None = None,
    previous: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    incremental: bool = True,
    quarantine: bool = True,
    before_swap: Callable[[SiteStats], None] | None = None,
    settings_file: str | os.PathLike[str] | None = None,
    check_seeds: Sequence[str | os.PathLike[str]] = (),
    process_ends: bool = False,
) -> SiteStats:
    """Build into a temporary sibling folder, then swap it in place of ``output_dir``.

    ``process_ends``: the process exits after the build (the command line), so what the build
    made is left out of the cyclic collector's sight (csrnews.site.collector) rather than
    walked and freed at exit; a long-lived caller (the desk, tests) keeps the default.

    With ``quarantine`` (the default) story and page files that fail csrnews.story.storycheck, or
    that Pelican cannot read, are left out and listed in ``stats.quarantined``; the rest is
    built; ``check_seeds``: folders with checks of the same content another process made
    (csrnews.story.storycheck.find_quarantine's ``seeds``). ``before_swap(stats)`` runs when
    the new site is complete, before it replaces the old one: if it raises, the old site stays
    (csrnews build commits the index there).

    With ``incremental`` (the default) Pelican's reader cache is on (in ``cache_dir``, by
    default ``.pelican-cache`` beside the output) and pages whose inputs did not change since
    the build of ``previous`` (by default ``output_dir`` itself) are linked, not rendered
    (csrnews.site.incremental). Raises SiteBuildError when Pelican raises or logs an error (a
    story it cannot read, a template error); ``output_dir`` then keeps the last good site.
    """
    started = time.monotonic()
    content, output = Path(content_dir), Path(output_dir).resolve()
    if not content.is_dir():
        raise SiteBuildError(f"content folder not found: {content}")
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = _BuildLock(output)  # held until the staging folder is swapped in or removed
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(output), dir=output.parent))
    ready = False
    stats = SiteStats(output=str(output))

    def count_articles(generator: Any) -> None:
        stats.articles = len(generator.articles) + len(generator.translations)

    def count_pages(generator: Any) -> None:
        stats.pages = len(generator.pages) + len(generator.translations)

    recorder = _Recorder()
    guard = BuildQuarantine(content, recorder.errors)
    pelican_logger = logging.getLogger("pelican")
    plugin_logger = logging.getLogger("csrnews.site.plugins")
    pelican_logger.addHandler(recorder)
    plugin_logger.addHandler(recorder)
    quiet_filter = _QuietFeedWarning()
    settings_logger = logging.getLogger("pelican.settings")
    settings_logger.addFilter(quiet_filter)
    was_quiet, pelican_console.quiet = pelican_console.quiet, True  # we print our own summary
    signals.article_generator_finalized.connect(count_articles)
    signals.page_generator_finalized.connect(count_pages)
    writer_hook = None
    seeding: _Seeding | None = None
    try:
        conf = pelican_settings(
            content,
            staging,
            site_url=site_url,
            relative_urls=relative_urls,
            extra=extra_settings,
            cache_dir=cache_dir,
            conf=settings_file,
        )
        previous_site = Path(previous) if previous else output
        cache_root = Path(conf["CACHE_PATH"])  # the module keys' file (ModuleKeys)
        plan, seeding = _plan(conf, previous_site, staging, output, reuse=incremental)
        if lock.alone:  # and the reader cache's folder in it (_plan chose it)
            for folder in (cache_root, Path(conf["CACHE_PATH"])):
                _remove_stale_temporaries(folder)

        def writer_hook(_pelican: Any) -> type:
            # Pelican asks for its writer once every story is read: pages are written next
            seeding.wait()
            return incremental_mod.make_writer_class(plan)

        signals.get_writer.connect(writer_hook)
        signals.article_generator_pretaxonomy.connect(_reattach_cached)
        signals.article_generator_init.connect(incremental_mod.save_cache_when_changed)
        signals.page_generator_init.connect(incremental_mod.save_cache_when_changed)
        signals.generator_init.connect(templates_mod.speed_up)
        signals.generator_init.connect(pelican_compat.share_file_stamps)
        if quarantine:
            checked = find_quarantine(content, cache_dir=conf["CACHE_PATH"], seeds=check_seeds)
            guard.leave_out(checked)
            guard.connect()
        with pelican_compat.linear_translations(), pelican_compat.quick_dates_and_paths():
            Pelican(conf).run()
        if recorder.errors:
            raise SiteBuildError("; ".join(recorder.errors[:5]))
        seeding.wait()
        counts = incremental_mod.finish(plan, staging)
        stats.rendered, stats.unchanged = counts.rendered, counts.unchanged
        stats.removed, stats.incremental = counts.removed, counts.incremental
        stats.quarantined = sorted(guard.found, key=lambda q: q.path)
        stats.warnings = recorder.warnings
        stats.staging = str(staging)
        if before_swap is not None:
            before_swap(stats)
        ready = True
    except SiteBuildError:
        if seeding is not None:
            seeding.settle()  # its thread writes into staging
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except Exception as exc:
        if seeding is not None:
            seeding.settle()
        shutil.rmtree(staging, ignore_errors=True)
        raise SiteBuildError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        pelican_compat.forget_rendered_content()  # it would hold the whole site past the build
        templates_mod.forget()
        guard.disconnect()
        if writer_hook is not None:
            signals.get_writer.disconnect(writer_hook)
        signals.article_generator_pretaxonomy.disconnect(_reattach_cached)
        signals.article_generator_init.disconnect(incremental_mod.save_cache_when_changed)
        signals.page_generator_init.disconnect(incremental_mod.save_cache_when_changed)
        signals.generator_init.disconnect(templates_mod.speed_up)
        signals.generator_init.disconnect(pelican_compat.share_file_stamps)
        pelican_logger.removeHandler(recorder)
        plugin_logger.removeHandler(recorder)
        settings_logger.removeFilter(quiet_filter)
        pelican_console.quiet = was_quiet
        signals.article_generator_finalized.disconnect(count_articles)
        signals.page_generator_finalized.disconnect(count_pages)
        if not ready:
            lock.release()
    try:
        _swap_in(staging, output)
    finally:
        lock.release()
    try:  # read from the disk, 8 folders at once; the new site is live whatever it finds
        stats.files = sparewalk.count_files(str(output))
    except OSError as exc:
        stats.files = -1  # not counted
        logger.warning("the site's files could not be counted: %s", exc)
    if not quiet:
        for message in recorder.warnings[:20]:
            logger.warning("pelican: %s", message)
    stats.seconds = time.monotonic() - started
    return stats


def _reattach_cached(generator: Any) -> None:
    """Stories from Pelican's generator cache carry the context of the build that cached them.

    Pelican reads links to other stories and the local site URL from a story's context; give
    every story this build's context and settings before anything is rendered.
    """
    for name in (
        "articles",
        "translations",
        "hidden_articles",
        "hidden_translations",
        "drafts",
        "drafts_translations",
    ):
        for article in getattr(generator, name, []) or []:
            pelican_compat.set_context(article, generator.context)
            article.settings = generator.settings


def _plan(
    conf: dict[str, Any], previous: Path, staging: Path, output: Path, *, reuse: bool
) -> tuple[incremental_mod.Plan, _Seeding]:
    """Turn the reader cache on and start seeding staging with the previous build's files.

    Without ``reuse`` (a full build) every story is parsed and every page rendered again, and
    the cache and the manifest are written afresh for the next build.
    """
    cache_root = Path(conf["CACHE_PATH"])
    resolved = cache_root.resolve()
    for site in (previous.resolve(), output.resolve()):
        if resolved == site or site in resolved.parents:
            raise SiteBuildError(f"the cache folder {cache_root} is inside the site {site}")
    modules = incremental_mod.ModuleKeys(cache_root / incremental_mod.MODULE_KEYS)
    fingerprint = incremental_mod.build_fingerprint(conf, modules=modules)
    reader_key = incremental_mod.build_fingerprint(conf, theme=False, modules=modules)[:16]
    modules.save()
    conf.update(
        CACHE_CONTENT=True,
        LOAD_CONTENT_CACHE=reuse,
        CONTENT_CACHING_LAYER="generator",
        CHECK_MODIFIED_METHOD="mtime",  # a stat, not a read and hash, per story
        GZIP_CACHE=False,
        # a cache per build setup: settings, theme or code changes start a fresh one
        CACHE_PATH=str(cache_root / reader_key),
    )
    if cache_root.is_dir():
        for old in cache_root.iterdir():
            # only caches of other build setups (named like reader_key), never other folders
            if old.is_dir() and old.name != reader_key and _CACHE_NAME.fullmatch(old.name):
                shutil.rmtree(old, ignore_errors=True)
        for cached in (cache_root / reader_key).glob("*"):
            if cached.is_file() and cached.stat().st_size == 0:
                cached.unlink()  # a killed build's empty cache file: Pelican fails on EOFError
    keys = seeding_mod.read_manifest(previous, fingerprint) if reuse and previous.is_dir() else {}
    plan = incremental_mod.Plan(fingerprint, keys, set())
    return plan, _Seeding(plan, previous, staging, output)


class _Seeding:
    """The staging folder seeded with the previous build's files, in a thread of its own.

    Pelican reads every story before it writes a page; the seeding (the spare's walk and
    its links, csrnews.site.seeding.reseed, or links to every file of the previous site)
    needs only the file system, and where the page cache no longer holds the sites it spends
    most of its time waiting for the disk. It runs beside the reading; ``wait`` (before the
    first page is written) gives the plan its seeded names.
    """

    def __init__(
        self, plan: incremental_mod.Plan, previous: Path, staging: Path, output: Path
    ) -> None:
        self.plan = plan
        self._result: set[str] | BaseException | None = None
        self._thread: threading.Thread | None = None
        if plan.previous:
            self._thread = threading.Thread(
                target=self._run, args=(previous, staging, output), name="csrnews-seed"
            )
            self._thread.start()

    def _run(self, previous: Path, staging: Path, output: Path) -> None:
        try:
            plan = self.plan
            self._result = seeding_mod.seed_in_child(
                plan.previous, plan.fingerprint, previous, staging, output
            )
        except BaseException as exc:  # given to the build's own thread by wait()
            self._result = exc

    def wait(self) -> None:
        """Block until the staging folder is seeded; raise what the seeding raised."""
        if self._thread is None:
            return
        self._thread.join()
        self._thread = None
        if isinstance(self._result, BaseException):
            raise self._result
        self.plan.seeded = self._result or set()

    def settle(self) -> None:
        """Wait, ignoring a failure (the build failed already; its staging goes)."""
        with contextlib.suppress(Exception):
            self.wait()


def _swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` with ``staging`` with renames; the old site becomes the spare.

    The spare (``spare_of(output)``) replaces the old site's ``rm -rf`` and the next build's
    links to the files it shares with the new site: that build takes it as its staging folder
    and unlinks and links only what changed (csrnews.site.seeding.reseed). A spare that
    was not used (a full build, another ``previous``) is removed in the background.
    """
    staging.chmod(0o755)
    spare = spare_of(output)
    if spare.exists() or spare.is_symlink():
        seeding_mod.discard(spare, output)
    if output.exists():
        os.replace(output, spare)
    os.replace(staging, output)


class _BuildLock:
    """A build's shared flock on ``build_lock_of(output)``, held while its staging folder exists.

    The kernel releases the lock of a build that is killed, even by SIGKILL. A build that gets
    the lock exclusively (``alone``: no other build of ``output`` runs) first removes the
    staging folders and old sites beside the output, which only killed or finished builds can
    have left, then holds it shared like the others; while another build runs, it leaves them
    all alone (an old-site folder may be the one it is moving files into).
    """

    def __init__(self, output: Path) -> None:
        self.alone = False
        self._fd: int | None = os.open(build_lock_of(output), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another build of this output runs: a staging folder may be its own
            else:
                self.alone = True
                _remove_killed_staging(output)
                _remove_leftovers(output)
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.release()


def _remove_killed_staging(output: Path) -> None:
    """The staging folders of killed builds of ``output``: renamed away and removed (detached)."""
    for folder in sorted(output.parent.glob(staging_prefix(output) + "*")):
        if folder.is_dir() and not folder.is_symlink():
            logger.warning("removing %s, the staging folder of a build that was killed", folder)
            try:
                seeding_mod.discard(folder, output)
            except OSError as exc:  # not this build's to fail for
                logger.warning("could not remove %s: %s", folder, exc)


def _remove_leftovers(output: Path) -> None:
    """Old sites a crashed or killed build left beside the output: remove them (detached)."""
    for leftover in output.parent.glob(f".{output.name}.old-*"):
        if leftover.is_dir():
            seeding_mod.remove_later(leftover)


STALE_TEMPORARY_AGE = 3600.0  # seconds: older temporary files in the cache are no writer's


def _remove_stale_temporaries(cache: Path) -> None:
    """Temporary files a killed build left in a cache folder (a reader cache's: tens of MB;
    the module keys' file's, in the folder above it)."""
    for path in stale_temporaries(cache, STALE_TEMPORARY_AGE):
        logger.warning("removing %s, left by a build that was killed while writing it", path)
        with contextlib.suppress(OSError):
            path.unlink()
