"""Near-duplicate bodies: word (Chinese: character) shingles, MinHash signatures, an LSH index.

A signature is a one-permutation MinHash (Li, Owen and Zhang 2012) with optimal densification
(Shrivastava 2017): every shingle is hashed once to 64 bits; the hash picks one of
``MINHASH_PERMUTATIONS`` bins and the rest of it is the value the bin keeps the minimum of; an
empty bin borrows the minimum of the first non-empty bin along a fixed probe order. As with the
k-permutation MinHash it replaces, two signatures agree in a given position with probability
equal to the Jaccard similarity of the shingle sets, and `similarity` is the share of equal
positions; but a page costs one hash per shingle instead of 128 multiplications per shingle.

`SignatureIndex` finds the stored signature most similar to a new one without comparing it with
every stored signature: the positions are cut into bands, and a stored signature is a candidate
only if it equals the new one on a whole band. With more bands than the mismatches a pair at the
threshold can have (floor(k * (1 - threshold)) + 1 bands), every pair at or above the threshold
shares a band (pigeonhole), so the index finds exactly what comparing with every signature finds.
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import sys
from array import array
from collections.abc import Iterable, Iterator, MutableMapping, Sequence

from csrnews.crawler import settings

_TOKEN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)
_MASK32 = (1 << 32) - 1
_EMPTY = 1 << 32  # larger than any 32-bit value: the bin saw no shingle
BINS = settings.MINHASH_PERMUTATIONS
SCHEME = f"oph{BINS}-blake2b64-w{settings.SHINGLE_SIZE}-v1"  # stored signatures are of this kind


def tokens(text: str) -> list[str]:
    """Lower-case words, each Chinese character a token of its own."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]


