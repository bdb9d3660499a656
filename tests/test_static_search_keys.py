"""The static search's shard keys follow the story files' bytes, not their stat."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from csrnews.search.filemap import scan_story_files
from csrnews.search.staticsearch import plan_shards

SAMPLES = Path(__file__).parent / "samples" / "content"


def _keys(content: Path) -> dict[str, str]:
    return {shard.id: shard.key() for shard in plan_shards(scan_story_files(content))}


def test_a_copy_or_a_touch_keeps_every_key(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(SAMPLES, copy)  # new inodes and (without copy2 of dirs) other times
    for path in (copy / "news").rglob("*.md"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert _keys(copy) == _keys(SAMPLES)


def test_a_changed_byte_changes_its_shards_key(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(SAMPLES, copy)
    before = _keys(copy)
    story = sorted((copy / "news").rglob("*.md"))[0]
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    after = _keys(copy)
    assert after.keys() == before.keys()
    assert sum(before[k] != after[k] for k in before) == 1


def _modules_reached(start: object) -> set[str]:
    """The csrnews modules whose functions and classes ``start`` calls, followed through."""
    import inspect
    import types

    seen: set[int] = set()
    modules: set[str] = set()
    todo = [start]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        module = getattr(item, "__module__", None) or ""
        if not module.startswith("csrnews."):
            continue
        modules.add(module)
        if inspect.isclass(item):
            todo += [v for v in vars(item).values() if inspect.isfunction(v)]
            todo += [v.fget for v in vars(item).values() if isinstance(v, property)]
            continue
        if not inspect.isfunction(item):
            continue
        codes = [item.__code__]
        while codes:
            code = codes.pop()
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
            for name in code.co_names:
                found = item.__globals__.get(name)
                if isinstance(found, types.ModuleType) and found.__name__.startswith("csrnews."):
                    modules.add(found.__name__)  # e.g. schema.indexed(): the whole module
                elif found is not None:
                    todo.append(found)
    return modules


def test_the_shard_key_covers_every_module_that_shapes_a_record() -> None:
    # code_key() hashes RECORD_MODULES' sources: a change of the code that makes records (the
    # story parser, story_document, the URLs, the vocabularies) builds every shard again.
    from csrnews.search import staticsearch

    reached = _modules_reached(staticsearch.record_of)
    assert reached <= set(staticsearch.RECORD_MODULES), reached - set(staticsearch.RECORD_MODULES)
    assert "csrnews.search.document" in reached and "csrnews.story.storyfile" in reached


def test_a_change_of_a_record_module_changes_the_key(monkeypatch: object) -> None:
    from csrnews.search import staticsearch

    before = staticsearch.code_key()
    staticsearch._record_code.cache_clear()
    monkeypatch.setattr(  # type: ignore[attr-defined]
        staticsearch, "RECORD_MODULES", (*staticsearch.RECORD_MODULES[:-1], "csrnews.story.urls")
    )
    try:
        assert staticsearch.code_key() != before
    finally:
        staticsearch._record_code.cache_clear()


def test_comments_layout_and_docstrings_of_a_record_module_keep_the_key() -> None:
    # an upgrade that only documents the code builds no shard again (40 CPU-s at 20k stories)
    from csrnews.search.staticsearch import code_of

    source = b'"""A module."""\n\ndef f(x):\n    """Twice."""\n    return x * 2  # doubled\n'
    same = b'"""The module, documented."""\n\n\ndef f(x):\n    """Twice x."""\n    return x*2\n'
    assert code_of(source) == code_of(same)
    assert code_of(source) != code_of(source.replace(b"x * 2", b"x * 3"))
    assert code_of(source) != code_of(source.replace(b'"""Twice."""', b'print("Twice.")'))
    assert code_of(b"def broken(:\n") == b"def broken(:\n"  # compared as it is
