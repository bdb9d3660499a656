"""The staging folder seeded in a child process: the same names and files as in the build's
own, errors carried back, nothing of Pelican imported, no seeding for a build that is gone."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from csrnews.site import seeding
from csrnews.site.folders import spare_of

FINGERPRINT = "f" * 16
PREVIOUS_KEYS = {
    "index.html": "k-index-2",
    "2024/a/index.html": "k-a",
    "2024/b/index.html": "k-b-2",
    "feeds/all.atom.xml": "k-feed-2",
}
SPARE_KEYS = {  # the site before the previous one
    "index.html": "k-index-1",
    "2024/a/index.html": "k-a",
    "2024/b/index.html": "k-b-1",
    "2023/gone/index.html": "k-gone",
    "feeds/all.atom.xml": "k-feed-1",
}


def _site(folder: Path, keys: dict[str, str], label: str) -> None:
    for name in keys:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{label} {name}", encoding="utf-8")
    (folder / "pagefind" / "fragment").mkdir(parents=True)
    (folder / "pagefind" / "fragment" / "x.pf").write_text(label, encoding="utf-8")
    manifest = {"format": seeding.FORMAT, "fingerprint": FINGERPRINT, "keys": keys}
    (folder / seeding.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _tree(folder: Path) -> dict[str, tuple[str, int] | None]:
    found: dict[str, tuple[str, int] | None] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        is_file = path.is_file()
        found[name] = (path.read_text(encoding="utf-8"), path.stat().st_ino) if is_file else None
    return found


def _state(root: Path, *, spare: bool) -> tuple[Path, Path, Path]:
    """A live site (the previous build), its spare when asked, and an empty staging folder."""
    output = root / "site"
    _site(output, PREVIOUS_KEYS, "previous")
    if spare:
        _site(spare_of(output), SPARE_KEYS, "spare")
    staging = root / ".site.building-test"
    staging.mkdir()
    return output, staging, spare_of(output)


@pytest.mark.parametrize("spare", [True, False], ids=["spare", "no-spare"])
def test_the_child_seeds_what_the_build_process_would(tmp_path: Path, spare: bool) -> None:
    """Kept files are the spare's own (same key), the rest links to the previous site's, the
    spare's other files and folders are gone: in the child exactly as in-process."""
    made: dict[str, tuple[set[str], dict[str, tuple[str, int] | None]]] = {}
    for way in ("here", "child"):
        output, staging, spare_site = _state(tmp_path / way, spare=spare)
        spare_inode = (spare_site / "2024/a/index.html").stat().st_ino if spare else None
        run = seeding.seed_staging if way == "here" else seeding.seed_in_child
        names = run(PREVIOUS_KEYS, FINGERPRINT, output, staging, output)
        assert names == set(PREVIOUS_KEYS)
        assert not spare_site.exists()  # taken as the staging folder, or never there
        kept = (staging / "2024/a/index.html").stat().st_ino
        assert kept == (spare_inode or (output / "2024/a/index.html").stat().st_ino)
        for name in ("index.html", "2024/b/index.html", "feeds/all.atom.xml"):
            assert (staging / name).stat().st_ino == (output / name).stat().st_ino
        tree = {name: (value[0], 0) if value else None for name, value in _tree(staging).items()}
        made[way] = (names, tree)
    assert made["here"] == made["child"]
    assert "2023/gone/index.html" not in made["child"][1]
    assert not any(name.startswith("pagefind") for name in made["child"][1])


def test_the_child_imports_nothing_of_pelican() -> None:
    """The child is light: the seeding module pulls in neither Pelican nor Jinja."""
    check = (
        "import sys, csrnews.site.seeding; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pelican', 'jinja2')); "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_an_error_in_the_child_is_raised_in_the_build(tmp_path: Path) -> None:
    """A staging 'folder' that is a file: the child's OSError comes back as one, naming it."""
    output, staging, _ = _state(tmp_path, spare=False)
    shutil.rmtree(staging)
    staging.write_text("not a folder", encoding="utf-8")
    with pytest.raises(OSError, match=r"\.site\.building-test"):
        seeding.seed_in_child(PREVIOUS_KEYS, FINGERPRINT, output, staging, output)


def test_a_child_that_dies_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, staging, _ = _state(tmp_path, spare=False)
    monkeypatch.setattr(sys, "executable", shutil.which("false") or "/bin/false")
    failed = r"seeding the site's staging folder failed \(exit 1, 0 bytes of answer\)"
    with pytest.raises(RuntimeError, match=failed):
        seeding.seed_in_child(PREVIOUS_KEYS, FINGERPRINT, output, staging, output)


def test_a_child_whose_build_is_gone_seeds_nothing(tmp_path: Path) -> None:
    """The child checks that the build that asked is still its parent: if not, it exits at
    once and leaves the staging folder alone (the next build removes it)."""
    output, staging, _ = _state(tmp_path, spare=False)
    not_parent = os.getpid()  # the child's parent is the shell below, not this process
    request = (PREVIOUS_KEYS, FINGERPRINT, str(output), str(staging), str(output), not_parent)
    with tempfile.TemporaryFile() as answer:
        fd = answer.fileno()
        child = subprocess.run(
            ["sh", "-c", f'"{sys.executable}" -m csrnews.site.seeding {fd}; exit $?'],
            input=pickle.dumps(request),
            capture_output=True,
            pass_fds=(fd,),
            check=False,
        )
        assert os.fstat(fd).st_size == 0
    assert child.returncode == 1 and child.stderr == b""
    assert list(staging.iterdir()) == []


def test_the_answer_comes_back_in_a_file_not_through_a_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process stopped and continued (SIGSTOP and SIGCONT: a profiler attaching, Ctrl-Z)
    while it writes a large answer to a full pipe has its write cut short, and Python's
    buffered writer drops the rest without an error: under py-spy, one seeding in four lost
    its answer that way. The answer's descriptor, as the child sees it, is a regular file."""
    output, staging, _ = _state(tmp_path, spare=False)
    seen = tmp_path / "answer-kind"
    wrapper = tmp_path / "python"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ -p "/proc/self/fd/$3" ]; then echo pipe > "{seen}"; '
        f'elif [ -f "/proc/self/fd/$3" ]; then echo file > "{seen}"; fi\n'
        f'exec "{sys.executable}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    names = seeding.seed_in_child(PREVIOUS_KEYS, FINGERPRINT, output, staging, output)
    assert names == set(PREVIOUS_KEYS)
    assert seen.read_text(encoding="utf-8").strip() == "file"
