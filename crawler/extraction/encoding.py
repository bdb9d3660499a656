"""Decode page bytes to Unicode by evidence: a byte order mark, valid UTF-8, then the declared
and likely encodings scored by how much of the page each decodes cleanly and plausibly."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

logger = logging.getLogger(__name__)

# Tried after the declared ones. GB18030 is a superset of GBK and GB2312, Big5-HKSCS of Big5,
# cp1252 of ISO-8859-1.
GUESSES = ("utf-8", "gb18030", "big5hkscs", "cp1252")
# Labels that w3lib does not know but pages use.
ALIASES = {"x-gbk": "gbk", "x-gb2312": "gb2312", "x-big5": "big5", "cn-gb": "gb2312"}
CHINESE = frozenset({"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "hz"})
SAMPLE_BYTES = 200_000  # bytes scored per candidate; the rest only counts decoding errors
SAMPLE_CHARS = 4000  # non-ASCII characters scored per candidate
# A declared encoding that decodes the page keeps it unless another candidate scores this much
# better (a share of the best score, at least MARGIN_MIN points).
MARGIN_SHARE = 0.25
MARGIN_MIN = 4.0


def _common_han() -> frozenset[str]:
    """The Han characters of everyday Chinese: GB2312's first level (3,755 characters, simplified)
    and Big5's frequently used block (5,401, traditional). Mojibake yields mostly other ones."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


COMMON_HAN = _common_han()
_HEADER_LABEL_RE = re.compile(r"(?i)charset\s*=\s*[\"']?([^\s;\"']+)")
_META_LABEL_RE = re.compile(rb"(?i)(?:charset|encoding)\s*=\s*[\"']?([\w.:-]+)")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# A UTF-8 lead byte and a continuation byte read as cp1252/Latin-1: "Ã©" for "é", "â€™" for "’".
_UTF8_AS_LATIN_RE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
    "\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2022\u2026\u2030\u2039"
    "\u203a\u20ac\u2122]"
)


@dataclass
class Decoded:
    """A page's text, the encoding it was read with, and why that one."""

    text: str
    encoding: str
    reason: str


def _label(name: str | None) -> str | None:
    """A Python codec name for a charset label, or None for an unknown label."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    return resolve_encoding(ALIASES.get(name, name))


def _char_score(char: str, chinese: bool) -> float:
    if char == "\ufffd":
        return -10.0
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return 2.0 if char in COMMON_HAN else -1.0
    if 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F:
        return 1.0  # CJK, fullwidth and general punctuation
    if 0x3040 <= code <= 0x31BF or 0xAC00 <= code <= 0xD7AF:
        return -3.0 if chinese else 1.0  # kana, bopomofo, hangul: Big5 read as GB, and so on
    if 0xE000 <= code <= 0xF8FF or 0x2500 <= code <= 0x259F or 0x80 <= code <= 0x9F:
        return -3.0  # private use, box drawing, C1 controls
    if char.isalpha():
        return 1.0
    category = unicodedata.category(char)
    return 0.5 if category[0] in "PNS" and category != "Co" else -1.0


def plausibility(text: str, encoding: str) -> float:
    """How much a decoding looks like real text, judged on its non-ASCII characters (ASCII reads
    the same in every candidate): common Han, letters and punctuation count for it; rare Han,
    replacement characters, private-use characters, UTF-8 read as Latin-1 and long runs of
    accented letters (Chinese read as Latin-1) against it."""
    chinese = encoding in CHINESE
    score, seen = 0.0, 0
    for match in _NON_ASCII_RE.finditer(text):
        run = match.group()
        if len(run) == 1 and _HAN_RE.match(run):
            before, after = (
                text[match.start() - 1 : match.start()],
                text[match.end() : match.end() + 1],
            )
            if before.isalpha() and after.isalpha():
                score -= 2.0  # "K?chen": one Han character inside a Latin word is a misread umlaut
                seen += 1
                continue
        score -= 4.0 * len(_UTF8_AS_LATIN_RE.findall(run))
        latin = 0
        for char in run:
            if "\u00c0" <= char <= "\u024f" and char.isalpha():
                latin += 1
                score += 1.0 if latin <= 2 else -1.0
            else:
                score += _char_score(char, chinese)
        seen += len(run)
        if seen >= SAMPLE_CHARS:
            break
    return score


def _candidates(body: bytes, content_type: str | None) -> list[tuple[str, str, str]]:
    """(encoding, label, where it came from) in the order of evidence, without repeats."""
    found: list[tuple[str, str, str]] = []
    header = _HEADER_LABEL_RE.search(content_type or "")
    if header and _label(header.group(1)):
        found.append((_label(header.group(1)) or "", header.group(1).lower(), "the HTTP header"))
    elif header:
        logger.debug("unknown charset in %r; ignoring it", content_type)
    meta = html_body_declared_encoding(body[:8192])  # w3lib knows where pages declare it
    if meta:
        label = _META_LABEL_RE.search(body[:8192])
        name = label.group(1).decode("ascii", "replace").lower() if label else meta
        found.append((meta, name, "the page"))
    found.extend((guess, guess, "") for guess in GUESSES)
    unique: dict[str, tuple[str, str, str]] = {}
    for item in found:
        unique.setdefault(item[0], item)
    return list(unique.values())


def decode_page(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode page bytes, saying which encoding was used and why."""
    bom, mark = read_bom(body)
    if bom and mark:
        return Decoded(body[len(mark) :].decode(bom, "replace"), bom, "byte order mark")
    candidates = _candidates(body, content_type)
    declared = [c for c in candidates if c[2]]
    claim = f"{declared[0][2]} declares {declared[0][1]}" if declared else ""
    if body.isascii():
        return Decoded(body.decode("ascii"), declared[0][0] if declared else "utf-8", "ASCII only")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared and declared[0][0] != "utf-8":
            return Decoded(text, "utf-8", f"valid UTF-8, though {claim}")
        return Decoded(text, "utf-8", f"valid UTF-8{', as ' + claim if declared else ''}")
    sample = body[:SAMPLE_BYTES]
    scored = []
    for encoding, _name, source in candidates:
        try:
            text = body.decode(encoding, "replace")
        except LookupError:
            continue
        errors = text.count("\ufffd")
        score = plausibility(sample.decode(encoding, "replace"), encoding) - 10.0 * errors
        scored.append((score, encoding, source, errors, text))
    best = max(scored, key=lambda c: c[0])
    margin = max(MARGIN_MIN, MARGIN_SHARE * abs(best[0]))
    for candidate in scored:  # the declared ones, in the order of evidence
        if candidate[2] and candidate[0] >= best[0] - margin:
            best = candidate
            break
    score, encoding, source, errors, text = best
    if source and source != declared[0][2]:
        reason = f"declared in {source}, though {claim}"
    elif source:
        reason = f"declared in {source}"
    elif declared:
        reason = f"{encoding} reads best, though {claim}"
    else:
        reason = f"not declared; {encoding} reads best"
    if errors:  # a replacement character tells a reader nothing: they go
        text = text.replace("\ufffd", "")
        reason += f"; {errors} undecodable byte sequence{'s' if errors > 1 else ''} dropped"
    logger.debug("encoding %s: %s (score %.0f)", encoding, reason, score)
    return Decoded(text, encoding, reason)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) for page bytes and the Content-Type header, if any."""
    decoded = decode_page(body, content_type)
    return decoded.text, decoded.encoding