def shingles(text: str, size: int = settings.SHINGLE_SIZE) -> set[int]:
    """64-bit hashes of every run of `size` tokens."""
    toks = tokens(text)
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    if len(toks) < size:
        if not toks:
            return set()
        runs: Iterable[str] = (" ".join(toks),)
    else:
        runs = (" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1))
    return {from_bytes(blake2b(run.encode(), digest_size=8).digest(), "little") for run in runs}


def _probe_orders(bins: int) -> list[list[int]]:
    """For each bin, the order in which an empty bin looks for a non-empty one (fixed forever)."""
    orders = []
    for i in range(bins):
        keyed = sorted(
            (hashlib.blake2b(f"csrnews-oph-{i}-{j}".encode(), digest_size=8).digest(), j)
            for j in range(bins)
            if j != i
        )
        orders.append([j for _, j in keyed])
    return orders


_PROBES = _probe_orders(BINS)


def signature(text: str) -> list[int]:
    """A MinHash signature of a text's shingles: BINS 32-bit values (empty for an empty text)."""
    values = shingles(text)
    if not values:
        return []
    bins = BINS
    mins = [_EMPTY] * bins
    for value in values:
        rest, slot = divmod(value, bins)
        rest &= _MASK32
        if rest < mins[slot]:
            mins[slot] = rest
    if _EMPTY in mins:
        filled = list(mins)
        for i, value in enumerate(mins):
            if value == _EMPTY:
                filled[i] = next(mins[j] for j in _PROBES[i] if mins[j] != _EMPTY)
        mins = filled
    return mins


def similarity(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures: the share of positions that agree."""
    if not sig_a or not sig_b or len(sig_a) != len(sig_b):
        return 0.0
    return sum(map(operator.eq, sig_a, sig_b)) / len(sig_a)


def jaccard(text_a: str, text_b: str) -> float:
    """Exact shingle similarity of two texts."""
    a, b = shingles(text_a), shingles(text_b)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def pack(sig: Sequence[int]) -> bytes:
    """A signature as bytes (little-endian 32-bit values), as the crawl state stores it."""
    values = array("I", sig)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def unpack(data: bytes) -> array[int]:
    """The signature `pack` wrote."""
    values = array("I")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def band_slices(bins: int, threshold: float) -> list[tuple[int, int]]:
    """Byte ranges of the bands: one more band than the mismatches a pair at `threshold` has."""
    mismatches = math.floor(bins * (1 - threshold) + 1e-9)
    count = max(1, min(bins, mismatches + 1))
    size, extra = divmod(bins, count)
    slices, start = [], 0
    for band in range(count):
        end = start + size + (1 if band < extra else 0)
        slices.append((start * 4, end * 4))
        start = end
    return slices


class SignatureIndex(MutableMapping[str, Sequence[int]]):
    """Story path -> signature, with LSH buckets to find near-duplicates without a full scan.

    Iterates in insertion order, like the dict it replaces; `best_match` breaks ties the way a
    scan in that order would (the first stored of the equally similar signatures wins).
    """

    def __init__(
        self,
        items: Iterable[tuple[str, Sequence[int]]] = (),
        *,
        threshold: float = settings.DUPLICATE_THRESHOLD,
    ) -> None:
        self.threshold = threshold
        self._slices = band_slices(BINS, threshold)
        self._sigs: dict[str, array[int]] = {}
        self._order: dict[str, int] = {}
        self._next = 0
        self._buckets: list[dict[int, str | list[str]]] = [{} for _ in self._slices]
        for path, sig in items:
            self[path] = sig

    def __len__(self) -> int:
        return len(self._sigs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sigs)

    def __contains__(self, path: object) -> bool:
        return path in self._sigs

    def __getitem__(self, path: str) -> array[int]:
        return self._sigs[path]

    def __setitem__(self, path: str, sig: Sequence[int]) -> None:
        if path in self._sigs:
            self._unfile(path)
        else:
            self._order[path] = self._next
            self._next += 1
        values = sig if isinstance(sig, array) and sig.typecode == "I" else array("I", sig)
        self._sigs[path] = values
        if len(values) == BINS:
            for bucket, key in zip(self._buckets, self._keys(values), strict=True):
                held = bucket.get(key)
                if held is None:
                    bucket[key] = path
                elif isinstance(held, str):
                    bucket[key] = [held, path]
                else:
                    held.append(path)

    def __delitem__(self, path: str) -> None:
        self._unfile(path)
        del self._sigs[path]
        del self._order[path]

    def _keys(self, values: array[int]) -> list[int]:
        raw = values.tobytes()
        return [hash(raw[start:end]) for start, end in self._slices]

    def _unfile(self, path: str) -> None:
        values = self._sigs[path]
        if len(values) != BINS:
            return
        for bucket, key in zip(self._buckets, self._keys(values), strict=True):
            held = bucket.get(key)
            if held == path:
                del bucket[key]
            elif isinstance(held, list) and path in held:
                held.remove(path)
                if len(held) == 1:
                    bucket[key] = held[0]

    def candidates(self, sig: Sequence[int]) -> list[str]:
        """Stored paths that equal `sig` on at least one band, in insertion order."""
        if len(sig) != BINS:
            return []
        found: set[str] = set()
        values = sig if isinstance(sig, array) and sig.typecode == "I" else array("I", sig)
        for bucket, key in zip(self._buckets, self._keys(values), strict=True):
            held = bucket.get(key)
            if held is None:
                continue
            if isinstance(held, str):
                found.add(held)
            else:
                found.update(held)
        return sorted(found, key=self._order.__getitem__)

    def best_match(self, sig: Sequence[int], threshold: float) -> tuple[str | None, float]:
        """The most similar stored signature at or above `threshold` and its similarity.

        (None, 0.0) when none is. Only the candidates sharing a band are compared, unless the
        threshold is below the one the bands were cut for: then every signature is.
        """
        if not sig:
            return None, 0.0
        others = self.candidates(sig) if threshold >= self.threshold else list(self._sigs)
        best, best_sim = None, 0.0
        for path in others:
            sim = similarity(sig, self._sigs[path])
            if sim > best_sim:
                best, best_sim = path, sim
        if best is None or best_sim < threshold:
            return None, 0.0
        return best, best_sim
