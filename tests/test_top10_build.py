"""A malformed top-10 file stops `csrnews build` with its path and line, and keeps the site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

SAMPLES = ROOT / "tests" / "samples" / "content"


@pytest.mark.slow
def test_malformed_list_stops_the_build_with_path_and_line(tmp_path: Path) -> None:
    content, output, index = tmp_path / "content", tmp_path / "out", tmp_path / "idx"
    shutil.copytree(SAMPLES, content)
    good = run_cli(
        "build",
        "--content",
        str(content),
        "--output",
        str(output),
        "--index",
        str(index),
        "--quiet",
    )
    assert good.returncode == 0, good.stderr
    before = (output / "top10" / "2024" / "index.html").read_text(encoding="utf-8")

    listing = content / "top10" / "2024.yaml"
    listing.write_text(
        listing.read_text(encoding="utf-8").replace(
            "stories: [amfori-and-ctic-sign-mou-on-worker-training]",
            "stories: [amfori-and-ctic-sign-mou-on-worker-training",
        ),
        encoding="utf-8",
    )
    bad = run_cli(
        "build", "--content", str(content), "--output", str(output), "--index", str(index)
    )
    assert bad.returncode == 1
    assert f"{listing}:" in bad.stderr and "YAML syntax error" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert (output / "top10" / "2024" / "index.html").read_text(encoding="utf-8") == before
