"""A JSON cache file stamped with the code that wrote it: read back only by the same code."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from csrnews.story.atomicfile import replacing

logger = logging.getLogger(__name__)


def load_cache(path: Path | None, stamp: tuple[str, object], field: str) -> dict[str, Any]:
    """The dict under ``field`` of the cache at ``path``; empty when there is no file, it is not
    JSON, or its stamp (key, value) is not this code's: the caller then does all the work."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    key, value = stamp
    if not isinstance(data, dict) or data.get(key) != value:
        return {}
    found = data.get(field)
    return found if isinstance(found, dict) else {}


def save_cache(
    path: Path | None, stamp: tuple[str, object], field: str, value: dict[str, Any], what: str
) -> None:
    """Write the cache atomically (a temporary file, then a rename); a failure is a warning
    naming ``what`` (the next run redoes the work), never an error."""
    if path is None:
        return
    try:
        data = {stamp[0]: stamp[1], field: value}
        with replacing(path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, ensure_ascii=False))
    except OSError as exc:
        logger.warning("cannot save %s %s: %s", what, path, exc)
