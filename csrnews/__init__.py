"""csrnews: crawl CSR news, normalise it into Markdown story files and build a searchable site."""

from __future__ import annotations

__version__ = "0.1.0"
