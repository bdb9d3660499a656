"""Run one command and write its own peak RSS and CPU time, measured from a small process.

    python bench/rusage.py USAGE_FILE -- COMMAND...

Linux starts a child's peak RSS (ru_maxrss) at the high-water mark of the process that
spawned it, so a child of a large harness would report at least the harness's own peak. This
launcher is small: the figure it writes is the command's own (and that of the processes the
command waited for). The command's output, input and exit status pass through unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys


def main(argv: list[str]) -> int:
    """Run ``argv[2:]`` (after ``--``), write its usage as JSON to ``argv[0]``, exit as it did."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: rusage.py USAGE_FILE -- COMMAND...", file=sys.stderr)
        return 2
    usage_file, command = argv[0], argv[2:]
    proc = subprocess.Popen(command)
    # The harness's timeout terminates this launcher: kill the command, as the harness did
    # before the launcher (a crawl takes SIGTERM as "finish gracefully"). Ctrl-C passes on.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: proc.kill())
    signal.signal(signal.SIGINT, lambda sig, _frame: proc.send_signal(sig))
    _, status, usage = os.wait4(proc.pid, 0)  # retried after a signal (PEP 475)
    with open(usage_file, "w", encoding="utf-8") as out:
        json.dump(
            {
                "peak_rss_kb": usage.ru_maxrss,  # Linux: kilobytes
                "cpu_s": usage.ru_utime + usage.ru_stime,
            },
            out,
        )
    if os.WIFSIGNALED(status):  # die the same way, so that the harness sees -signal as before
        signum = os.WTERMSIG(status)
        if signum != signal.SIGKILL:  # SIGKILL has no handler to reset
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
