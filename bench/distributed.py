"""The distributed crawl's scaling: pages/s with 1, 2 and 4 workers against a slow publisher.

    python -m bench.distributed                          # 400 pages, 1.0 s a response, 1,2,4
    python -m bench.distributed --pages 200 --latency 0.5 --workers 1,2
    python -m bench.distributed --quick                  # 16 pages: checks the harness

A real redis-server on a free loopback port, the demo publisher serving synthetic stories
(bench/publisher.py) with an artificial latency on every response, N `csrnews crawl --redis`
workers and one `csrnews ingest` writer as subprocesses, the seed (what `csrnews crawl --seed`
does) in this process. Per worker count:
pages/s in the fetch window (the first to the last request the publisher answered) and end
to end (seed to the last story file written), and the CPU time of the workers, the writer and
the publisher beside the wall time. Figures go to bench/results/distributed-<stamp>.json.

The workers and the writer run until stopped: the harness sends the workers SIGTERM once the
frontier is empty (nothing queued, nothing in flight: a request leaves it only once its new
requests and its items are in Redis, so the crawl is done), then the writer once it has
written all they sent (the item queue and its processing list empty). No idle time is
waited for, and none ends a process before the crawl is done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import LAUNCHER, ROOT, describe_machine

logger = logging.getLogger("bench.distributed")

RESULTS_DIR = Path(__file__).resolve().parent / "results"
POLL = 0.1  # seconds between the harness's looks at Redis


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redis:
    """redis-server on loopback for the run (no persistence).

    On a free port, and on another while the server exits at once (the port was taken
    between the pick and its bind: a test run beside this one); the server that answers is
    checked to be this one (its process id), not another on the port.
    """

    ATTEMPTS = 5

    def __init__(self, folder: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("redis-server not found: apt-get install redis-server")
        import redis

        for attempt in range(1, self.ATTEMPTS + 1):
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [
                    exe,
                    *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                    *("--appendonly", "no", "--dir", str(folder)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.client = redis.Redis(port=self.port)
            if self._up(redis.ConnectionError):
                return
            self.client.close()
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if attempt == self.ATTEMPTS:
                raise SystemExit(f"redis-server did not start on a free port ({attempt} tries)")

    def _up(self, not_yet: type[Exception]) -> bool:
        """Whether this server answers within 15 s (False: it exited, or another answers)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                pid = int(self.client.info("server")["process_id"])
            except not_yet:
                time.sleep(0.05)
                continue
            return pid == self.proc.pid
        return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _measured(command: list[str], usage: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start a csrnews command under bench/rusage.py (its own CPU time and peak RSS)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                str(LAUNCHER),
                str(usage),
                "--",
                sys.executable,
                "-m",
                "csrnews",
                *command,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _terminate(launcher: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the csrnews command under its bench/rusage.py launcher: the command takes it
    as "finish gracefully" (the launcher itself takes SIGTERM as a timeout and kills it)."""
    from bench.rusage import child_pids

    deadline = time.monotonic() + 10
    while not (pids := child_pids(launcher.pid)):  # only at the very start: not yet spawned
        if launcher.poll() is not None or time.monotonic() > deadline:
            return
        time.sleep(POLL)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _wait_until(
    done: Any, procs: list[subprocess.Popen[bytes]], deadline: float, what: str, run: Path
) -> None:
    """Poll until done(); fail if one of `procs` ended first or at the deadline."""
    while not done():
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a process stopped before {what}; see {run}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; see {run}")
        time.sleep(POLL)


def _stop(procs: list[subprocess.Popen[bytes]], deadline: float, run: Path) -> None:
    for proc in procs:
        _terminate(proc)
    for proc in procs:
        if proc.wait(timeout=max(1.0, deadline - time.monotonic())):
            raise RuntimeError(f"a process failed; see {run}")


def _usage(path: Path) -> dict[str, float]:
    return json.loads(path.read_text(encoding="utf-8"))


def run_one(
    workers: int, work: Path, server: Any, redis: Redis, pages: int, timeout: float
) -> dict[str, Any]:
    """One crawl of the publisher with `workers` workers and one writer; its figures."""
    from csrnews.demo.server import render_sources

    redis.client.flushdb()
    run = work / f"workers-{workers}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    sources = run / "sources.yaml"
    sources.write_text(render_sources(server.url), encoding="utf-8")
    # the seed runs in this process, as `csrnews crawl --seed` makes it: the workers, started
    # first so that each takes a share, would otherwise wait seconds for a process to start
    import csrnews.crawler.context
    import csrnews.crawler.distributed.spiders
    import csrnews.crawler.state  # noqa: F401
    from csrnews.crawler.distributed import keys
    from csrnews.crawler.distributed.worker import seed as seed_frontier

    worker_args = ["crawl", "--redis", redis.url, "--sources", str(sources), "--delay", "0"]
    worker_args += ["--quiet"]
    procs = [_measured(worker_args, run / f"w{i}.usage", run / f"w{i}.log") for i in range(workers)]
    _wait_until(
        lambda: redis.client.scard(keys.WORKERS) >= workers,
        procs,
        time.monotonic() + 60,
        "the workers registered",
        run,
    )
    server.clear_log()
    seeded_at = time.time()
    seeding = time.process_time()
    seeded = seed_frontier(sources, run / "content", run / "var", redis.url)
    if not seeded.pushed:
        raise RuntimeError(f"the seed put no request in the frontier: {seeded}")
    seed_cpu = time.process_time() - seeding
    # this process from here on: the publisher's threads (the main thread's looks at Redis,
    # below, are taken out)
    publisher_cpu = time.process_time()
    harness_cpu = time.thread_time()
    writer = _measured(
        [
            *("ingest", "--redis", redis.url, "--sources", str(sources)),
            *("--content", str(run / "content"), "--state", str(run / "var")),
            "--quiet",
        ],
        run / "writer.usage",
        run / "writer.log",
    )
    deadline = time.monotonic() + timeout

    def frontier_empty() -> bool:
        queued = sum(redis.client.zcard(q) for q in redis.client.smembers(keys.QUEUES))
        return queued == 0 and redis.client.scard(keys.INFLIGHT) == 0

    def items_written() -> bool:
        return redis.client.llen(keys.ITEMS) == 0 and redis.client.llen(keys.PROCESSING) == 0

    _wait_until(frontier_empty, [writer, *procs], deadline, "the frontier emptied", run)
    _stop(procs, deadline, run)  # each sends its last report to the writer as it stops
    _wait_until(items_written, [writer], deadline, "the writer wrote the items", run)
    _stop([writer], deadline, run)
    publisher_cpu = time.process_time() - publisher_cpu - (time.thread_time() - harness_cpu)
    log = server.request_log
    files = list((run / "content" / "news").rglob("*.md"))
    if len(files) != pages:
        raise RuntimeError(f"{len(files)} stories written of {pages}; see {run}")
    story_requests = [r for r in log if "/bench-" in r.path and r.status == 200]
    window = log[-1].time - log[0].time
    end_to_end = max(p.stat().st_mtime for p in files) - seeded_at
    worker_usage = [_usage(run / f"w{i}.usage") for i in range(workers)]
    writer_usage = _usage(run / "writer.usage")
    return {
        "workers": workers,
        "pages": pages,
        "requests": len(log),
        "story_pages_fetched": len(story_requests),
        "fetched_twice": len(log) - len({r.path for r in log}),
        "fetch_window_s": round(window, 2),
        "pages_per_s": round(len(story_requests) / window, 1),
        "end_to_end_s": round(end_to_end, 2),
        "stories_per_s_end_to_end": round(pages / end_to_end, 1),
        "workers_cpu_s": round(sum(u["cpu_s"] for u in worker_usage), 2),
        "writer_cpu_s": round(writer_usage["cpu_s"], 2),
        "publisher_cpu_s": round(publisher_cpu, 2),
        "seed_cpu_s": round(seed_cpu, 2),
        "worker_peak_rss_mb": round(max(u["peak_rss_kb"] for u in worker_usage) / 1024, 1),
        "writer_peak_rss_mb": round(writer_usage["peak_rss_kb"] / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the scaling benchmark; print a table; save the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__)
    parser.add_argument("--pages", type=int, default=None, help="stories (default 400)")
    parser.add_argument(
        "--latency", type=float, default=None, help="seconds each response waits (default 1.0)"
    )
    parser.add_argument(
        "--workers", default=None, help="comma-separated worker counts (default 1,2,4)"
    )
    parser.add_argument("--quick", action="store_true", help="16 pages, 0.1 s, workers 1,2")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it")
    args = parser.parse_args(argv)
    pages = args.pages or (16 if args.quick else 400)
    latency = args.latency if args.latency is not None else (0.1 if args.quick else 1.0)
    counts = [int(x) for x in (args.workers or ("1,2" if args.quick else "1,2,4")).split(",")]
    logging.basicConfig(level=logging.WARNING)

    from bench.publisher import write_publisher_stories
    from csrnews.demo.server import start_demo_server

    work = args.keep or Path(tempfile.mkdtemp(prefix="csrnews-bench-distributed-"))
    work.mkdir(parents=True, exist_ok=True)
    write_publisher_stories(work / "stories", pages)
    server = start_demo_server(stories_dir=work / "stories", slow_seconds=0, latency=latency)
    redis = Redis(work)
    rows = []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        for count in counts:
            print(
                f"[bench] {count} worker(s), {pages} pages, {latency:g} s a response",
                file=sys.stderr,
            )
            rows.append(run_one(count, work, server, redis, pages, timeout=600 + pages * latency))
            row = rows[-1]
            print(
                f"[bench] {count} worker(s): {row['pages_per_s']} pages/s in the fetch window, "
                f"{row['stories_per_s_end_to_end']} stories/s end to end",
                file=sys.stderr,
            )
    finally:
        redis.stop()
        server.stop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    base = rows[0]["pages_per_s"]
    for row in rows:
        row["speedup"] = round(row["pages_per_s"] / base, 2)
    results = {
        "started": stamp,
        "machine": describe_machine(),
        "options": {"pages": pages, "latency_s": latency, "workers": counts},
        "runs": rows,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"distributed-{stamp}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    head = f"{'workers':>7} {'pages/s':>8} {'speedup':>8} {'end-to-end':>11} {'window s':>9} "
    head += f"{'workers CPU s':>14} {'writer CPU s':>13} {'publisher CPU s':>16} {'twice':>6}"
    print(head)
    for row in rows:
        print(
            f"{row['workers']:>7} {row['pages_per_s']:>8} {row['speedup']:>8} "
            f"{row['stories_per_s_end_to_end']:>11} {row['fetch_window_s']:>9} "
            f"{row['workers_cpu_s']:>14} {row['writer_cpu_s']:>13} "
            f"{row['publisher_cpu_s']:>16} {row['fetched_twice']:>6}"
        )
    print(f"\nfigures written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
