"""Turn one fetched page into a clean story: title, date, language, Markdown and plain text."""

from __future__ import annotations

from csrnews.crawler.extraction.page import Extracted, extract_page

__all__ = ["Extracted", "extract_page"]
