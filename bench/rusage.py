"""Run one command and write its peak memory and CPU time, measured from a small process.

    python bench/rusage.py USAGE_FILE -- COMMAND...

Linux starts a child's peak RSS (ru_maxrss) at the high-water mark of the process that
spawned it, so a child of a large harness would report at least the harness's own peak. This
launcher is small: the figures it writes are the command's own.

Every process the command starts counts, however deep (`csrnews build` starts the index and
the static search, which starts the pagefind binary): the launcher is a child subreaper, so a
process whose parent ended without waiting for it is handed to the launcher, which waits for
it too. ``cpu_s`` (user + system) is then every process of the tree: the launcher's
RUSAGE_CHILDREN after the last of them ended, which holds each process its children waited
for and each the launcher waited for.

Memory: the launcher reads every process's high-water mark (VmHWM in /proc) every 50 ms
while the tree runs. ``peak_rss_sum_kb`` is the most memory the tree's processes held at one
time: at each reading, the peaks of the processes alive then, added up (an upper bound, since
each peak need not fall at that moment); processes that never ran at the same time, such as
the static search's pagefind binaries (one per shard, one after the other), are not added
together. ``peak_rss_all_kb`` adds up the peak of every process the tree ever had, and
``peak_rss_kb`` is the largest single one (wait4's ru_maxrss).

``parts`` splits the tree by what each process runs (``python -m MODULE``: the module; else
the program's name): its own CPU time (user + system, read from /proc at the last reading
before it ended: up to 50 ms short), its largest peak and how many processes ran it.
``unseen_cpu_s`` is the CPU time of the tree that no reading saw (processes shorter than
50 ms, and the last moments of each).

The command's output, input and exit status pass through unchanged.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time

POLL_SECONDS = 0.05
STRAGGLER_SECONDS = 300.0  # how long to wait for processes that outlive the command
_PR_SET_CHILD_SUBREAPER = 36


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _parents() -> dict[int, tuple[int, str]]:
    """Every process's parent and start time (pids are reused: the start time tells apart)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            found[int(entry.name)] = (int(fields[1]), fields[19])  # ppid, starttime
    return found


