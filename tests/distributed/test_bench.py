"""The scaling benchmark's harness on a tiny run (the figures are in docs/benchmarks.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_distributed_benchmark_runs_and_checks_its_crawl(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not found (apt-get install redis-server)")
    from bench.distributed import main

    work = tmp_path / "work"
    args = ["--pages", "8", "--latency", "0.05", "--workers", "1,2"]
    code = main([*args, "--results-dir", str(tmp_path), "--keep", str(work)])
    assert code == 0
    # the harness stops the workers (SIGTERM) once the crawl is done; none waits to be idle
    logs = sorted(work.glob("workers-*/w[0-9]*.log"))
    assert len(logs) == 3
    for log in logs:
        (done,) = [line for line in log.read_text().splitlines() if line.startswith("Done: ")]
        assert done.endswith("(stopped)"), done
    (result,) = tmp_path.glob("distributed-*.json")
    runs = json.loads(result.read_text())["runs"]
    assert [r["workers"] for r in runs] == [1, 2]
    for run in runs:
        assert run["story_pages_fetched"] == 8 and run["fetched_twice"] == 0
        assert run["pages_per_s"] > 0 and run["workers_cpu_s"] > 0 and run["writer_cpu_s"] > 0
