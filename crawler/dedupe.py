"""Near-duplicate bodies: word (Chinese: character) shingles and MinHash signatures."""

from __future__ import annotations

import hashlib
import re
import struct

from crawler import settings

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TOKEN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)
_MERSENNE = (1 << 61) - 1
_MAX = (1 << 32) - 1


def tokens(text: str) -> list[str]:
    """Lower-case words, each Chinese character a token of its own."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]


def shingles(text: str, size: int = settings.SHINGLE_SIZE) -> set[int]:
    """32-bit hashes of every run of `size` tokens."""
    toks = tokens(text)
    if len(toks) < size:
        return {_hash(" ".join(toks))} if toks else set()
    return {_hash(" ".join(toks[i : i + size])) for i in range(len(toks) - size + 1)}


def _hash(value: str) -> int:
    return struct.unpack("<I", hashlib.blake2b(value.encode(), digest_size=4).digest())[0]


def _coefficients(count: int) -> list[tuple[int, int]]:
    out = []
    for i in range(count):
        digest = hashlib.sha256(f"minhash-{i}".encode()).digest()
        a, b = struct.unpack("<QQ", digest[:16])
        out.append((a % _MERSENNE or 1, b % _MERSENNE))
    return out


_COEFFS = _coefficients(settings.MINHASH_PERMUTATIONS)


def signature(text: str) -> list[int]:
    """A MinHash signature of a text's shingles (empty for an empty text)."""
    values = shingles(text)
    if not values:
        return []
    return [min(((a * v + b) % _MERSENNE) & _MAX for v in values) for a, b in _COEFFS]


def similarity(sig_a: list[int], sig_b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures."""
    if not sig_a or not sig_b or len(sig_a) != len(sig_b):
        return 0.0
    return sum(x == y for x, y in zip(sig_a, sig_b, strict=True)) / len(sig_a)


def jaccard(text_a: str, text_b: str) -> float:
    """Exact shingle similarity of two texts."""
    a, b = shingles(text_a), shingles(text_b)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
