"""The layout: one `csrnews` namespace, the story contract below every stage, layers kept.

Imports are read from the source (every import statement, function-local ones too), so a
layer that starts to import one above it fails here, not in a later refactor.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

# Where each import package's files are (pyproject.toml's package-dir).
PACKAGE_DIRS = {"csrnews": ROOT / "csrnews", "csrnews.crawler": ROOT / "crawler"}
PACKAGE_DIRS["csrnews.search"] = ROOT / "search"
# Which layers each layer may import (besides itself and the root package's __version__).
ALLOWED: dict[str, set[str]] = {
    "story": set(),
    "tables": set(),
    "lifeline": set(),  # children that die with their parent
    "crawler": {"story"},
    "search": {"story"},
    "top10": {"story"},
    "site": {"story", "top10", "lifeline"},
    "serve": {"story", "search"},
    "nightly": {"story", "crawler", "search", "site", "tables", "lifeline"},  # site: spare's name
    "desk": {"story", "search", "serve", "site", "top10", "nightly"},
    "demo": {"story", "desk", "serve", "cli"},
    "commands": {"*"},
    "cli": {"*"},
}
CLI_MODULES = {"cli", "console", "options", "__main__", "__init__"}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            if package == "csrnews" and rel.parts[0] in ("crawler", "search"):
                continue
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "csrnews":
        return None
    if len(parts) == 1 or parts[1] in CLI_MODULES:
        return "cli"
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            if node.module == "csrnews":
                out += [(node.lineno, f"csrnews.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
    return out


def test_the_story_contract_imports_no_other_project_package() -> None:
    story = {name: path for name, path in _modules().items() if _layer(name) == "story"}
    assert {"csrnews.story.storyfile", "csrnews.story.schema", "csrnews.story.urls"} <= set(story)
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for name, path in story.items()
        for line, target in _imports(path)
        if target.split(".")[0] in ("csrnews", "crawler", "search", "plugins", "demo")
        and not target.startswith("csrnews.story")
    ]
    assert not bad, bad


def test_layers_import_only_the_layers_below_them() -> None:
    bad = []
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in _modules().items():
        source = _layer(name)
        assert source in ALLOWED, f"{name}: a layer the table does not know"
        for line, target in _imports(path):
            layer = _layer(target)
            if layer is None or layer == source or target == "csrnews.__version__":
                continue
            graph[source].add(layer)
            if "*" not in ALLOWED[source] and layer not in ALLOWED[source]:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {source} imports {target}")
    assert not bad, bad
    assert graph["crawler"] == {"story"} and graph["search"] == {"story"}


def test_no_module_outside_the_csrnews_namespace_is_imported() -> None:
    """The acceptance grep of issue 15, on every tracked Python file."""
    result = subprocess.run(
        [
            "git",
            "grep",
            "-n",
            "-E",
            r"^\s*(import|from) (crawler|search|plugins|demo)\b",
            "--",
            "*.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    assert result.stdout == "", result.stdout


def test_every_package_folder_is_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(config["setuptools"]["packages"])
    assert config["setuptools"]["package-dir"]["csrnews.crawler"] == "crawler"
    on_disk = {name for name, path in _modules().items() if path.name == "__init__.py"} | {
        "csrnews.project"
    }
    assert listed == on_disk, (sorted(on_disk - listed), sorted(listed - on_disk))
    assert not (ROOT / "plugins").exists() and not (ROOT / "demo").exists()


def test_importing_the_packages_patches_nothing() -> None:
    """`import csrnews.search` leaves Whoosh as it is; a search service installs its views."""
    code = (
        "from whoosh.filedb import compound, structfile\n"
        "import csrnews.search, csrnews.serve.wsgi, csrnews.site.build\n"
        "assert compound.BufferFile is structfile.BufferFile, compound.BufferFile\n"
        "print('unpatched')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "unpatched", result.stderr


# Where the environment may be read: the command line and the WSGI entry points.
ENV_EDGE = {"csrnews.cli", "csrnews.options", "csrnews.serve.wsgi", "csrnews.desk.wsgi"}


def _environment_reads(path: Path) -> list[int]:
    """Lines that read a variable of os.environ, also through a name bound to it (copying the
    whole environment for a child process is not a read)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    def binds_environ(value: ast.AST) -> bool:  # os.environ, or `os.environ if ... else x`
        if isinstance(value, ast.IfExp):
            return is_environ(value.body) or is_environ(value.orelse)
        return is_environ(value)

    aliases = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and binds_environ(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "getenv" and isinstance(node.func.value, ast.Name):
                found.append(node.lineno)  # os.getenv
                continue
            if node.func.attr in ("get", "pop", "setdefault"):
                target = node.func.value
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            target = node.value
        if target is not None and (
            is_environ(target) or (isinstance(target, ast.Name) and target.id in aliases)
        ):
            found.append(node.lineno)
    return found


def test_environment_variables_are_read_only_at_the_edge() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line}"
        for name, path in _modules().items()
        if name not in ENV_EDGE and not name.startswith("csrnews.commands")
        for line in _environment_reads(path)
    ]
    assert not bad, bad
    # the rule sees the reads where they are
    assert _environment_reads(ROOT / "csrnews" / "serve" / "wsgi.py")
    assert _environment_reads(ROOT / "csrnews" / "desk" / "wsgi.py")
