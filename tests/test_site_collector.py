"""The site build pauses Python's cyclic collector while stories load, freezes them, lets go."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
from pelican import signals

from csrnews.site.build import build_site
from csrnews.site.collector import stories_long_lived
from tests.golden_site import SAMPLES


def test_a_build_loads_stories_without_collections_and_renders_with_them_frozen(
    tmp_path: Path,
) -> None:
    seen: dict[str, Any] = {}

    def loading(generator: Any) -> None:
        seen["loading"] = (gc.isenabled(), gc.get_freeze_count())
        seen["story"] = weakref.ref(generator.articles[0])

    def rendering(_pelican: Any) -> None:
        seen["rendering"] = (gc.isenabled(), gc.get_freeze_count())

    signals.article_generator_finalized.connect(loading)
    signals.finalized.connect(rendering)
    try:
        build_site(SAMPLES, tmp_path / "out", quiet=True, incremental=False)
    finally:
        signals.article_generator_finalized.disconnect(loading)
        signals.finalized.disconnect(rendering)
    assert seen["loading"][0] is False  # no collection walks the stories as they load
    enabled, frozen = seen["rendering"]
    assert enabled and frozen > 1000  # the stories and context, out of the collector's sight
    # all given back afterwards (gc.unfreeze: also what an in-process `csrnews build` left)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.collect()
    assert seen["story"]() is None  # no module or class keeps the site past its build


def test_a_build_the_process_ends_after_leaves_its_site_frozen(tmp_path: Path) -> None:
    """The command line's build: its stories are not walked and freed at the exit."""
    seen: dict[str, Any] = {}

    def loading(generator: Any) -> None:
        seen["story"] = weakref.ref(generator.articles[0])

    before = gc.get_freeze_count()
    signals.article_generator_finalized.connect(loading)
    try:
        build_site(SAMPLES, tmp_path / "out", quiet=True, incremental=False, process_ends=True)
    finally:
        signals.article_generator_finalized.disconnect(loading)
    assert gc.isenabled() and gc.get_freeze_count() > before + 1000
    gc.collect()
    assert seen["story"]() is not None  # left frozen: a collection does not reach it
    gc.unfreeze()  # this process goes on: give it back


def test_the_collector_is_given_back_when_a_build_fails() -> None:
    @stories_long_lived
    def failing() -> None:
        signals.all_generators_finalized.send([])
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        failing()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            failing()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