def _descendants(root: int, parents: dict[int, tuple[int, str]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _start) in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, now."""
    return [child for child, (ppid, _start) in _parents().items() if ppid == pid]


def process_tree(root: int) -> list[int]:
    """``root`` and every process under it, now."""
    return _descendants(root, _parents())


def _own_cpu_seconds(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU time used so far by ``root`` and every process under it (from /proc)."""
    return sum(_own_cpu_seconds(pid) or 0.0 for pid in process_tree(root))


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def label_of(argv: list[str]) -> str:
    """What a process runs: the module of ``python -m MODULE``, else the program's name."""
    if not argv:
        return "?"
    for i, part in enumerate(argv[1:-1], start=1):
        if part == "-m":
            return argv[i + 1]
    return os.path.basename(argv[0])


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


class TreePeaks(threading.Thread):
    """Polls every process under ``root`` until stopped: peaks, labels, CPU time so far."""

    def __init__(self, root: int, *, include_root: bool = True) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.include_root = include_root
        self.peaks: dict[tuple[int, str], int] = {}
        self.labels: dict[tuple[int, str], str] = {}
        self.cpu: dict[tuple[int, str], float] = {}
        self.max_alive_kb = 0  # the most, at one reading, of the peaks of the processes alive
        self.stopped = threading.Event()

    def poll(self) -> None:
        parents = _parents()
        alive = 0
        for pid in _descendants(self.root, parents):
            if pid not in parents or (pid == self.root and not self.include_root):
                continue
            key = (pid, parents[pid][1])
            argv = _cmdline(pid)
            label = label_of(argv) if argv else self.labels.get(key, "?")
            if self.labels.get(key, label) != label:
                # a forked child that exec'd its own program: its peak starts again (the
                # copy of its parent it was until then shared its parent's pages)
                self.peaks.pop(key, None)
            self.labels[key] = label
            peak = max(self.peaks.get(key, 0), _hwm_kb(pid))
            self.peaks[key] = peak
            alive += peak
            cpu = _own_cpu_seconds(pid)
            if cpu is not None:
                self.cpu[key] = cpu
        self.max_alive_kb = max(self.max_alive_kb, alive)

    def run(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            self.poll()

    def total_kb(self) -> int:
        """The peaks of every process seen, added up (whether or not they ran together)."""
        return sum(self.peaks.values())

    def parts(self) -> dict[str, dict[str, float | int]]:
        """Own CPU time, largest peak and number of processes, by what each process runs."""
        out: dict[str, dict[str, float | int]] = {}
        for key, label in self.labels.items():
            part = out.setdefault(label, {"cpu_s": 0.0, "peak_rss_kb": 0, "processes": 0})
            part["cpu_s"] = round(float(part["cpu_s"]) + self.cpu.get(key, 0.0), 2)
            part["peak_rss_kb"] = max(int(part["peak_rss_kb"]), self.peaks.get(key, 0))
            part["processes"] = int(part["processes"]) + 1
        return out


def _become_subreaper() -> bool:
    """Orphans of the command become the launcher's children (Linux), so it can wait for them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_stragglers(deadline: float) -> int:
    """Wait for every process left under the launcher (orphans handed to it); how many."""
    reaped = 0
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid:
            reaped += 1
            continue
        if time.monotonic() > deadline:
            return reaped
        time.sleep(POLL_SECONDS)


def _unseen(cpu: float, parts: dict[str, dict[str, float | int]]) -> float:
    return round(max(0.0, cpu - sum(float(part["cpu_s"]) for part in parts.values())), 2)


def main(argv: list[str]) -> int:
    """Run ``argv[2:]`` (after ``--``), write its usage as JSON to ``argv[0]``, exit as it did."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: rusage.py USAGE_FILE -- COMMAND...", file=sys.stderr)
        return 2
    usage_file, command = argv[0], argv[2:]
    subreaper = _become_subreaper()
    started = time.monotonic()
    proc = subprocess.Popen(command)
    # The launcher's own tree: orphans handed to it stay in view.
    tree = TreePeaks(os.getpid(), include_root=False)
    if os.path.isdir("/proc"):
        tree.start()
    # The harness's timeout terminates this launcher: kill the command, as the harness did
    # before the launcher (a crawl takes SIGTERM as "finish gracefully"). Ctrl-C passes on.
    killed = threading.Event()

    def kill(_sig: int, _frame: object) -> None:
        killed.set()
        proc.kill()

    signal.signal(signal.SIGTERM, kill)
    signal.signal(signal.SIGINT, lambda sig, _frame: proc.send_signal(sig))
    _, status, usage = os.wait4(proc.pid, 0)  # retried after a signal (PEP 475)
    wall = time.monotonic() - started
    if killed.is_set():  # what the command left running goes with it
        for pid in process_tree(os.getpid())[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    stragglers = _reap_stragglers(time.monotonic() + STRAGGLER_SECONDS) if subreaper else 0
    tree.stopped.set()
    if tree.is_alive():
        tree.join()
    everything = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = everything.ru_utime + everything.ru_stime
    parts = tree.parts()
    with open(usage_file, "w", encoding="utf-8") as out:
        json.dump(
            {
                "peak_rss_kb": usage.ru_maxrss,  # Linux: kilobytes
                # at least the largest one (a process too short to poll)
                "peak_rss_sum_kb": max(tree.max_alive_kb, usage.ru_maxrss),
                "peak_rss_all_kb": max(tree.total_kb(), usage.ru_maxrss),
                "processes": len(tree.peaks),
                "cpu_s": cpu,
                "command_cpu_s": usage.ru_utime + usage.ru_stime,  # what wait4 alone gives
                "unseen_cpu_s": _unseen(cpu, parts),
                "parts": parts,
                "wall_s": wall,
                "stragglers": stragglers,
                "subreaper": subreaper,
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
