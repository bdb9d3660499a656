"""The `csrnews build` command: build the static site and, beside it, update the search index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from csrnews import console
from csrnews.options import content_option, index_option, output_option, quiet_option

if TYPE_CHECKING:
    from csrnews.site.build import SiteStats

search_shard_target_option = click.option(
    "--search-shard-target",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    envvar="CSRNEWS_SEARCH_SHARD_TARGET",
    help="Stories per static search shard at most (default 2000; fewer when the stories are "
    "long, about 6 MB of story files a shard). Pagefind's memory grows with the text of the "
    "shard it writes (about 320 MB at 2000 stories of 2.8 kB, 490 MB at 4000): a "
    "lower target takes less memory, but makes more shards, and a query in the browser "
    "fetches an index file of each shard for each of its words (more requests and bytes a "
    "query). A new target builds every shard it changes again, once; keep the same for "
    "every build and nightly of a site.",
)


@click.command("build")
@content_option
@output_option
@index_option
@click.option(
    "--site-url",
    default="",
    envvar="CSRNEWS_SITEURL",
    help="The public URL of the site, with its path if any (https://example.org/csr); "
    "overrides SITEURL of the settings file. Empty: the file's SITEURL (empty there too: "
    "root-relative links, for a local preview only).",
)
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    envvar="CSRNEWS_SETTINGS",
    help="The Pelican settings file (default: the project's pelicanconf.py; "
    "publishconf.py for production).",
)
@click.option(
    "--static-search/--no-static-search",
    default=True,
    show_default=True,
    help="Also build the static search index (Pagefind, in pagefind/ of the site), which "
    "the search page uses where /api/search does not answer (a static host).",
)
@click.option(
    "--previous",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A site built before, whose unchanged pages are reused (default: the output folder).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Pelican's cache of parsed stories (default: .pelican-cache beside the output).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Render every page and parse every story again, ignoring earlier builds.",
)
@click.option(
    "--no-index",
    is_flag=True,
    help="Build the site only; leave the search index as it is.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="CSRNEWS_BUILD_REPORT",
    help="Also write what the build did as JSON to this file, with the story files left out "
    "and why (the nightly run reads it).",
)
@search_shard_target_option
@quiet_option
def build(
    content: str,
    output: str,
    index: str,
    site_url: str,
    settings_file: str | None,
    static_search: bool,
    previous: Path | None,
    cache_dir: Path | None,
    full: bool,
    no_index: bool,
    report_path: Path | None,
    search_shard_target: int | None,
) -> None:
    """Build the site with Pelican and update the search index in a second process beside it.

    Only pages whose stories, settings or theme changed since the last build are rendered
    again; `--full` renders all of them. The site and the index change together or not at
    all: the index commits only once the new site is complete, and the new site replaces the
    old one in one step only once the index has committed; if either fails, both stay as
    they were.

    A story or page file that cannot be read or is invalid (no Title, a bad Date, not UTF-8,
    ...) is left out of the site and the index, named with its reason; the rest is built.
    """
    from csrnews.site.build import SiteBuildError, build_site

    index_note = ["search index: not updated (--no-index)"]
    reuse_from = Path(previous) if previous else Path(output)
    # A build that makes everything (--full, or no site to reuse) runs the static search and
    # then the index beside the site; a nightly runs them together (see _Companions).
    in_turn = full or not reuse_from.is_dir()
    # There, each story file is checked once for the three processes (_check_first).
    seeds = _check_first(content, _static_checks(output, cache_dir)) if in_turn else []
    companions = _Companions(
        (lambda: _start_index(content, index, [_static_checks(output, cache_dir)]))
        if not no_index
        else None,
        (
            lambda: _start_static_search(
                content, output, None if full else reuse_from, cache_dir, search_shard_target
            )
        )
        if static_search
        else None,
        in_turn=in_turn,
    )
    static = companions.static
    static_note = [""]

    def commit_index(stats: SiteStats) -> None:
        """The new site is complete: the index commits now (or the site is not swapped in)."""
        if static is not None:
            static_note[0] = _finish_static_search(static, Path(stats.staging), reuse_from)
        indexer = companions.indexer()
        if indexer is None:
            return
        console.info(f"site complete; committing the search index update in {index} ...")
        leave_out = [q.path for q in stats.quarantined]
        finished = _finish_index(indexer, index, {"commit": True, "leave_out": leave_out})
        if finished is None:
            raise SiteBuildError("the search index update failed, so the new site is not used")
        index_note[0] = finished

    console.info(f"building the site from {content} into {output} ...")
    try:
        stats = build_site(
            content,
            output,
            site_url=site_url,
            quiet=console.is_quiet(),
            previous=previous,
            cache_dir=cache_dir,
            incremental=not full,
            before_swap=commit_index,
            settings_file=settings_file,
            check_seeds=seeds,
            process_ends=True,  # the command ends after the build: no freeing at exit
        )
    except SiteBuildError as exc:
        console.error(f"site build failed, {output} and {index} left as they were: {exc}")
        indexer = companions.cancel()
        if indexer is not None and indexer.poll() is None:
            _stop_index(indexer, index)
        raise SystemExit(1) from exc
    for item in stats.quarantined:
        console.warn(f"left out of the site and the index: {item.path}: {item.reason}")
    reused = f", {stats.unchanged} unchanged pages kept" if stats.unchanged else ""
    console.info(
        f"site: {_plural(stats.articles, 'story', 'stories')}, "
        f"{_plural(stats.pages, 'page', 'pages')}, "
        f"{'files not counted' if stats.files < 0 else f'{stats.files} files'} "
        f"({stats.rendered} rendered{reused}) in {stats.seconds:.1f} s"
    )
    left_out = (
        f"; {_plural(len(stats.quarantined), 'story file', 'story files')} left out "
        "(see the warnings)"
        if stats.quarantined
        else ""
    )
    if report_path is not None:
        _write_report(report_path, stats, index_note[0])
    console.summary(
        f"Built {_plural(stats.articles, 'story', 'stories')} and "
        f"{_plural(stats.pages, 'page', 'pages')} into {output} "
        f"in {stats.seconds:.1f} s; {index_note[0]}{static_note[0]}{left_out}"
    )


class _StaticSearch:
    """The static search (csrnews.search.staticsearch) built in a child process beside Pelican."""

    def __init__(self, child: subprocess.Popen[str], scratch: Path) -> None:
        self.child = child
        self.scratch = scratch
        self._lock = threading.Lock()
        self._result: tuple[dict[str, object] | None, str] | None = None

    def wait(self) -> tuple[dict[str, object] | None, str]:
        """Its statistics (None when it failed) and what it said (read once, by any thread)."""
        with self._lock:
            if self._result is None:
                self._result = self._collect()
            return self._result

    def _collect(self) -> tuple[dict[str, object] | None, str]:
        stdout, stderr = self.child.communicate()
        if self.child.returncode != 0:
            lines = (stderr.strip() or f"exit {self.child.returncode}").splitlines()
            return None, lines[-1]
        try:
            return json.loads(stdout.strip().splitlines()[-1]), ""
        except (ValueError, IndexError):
            return None, "it printed no statistics"

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
        self.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


class _Companions:
    """The index update and the static search: the child processes beside the site build.

    ``in_turn`` (a build that makes everything): the static search starts at once and the
    index update only when the static search has ended, so that on two cores the site has
    one and its companions the other, one after the other. The index update lives until the
    site is complete (it waits for the word to commit) and the static search's Pagefind is
    the largest process of the build: one after the other, their memory is not held at the
    same time (at 20,000 stories about 170 MB less at the peak). The wall time is the longer
    of the site and the two in turn (at 20,000 stories about 65, and 45 + 31, CPU-s).
    Otherwise (a nightly: little to do in each) both start at once, at a lower priority
    (COMPANION_NICENESS): the site is the nightly's critical path (at 20,000 stories about
    8 CPU-s against their 3 together), and with three processes on two cores it would
    otherwise get two thirds of a core while they run.
    """

    def __init__(
        self,
        start_index: Callable[[], subprocess.Popen[str]] | None,
        start_static: Callable[[], _StaticSearch] | None,
        *,
        in_turn: bool,
    ) -> None:
        self._start_index = start_index
        self._lock = threading.Lock()
        self._cancelled = False
        self._indexer: subprocess.Popen[str] | None = None
        self._waiter: threading.Thread | None = None
        self._failure: Exception | None = None
        self.static = start_static() if start_static is not None else None
        if self.static is not None and not in_turn:
            yield_cpu(self.static.child.pid)
        if start_index is None:
            return
        if in_turn and self.static is not None:
            self._waiter = threading.Thread(
                target=self._index_after_static, name="index-after-static-search", daemon=True
            )
            self._waiter.start()
        else:
            self._indexer = start_index()
            if not in_turn:
                yield_cpu(self._indexer.pid)

    def _index_after_static(self) -> None:
        assert self.static is not None and self._start_index is not None
        self.static.wait()
        with self._lock:
            if not self._cancelled:
                try:
                    self._indexer = self._start_index()
                except Exception as exc:  # raised again in indexer(): never a silent skip
                    self._failure = exc

    def indexer(self) -> subprocess.Popen[str] | None:
        """The index update (once it has started: this waits for the static search first).

        Raises what starting it raised (in the waiting thread), as starting it at once would.
        """
        if self._waiter is not None:
            self._waiter.join()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        return self._indexer

    def cancel(self) -> subprocess.Popen[str] | None:
        """The site build failed: stop the static search, start no index update; the one
        already started, if any, is returned (to be called off)."""
        with self._lock:
            self._cancelled = True
        if self.static is not None:
            self.static.stop()
        return self.indexer()


COMPANION_NICENESS = 10  # how much a nightly's index and static search yield to the site


def yield_cpu(pid: int, niceness: int | None = None) -> None:
    """Lower a child's priority below this process's (by ``niceness``, COMPANION_NICENESS
    unless given; the kernel stops at 19), so the site build gets the CPU first.

    Set as soon as the child has started: what it starts later (the static search's
    Pagefind) inherits it. A system that refuses, or a child already gone, leaves it as it was.
    """
    lower = COMPANION_NICENESS if niceness is None else niceness
    try:
        os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, 0) + lower)
    except OSError:
        pass


def _check_first(content: str, folder: Path) -> list[Path]:
    """A build that makes everything: check every story file once, here, into the static
    search's cache ``folder``, before the static search and the index start beside the site
    (each process would otherwise read and check every file: 3.7 CPU-s apiece at 20,000
    stories). The static search finds its checks made; the site and the index take them
    (their seeds). The folder is made with --no-static-search too.

    Returns the folder, or nothing when it cannot be written (each process then checks the
    files itself)."""
    from csrnews.story.storycheck import find_quarantine

    try:
        folder.mkdir(parents=True, exist_ok=True)
        find_quarantine(content, cache_dir=folder)
    except OSError as exc:
        console.warn(f"story checks not shared ({exc}); each process checks the files itself")
        return []
    return [folder]


def _static_checks(output: str, cache_dir: Path | None) -> Path:
    """The static search's cache folder, its story checks among them (the default as the site
    build makes it: .pelican-cache beside the output)."""
    out = Path(output).resolve()
    cache_root = Path(cache_dir).resolve() if cache_dir else out.parent / ".pelican-cache"
    return cache_root / "static-search"


def _start_static_search(
    content: str,
    output: str,
    previous: Path | None,
    cache_dir: Path | None = None,
    shard_target: int | None = None,
) -> _StaticSearch:
    """Start the static search build in a folder beside the output (moved in at the end).

    Its story checks are cached in a folder of its own in the site's cache folder (the
    default as the site build makes it: .pelican-cache beside the output), so a nightly does
    not read and check every story file again.
    """
    out = Path(output).resolve()
    scratch = out.parent / f".{out.name}.static-search-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    argv = [sys.executable, "-m", "csrnews.search.staticsearch", content, str(scratch)]
    argv += ["--cache-dir", str(_static_checks(output, cache_dir))]
    if previous is not None:
        argv += ["--previous", str(previous)]
    if shard_target is not None:
        argv += ["--shard-target", str(shard_target)]
    console.info("building the static search (Pagefind, in a third process) ...")
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    return _StaticSearch(child, scratch)


def _finish_static_search(static: _StaticSearch, staging: Path, previous: Path) -> str:
    """Move the finished bundle into the new site; on failure keep the previous one."""
    from csrnews.search.staticsearch import BUNDLE_DIR, carry_over

    stats, problem = static.wait()
    try:
        if stats is None:
            kept = carry_over(previous, staging)
            console.warn(
                f"static search not built ({problem}); "
                + ("the previous site's is kept" if kept else "the site has none")
            )
            return "; static search: not built (see the warning)"
        target = staging / BUNDLE_DIR
        shutil.rmtree(target, ignore_errors=True)
        os.replace(static.scratch / BUNDLE_DIR, target)
    finally:
        shutil.rmtree(static.scratch, ignore_errors=True)
    waiting = [f"{stats['recent']} in the recent shard"] if stats.get("recent") else []
    if stats.get("stale"):
        waiting.append(f"{stats['stale']} stale entries hidden")
    recent = "; " + ", ".join(waiting) if waiting else ""
    return (
        f"; static search: {stats['stories']} stories in "
        f"{_plural(int(str(stats['shards'])), 'shard', 'shards')} "
        f"({stats['built']} built, {stats['reused']} kept{recent}"
        f"{_indexed(stats)})"
    )


def _indexed(stats: dict[str, Any]) -> str:
    """What the static search gave Pagefind, when it built shards a previous bundle had."""
    if not stats.get("indexed") or (not stats.get("reused") and not stats.get("folded")):
        return ""
    folded = int(stats.get("folded") or 0)
    again = f", {_plural(folded, 'shard', 'shards')} built again" if folded else ""
    return f"; {_plural(int(stats['indexed']), 'story', 'stories')} indexed{again}"


def _write_report(path: Path, stats: SiteStats, index_note: str) -> None:
    """The build's JSON report: counts, time, index note and the files left out."""
    from csrnews.nightly.status import write_json_atomic

    try:
        write_json_atomic(
            path,
            {
                "articles": stats.articles,
                "pages": stats.pages,
                "files": stats.files,
                "rendered": stats.rendered,
                "unchanged": stats.unchanged,
                "seconds": round(stats.seconds, 3),
                "index": index_note,
                "quarantined": [q.as_dict() for q in stats.quarantined],
            },
        )
    except OSError as exc:
        console.warn(f"cannot write the build report {path}: {exc}")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _start_index(
    content: str, index: str, check_seeds: Sequence[Path] = ()
) -> subprocess.Popen[str]:
    """The index update as a child process, so it runs on the other core while Pelican works.

    It waits before its commit for the word of this process (`--confirm`, on its stdin).
    ``check_seeds``: cache folders whose story checks it may use (the static search's folder:
    in a build that makes everything, the build checked every story file there before the
    index started; in a nightly, the static search's own checks of unchanged files).
    """
    console.info(f"updating the search index in {index} (in a second process) ...")
    argv = [sys.executable, "-m", "csrnews.nightly.indexstep", content, index, "--confirm"]
    for seed in check_seeds:
        argv += ["--checks-from", str(seed)]
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )


