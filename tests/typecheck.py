"""Run mypy on the `csrnews` package as it is installed: crawler/ and search/ inside it.

pyproject.toml maps crawler/ and search/ into the package (package-dir), which mypy cannot
follow; this lays the package out under .venv/typecheck/ as links to the real folders, runs
mypy there with pyproject.toml's settings and prints its findings with the real paths.

    python -m tests.typecheck          # what `make lint` runs
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / ".venv" / "typecheck"


def lay_out(tree: Path = TREE) -> dict[str, str]:
    """The package as folders of links; returns laid-out path prefix -> real path prefix."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    if tree.exists():
        shutil.rmtree(tree)
    package = tree / "csrnews"
    package.mkdir(parents=True)
    for entry in (ROOT / mapping["csrnews"]).iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    prefixes = {}
    for name, folder in mapping.items():
        parts = name.split(".")
        if name == "csrnews" or folder == "." or len(parts) != 2:
            continue
        (package / parts[1]).symlink_to(ROOT / folder)
        prefixes[f"csrnews/{parts[1]}/"] = f"{folder}/"
    return prefixes


def main(argv: list[str] | None = None) -> int:
    prefixes = lay_out()
    env = {**os.environ, "MYPYPATH": str(TREE)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "-p",
            "csrnews",
            *(argv if argv is not None else sys.argv[1:]),
        ],
        cwd=TREE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in (result.stdout + result.stderr).splitlines():
        for laid, real in prefixes.items():
            if line.startswith(laid):
                line = real + line[len(laid) :]
                break
        print(line)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
