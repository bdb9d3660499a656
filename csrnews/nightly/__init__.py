"""The unattended nightly rebuild: crawl, index, build, publish atomically, report, roll back."""

from __future__ import annotations

# Exit codes of `csrnews nightly` (documented in docs/operations.md).
EXIT_OK = 0  # every source crawled, site built, indexed and published (and the hook succeeded)
EXIT_FAILED = 1  # nothing was published: the live site and index are as they were
EXIT_USAGE = 2  # bad options or an invalid sources file (click's own usage errors are 2 too)
EXIT_PARTIAL = 3  # the site was published, but some sources failed or the crawl timed out
EXIT_HOOK_FAILED = 4  # the site was published locally, but the publish hook failed
EXIT_LOCKED = 75  # EX_TEMPFAIL: another nightly run holds the lock; try again later

EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "usage",
    EXIT_PARTIAL: "partial",
    EXIT_HOOK_FAILED: "hook-failed",
    EXIT_LOCKED: "locked",
}
