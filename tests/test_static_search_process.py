"""The static search's own process: what it imports, and how it runs Pagefind's service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from csrnews.search import staticsearch
from csrnews.search.pagefindpipe import PagefindError, PagefindPipe, one_cpu, pagefind_binary

from tests.golden_site import SAMPLES


def test_the_static_search_imports_neither_whoosh_nor_numpy() -> None:
    code = (
        "import json, sys; import csrnews.search.staticsearch; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert not loaded & {"whoosh", "numpy", "pelican", "markdown"}, loaded
    from csrnews.search import SearchService  # the package's exports are still there

    assert SearchService.__module__ == "csrnews.search.query"


def _env_recorder(tmp_path: Path) -> tuple[Path, Path]:
    """A Pagefind binary that writes its environment to a file, then runs the real one."""
    record, script = tmp_path / "environ.json", tmp_path / "pagefind"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
        f"os.execv({pagefind_binary()!r}, [{pagefind_binary()!r}, *sys.argv[1:]])\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script, record


def test_the_pagefind_service_gets_the_environment_and_its_allocator_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an operator's _RJEM_MALLOC_CONF reaches Pagefind's allocator (the module's docstring)
    script, record = _env_recorder(tmp_path)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(script))
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000")
    content, site = tmp_path / "content", tmp_path / "site"
    shutil.copytree(SAMPLES, content)
    stats = staticsearch.build_static_search(content, site)
    assert stats.built == 1 and stats.stories == 12  # one of the 13 is hidden
    env = json.loads(record.read_text(encoding="utf-8"))
    assert env["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:1000"
    assert env["PAGEFIND_BINARY_PATH"] == str(script)


def test_pagefinds_errors_and_its_end_are_errors_not_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = PagefindPipe(window=2)
    try:
        assert service.call({"type": "NewIndex", "config": None})["type"] == "NewIndex"
        for number in range(5):  # more than the window: answers are read as it goes
            service.request({"type": "AddRecord", "index_id": 0, "url": f"/{number}/",
                             "content": "a record", "language": "en"})  # fmt: skip
        service.request({"type": "AddRecord", "index_id": 9, "url": "/", "content": "x",
                         "language": "en"})  # fmt: skip
        with pytest.raises(PagefindError, match="Invalid index"):
            service.wait()
    finally:
        service.close()
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", shutil.which("true") or "/bin/true")
    ended = PagefindPipe()
    try:
        with pytest.raises(PagefindError, match="Pagefind stopped"):
            ended.call({"type": "NewIndex", "config": None})
    finally:
        ended.close()


def _allowed_cpus(pid: int) -> list[set[int]]:
    """The CPUs each thread of a process may run on (from /proc)."""
    found = []
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text(encoding="utf-8").splitlines():
            if line.startswith("Cpus_allowed_list:"):
                cpus: set[int] = set()
                for part in line.split(":", 1)[1].strip().split(","):
                    low, _, high = part.partition("-")
                    cpus.update(range(int(low), int(high or low) + 1))
                found.append(cpus)
    return found


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a process allowed on two CPUs or more",
)
def test_the_pagefind_service_and_all_its_threads_run_on_one_cpu() -> None:
    # spread over CPUs, its file-writing threads contend (about 40% more CPU time)
    service = PagefindPipe()
    try:
        service.call({"type": "NewIndex", "config": {"force_language": "zh"}})
        threads = _allowed_cpus(service.pid)
    finally:
        service.close()
    assert len(threads) > 1  # tokio's workers started
    assert all(cpus == one_cpu() for cpus in threads), threads
    assert len(one_cpu()) == 1 and one_cpu() <= os.sched_getaffinity(0)
    free = PagefindPipe(cpus=set())  # an empty set: where the system puts it
    try:
        free.call({"type": "NewIndex", "config": {"force_language": "zh"}})
        assert _allowed_cpus(free.pid)[0] == os.sched_getaffinity(0)
    finally:
        free.close()


def test_the_child_process_help_is_short_and_names_every_argument(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as ended:
        staticsearch.main(["--help"])
    assert ended.value.code == 0
    shown = capsys.readouterr().out
    assert len(shown.splitlines()) < 40, shown  # not the module's whole docstring
    said = " ".join(shown.split())
    for argument, meaning in (
        ("content", "the content folder"),
        ("site", "the built site"),
        ("--previous PREVIOUS", "a previous site"),
        ("--leave-out PATH", "a story file"),
        ("--cache-dir CACHE_DIR", "a folder kept between builds"),
    ):
        assert f"{argument} {meaning}" in said, argument


def test_pagefind_gives_freed_memory_back_at_once_unless_the_operator_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an operator's _RJEM_MALLOC_CONF the service starts with PAGEFIND_MALLOC_CONF:
    about 60 MB less at the peak of a full build (the 600 MB budget of issue 20)."""
    script, record = _env_recorder(tmp_path)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(script))
    monkeypatch.delenv("_RJEM_MALLOC_CONF", raising=False)
    content, site = tmp_path / "content", tmp_path / "site"
    shutil.copytree(SAMPLES, content)
    assert staticsearch.build_static_search(content, site).built == 1
    env = json.loads(record.read_text(encoding="utf-8"))
    assert env["_RJEM_MALLOC_CONF"] == staticsearch.PAGEFIND_MALLOC_CONF
    assert "dirty_decay_ms:0" in staticsearch.PAGEFIND_MALLOC_CONF
    assert env["PAGEFIND_BINARY_PATH"] == str(script)  # the rest of the environment, as it was
