"""The `csrnews extract` command."""

from __future__ import annotations

import json
from typing import Any

import click

from csrnews import console


def _fetch(url: str) -> tuple[bytes, str | None]:
    import urllib.request

    from csrnews.crawler import settings

    request = urllib.request.Request(url, headers={"User-Agent": settings.USER_AGENT})
    with urllib.request.urlopen(request, timeout=settings.DOWNLOAD_TIMEOUT) as response:
        return response.read(settings.DOWNLOAD_MAXSIZE), response.headers.get("Content-Type")


def extract_one(target: str, url: str | None) -> dict[str, Any]:
    """Extract and enrich one file or URL into the JSON fields `csrnews extract` prints."""
    from pathlib import Path

    from csrnews.crawler.extraction import extract_page
    from csrnews.crawler.pipelines.enrich import run_enrich

    if target.startswith(("http://", "https://")):
        body, content_type = _fetch(target)
        page_url: str | None = url or target
    else:
        body, content_type = Path(target).read_bytes(), None
        page_url = url
    ex = extract_page(body, page_url, content_type=content_type)
    en = run_enrich(ex.title, ex.text, ex.lang, ex.date)
    return {
        "source": target,
        "url": page_url,
        "title": ex.title,
        "date": ex.date,
        "lang": ex.lang,
        "encoding": ex.encoding,
        "encoding_reason": ex.encoding_reason,
        "extraction": ex.extraction,
        "text": ex.text,
        "markdown": ex.markdown,
        "category": en.category,
        "category_evidence": en.category_evidence,
        "tags": en.tags,
        "organisations": en.organisations,
        "standards": en.standards,
        "locations": en.locations,
        "event_date": en.event_date.isoformat() if en.event_date else None,
        "top10_items": en.top10_items,
    }


@click.command("extract")
@click.argument("targets", nargs=-1, required=True, metavar="FILE|URL...")
@click.option("--url", help="The URL a local FILE was fetched from (for dates and links).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per page.")
def extract(targets: tuple[str, ...], url: str | None, as_json: bool) -> None:
    """Show how pages would be normalised (title, date, text, markdown, event type, ...)."""
    failures = 0
    for target in targets:
        try:
            result = extract_one(target, url)
        except Exception as exc:  # one bad page must not stop the rest
            failures += 1
            if as_json:
                click.echo(
                    json.dumps(
                        {"source": target, "error": f"{type(exc).__name__}: {exc}"},
                        ensure_ascii=False,
                    )
                )
            else:
                console.error(f"{target}: {exc}")
            continue
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, default=str))
            continue
        click.echo(f"== {target}")
        for key in (
            "title",
            "date",
            "lang",
            "encoding",
            "url",
            "category",
            "tags",
            "organisations",
            "standards",
            "locations",
            "event_date",
        ):
            value = result[key]
            if key == "encoding" and value and result["encoding_reason"]:
                value = f"{value} ({result['encoding_reason']})"
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            click.echo(f"{key + ':':15} {value or '-'}")
        for item in result["top10_items"]:
            click.echo(f"  top-10 #{item.get('rank')}: {item.get('headline')}")
        click.echo("")
        click.echo(result["markdown"])
        click.echo("")
    if failures == len(targets):
        raise SystemExit(1)
