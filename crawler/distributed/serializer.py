"""JSON for requests in the Redis frontier (scrapy-redis's SCHEDULER_SERIALIZER), not pickle.

scrapy-redis pickles requests by default; whoever can write to Redis could then run code in
every worker. JSON cannot. Bytes (bodies, header names and values) are tagged base64 strings;
mappings whose keys are not all strings (headers) are tagged lists of pairs.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "__b64__"
_PAIRS = "__pairs__"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _BYTES not in value and _PAIRS not in value:
            return {k: _encode(v) for k, v in value.items()}
        return {_PAIRS: [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} into the Redis frontier: {value!r:.80}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        if set(value) == {_PAIRS}:
            return {_decode(k): _decode(v) for k, v in value[_PAIRS]}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(obj: Any) -> bytes:
    """A request dict (Request.to_dict) as compact JSON bytes."""
    return json.dumps(_encode(obj), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """The request dict back from dumps()."""
    return _decode(json.loads(data))
