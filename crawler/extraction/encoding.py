"""Decode page bytes to Unicode: HTTP header, then <meta>, then a careful guess (UTF-8, GB18030)."""

from __future__ import annotations

import logging
import re

from w3lib.encoding import html_to_unicode, resolve_encoding

logger = logging.getLogger(__name__)

# Tried in order when a page declares nothing. GB18030 is a superset of GBK and GB2312.
GUESSES = ("utf-8", "gb18030", "big5", "cp1252")
# Labels pages use for encodings whose real-world content is wider than the label.
WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs"}


_UNLIKELY_RE = re.compile(r"[\u3040-\u31bf\uac00-\ud7af\ue000-\uf8ff\ufffd]")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")


def _plausibility(text: str) -> int:
    """Han characters minus a penalty for kana, bopomofo, hangul and private-use characters.

    GB18030 decodes almost any bytes, so Big5 read as GB gives kana and private-use characters.
    """
    return len(_HAN_RE.findall(text)) - 5 * len(_UNLIKELY_RE.findall(text))


def _guess(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for enc in GUESSES[1:]:
        try:
            candidates.append((_plausibility(data.decode(enc)), enc))
        except UnicodeDecodeError:
            continue
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], -GUESSES.index(c[1])))[1]


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) for page bytes and the Content-Type header, if any."""
    charset = _header_charset(content_type)
    if charset:
        charset = WIDER.get(charset.lower(), charset)
        if resolve_encoding(charset) is None:
            logger.debug("unknown charset %r in header; ignoring it", charset)
            charset = None
    header = f"charset={charset}" if charset else None
    encoding, text = html_to_unicode(header, body, auto_detect_fun=_guess)
    if encoding in ("gbk", "gb2312", "gb18030", "big5", "big5hkscs") and "\ufffd" in text:
        # A declared GBK page with GB18030-only characters: decode with the superset.
        wider = WIDER.get(encoding, encoding)
        try:
            text = body.decode(wider)
            encoding = wider
        except UnicodeDecodeError:
            pass
    return text, encoding