def _stop_index(child: subprocess.Popen[str], index: str) -> None:
    """After a failed site build: call the index update off before its commit.

    The site and the index go together; an index that describes stories the live site does
    not show yet would send readers to missing pages. The child has not committed (it waits
    for our word), and a stopped update leaves the index as it was.
    """
    try:
        child.communicate(json.dumps({"commit": False}) + "\n", timeout=600)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
    console.warn(f"search index update in {index} called off; the index is as it was")


def _finish_index(
    child: subprocess.Popen[str], index: str, decision: dict[str, object] | None = None
) -> str | None:
    """Let the index update commit and wait for it; its summary, or None (after saying why)."""
    try:
        stdout, stderr = child.communicate(json.dumps(decision or {"commit": True}) + "\n")
    except BrokenPipeError:  # it ended already (and failed): read what it said
        stdout, stderr = child.communicate()
    if child.returncode != 0:
        reason = (stderr.strip() or stdout.strip() or f"exit {child.returncode}").splitlines()
        console.error(f"search index update in {index} failed: {reason[-1]}")
        return None
    try:
        stats = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        console.error(f"search index update in {index} printed no statistics")
        return None
    for message in stats.get("warnings", []) or []:
        if " left out: " not in message:  # the build names the files it left out itself
            console.warn(f"search index: {message}")
    parts = [f"{stats[key]} {key}" for key in ("added", "updated", "deleted") if key in stats]
    return f"search index: {', '.join(parts) or 'updated'}"
