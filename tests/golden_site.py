"""Golden site: build tests/samples/content and compare with (or regenerate) tests/golden/."""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples" / "content"
GOLDEN = ROOT / "tests" / "golden"
GOLDEN_TODAY = "2024-11-01"  # the events page's "today": some sample events upcoming, some past
# theme assets are copied verbatim, and the static search's bundle is Pagefind's binary output:
# compare the generated files (the bundle's list of shards is compared)
SKIP_SUFFIXES = (
    ".css",
    ".js",
    ".png",
    ".pagefind",
    ".pf_meta",
    ".pf_index",
    ".pf_fragment",
    ".pf_filter",
)


def build(target: Path) -> Path:
    """Build the sample content into ``target`` (deterministic: fixed content, no SITEURL)."""
    from csrnews.search.staticsearch import build_static_search

    from csrnews.site.build import build_site

    build_site(SAMPLES, target, quiet=True, extra_settings={"CSR_TODAY": GOLDEN_TODAY})
    build_static_search(SAMPLES, target)
    return target


def files(folder: Path) -> dict[str, Path]:
    """Relative path -> file, for the files the golden comparison covers."""
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        # the incremental build's manifest (.csrnews-manifest.json) is bookkeeping, not site
        if p.is_file()
        and not p.name.endswith(SKIP_SUFFIXES)
        and not p.name.startswith(".")
        and p.name != "pagefind-entry.json"  # names the bundle's files by their hashes
    }


# A shard's key hashes the code that makes its records (tests/test_static_search_keys.py tests
# it): compared, it would make every edit of that code regenerate the golden site.
_SHARD_KEY = re.compile(r'^(\s*"key": )"[0-9a-f]+"')


def _lines(name: str, path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if name.endswith("pagefind/shards.json"):
        lines = [_SHARD_KEY.sub(r'\1"(hash)"', line) for line in lines]
    return lines


def compare(built: Path, golden: Path = GOLDEN, max_lines: int = 60) -> list[str]:
    """Differences between a built site and the golden one, as readable lines (empty: equal)."""
    got, want = files(built), files(golden)
    problems = [f"missing from build: {name}" for name in sorted(want.keys() - got.keys())]
    problems += [f"not in golden: {name}" for name in sorted(got.keys() - want.keys())]
    for name in sorted(got.keys() & want.keys()):
        a, b = _lines(name, want[name]), _lines(name, got[name])
        if a != b:
            diff = list(difflib.unified_diff(a, b, f"golden/{name}", f"built/{name}", lineterm=""))
            problems.append("\n".join(diff[:max_lines]))
    return problems


def regenerate(golden: Path = GOLDEN) -> int:
    """Rebuild the golden output from the samples; returns the number of files written."""
    with tempfile.TemporaryDirectory() as tmp:
        built = build(Path(tmp) / "site")
        if golden.exists():
            shutil.rmtree(golden)
        golden.mkdir(parents=True)
        for name, path in files(built).items():
            (golden / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, golden / name)
    return len(files(golden))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regenerate", action="store_true", help="rewrite tests/golden/")
    args = parser.parse_args(argv)
    if args.regenerate:
        print(f"golden site regenerated: {regenerate()} files in {GOLDEN}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        problems = compare(build(Path(tmp) / "site"))
    print("\n".join(problems) or "golden site matches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
