"""What the site plugin hands the top-10 templates: page URLs, resolved links, JSON-LD."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from csrnews.story.urls import story_url
from csrnews.top10.archive import ArchivedStory
from csrnews.top10.model import Top10List

INDEX_URL = "/top10/"


def list_url(lst: Top10List) -> str:
    """The site-relative URL of a list's page: /top10/2018/ (or /top10/2018-electronics/)."""
    return f"{INDEX_URL}{lst.name}/"


def _link(ref: str, archive: Mapping[str, ArchivedStory]) -> dict[str, Any]:
    story = archive.get(ref)
    if story is not None:
        return {"title": story.title, "url": story_url(story.year, ref), "external": False}
    host = urlsplit(ref).netloc or ref
    return {"title": host, "url": ref, "external": True}


def item_list_jsonld(
    lst: Top10List, archive: Mapping[str, ArchivedStory], siteurl: str = ""
) -> dict[str, Any]:
    """schema.org ItemList of the entries, each a ListItem at its position."""
    items = []
    for entry in sorted(lst.entries, key=lambda e: e.rank):
        item: dict[str, Any] = {"@type": "ListItem", "position": entry.rank, "name": entry.headline}
        target = entry.stories[0] if entry.stories else entry.url
        if target:
            link = _link(target, archive)["url"]
            item["url"] = link if link.startswith("http") else siteurl.rstrip("/") + link
        if entry.account:
            item["description"] = entry.account
        items.append(item)
    return {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": lst.title,
        "description": lst.introduction,
        "url": siteurl.rstrip("/") + list_url(lst),
        "numberOfItems": len(items),
        "itemListOrder": "https://schema.org/ItemListOrderAscending",
        "itemListElement": items,
    }


def jsonld_script_text(data: dict[str, Any]) -> str:
    """JSON for a <script type="application/ld+json"> element (no "</" can close it)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def list_context(
    lst: Top10List, archive: Mapping[str, ArchivedStory], siteurl: str = ""
) -> dict[str, Any]:
    """One list as plain data for the templates (top10.html's `top10`, top10_index's items)."""
    entries = []
    for entry in sorted(lst.entries, key=lambda e: e.rank):
        links = [_link(slug, archive) for slug in entry.stories]
        if entry.url:
            links.append(_link(entry.url, archive))
        entries.append(
            {
                "rank": entry.rank,
                "headline": entry.headline,
                "account": entry.account,
                "reason": entry.reason,
                "links": links,
                "related": [_link(ref, archive) for ref in entry.related],
            }
        )
    return {
        "year": lst.year,
        "name": lst.name,
        "title": lst.title,
        "status": lst.status,
        "introduction": lst.introduction,
        "region": lst.region,
        "topic": lst.topic,
        "url": list_url(lst),
        "entries": entries,
        "jsonld": jsonld_script_text(item_list_jsonld(lst, archive, siteurl)),
    }
