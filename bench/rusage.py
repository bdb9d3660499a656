"""Run one command and write its peak memory and CPU time, measured from a small process.

    python bench/rusage.py USAGE_FILE -- COMMAND...

Linux starts a child's peak RSS (ru_maxrss) at the high-water mark of the process that
spawned it, so a child of a large harness would report at least the harness's own peak. This
launcher is small: the figures it writes are the command's own. CPU time (user + system) is
the command's and that of every process it waited for. ``peak_rss_kb`` is the largest peak of
any one of them; ``peak_rss_sum_kb`` adds up the peaks of every process of the command's
tree (each one's VmHWM, read from /proc every 50 ms while it runs), which is what the
machine must hold when they peak together: `csrnews build` runs the site and the index in two
processes side by side. The command's output, input and exit status pass through unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

POLL_SECONDS = 0.05


def _parents() -> dict[int, tuple[int, str]]:
    """Every process's parent and start time (pids are reused: the start time tells apart)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[1]), fields[19])  # ppid, starttime
    return found


def process_tree(root: int) -> list[int]:
    """``root`` and every process under it, now."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _start) in _parents().items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU time used so far by ``root`` and every process under it (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreePeaks(threading.Thread):
    """Polls the peak resident set (VmHWM) of every process under ``root`` until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks: dict[tuple[int, str], int] = {}
        self.stopped = threading.Event()

    def poll(self) -> None:
        parents = _parents()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _start) in parents.items():
            children.setdefault(ppid, []).append(pid)
        todo = [self.root]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            if pid in parents:
                key = (pid, parents[pid][1])
                self.peaks[key] = max(self.peaks.get(key, 0), _hwm_kb(pid))

    def run(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            self.poll()

    def total_kb(self) -> int:
        return sum(self.peaks.values())


def main(argv: list[str]) -> int:
    """Run ``argv[2:]`` (after ``--``), write its usage as JSON to ``argv[0]``, exit as it did."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: rusage.py USAGE_FILE -- COMMAND...", file=sys.stderr)
        return 2
    usage_file, command = argv[0], argv[2:]
    proc = subprocess.Popen(command)
    tree = TreePeaks(proc.pid)
    if os.path.isdir("/proc"):
        tree.start()
    # The harness's timeout terminates this launcher: kill the command, as the harness did
    # before the launcher (a crawl takes SIGTERM as "finish gracefully"). Ctrl-C passes on.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: proc.kill())
    signal.signal(signal.SIGINT, lambda sig, _frame: proc.send_signal(sig))
    _, status, usage = os.wait4(proc.pid, 0)  # retried after a signal (PEP 475)
    tree.stopped.set()
    with open(usage_file, "w", encoding="utf-8") as out:
        json.dump(
            {
                "peak_rss_kb": usage.ru_maxrss,  # Linux: kilobytes
                # the tree's peaks summed; at least the largest one (a process too short to poll)
                "peak_rss_sum_kb": max(tree.total_kb(), usage.ru_maxrss),
                "processes": len(tree.peaks),
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
