"""Per-source health across runs, and the status page written into each published site."""

from __future__ import annotations

import calendar
import html
import json
import os
import time
from pathlib import Path
from typing import Any

HISTORY_FILE = "nightly-history.json"
STALE_AFTER_HOURS = 72.0  # a source with no success for this long is "stale"


def iso(moment: float | None) -> str | None:
    """UTC ISO 8601 with a Z, or None."""
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def _parse_iso(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return float(calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to a temporary file and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load_history(state_dir: str | Path) -> dict[str, Any]:
    """The run history kept in the state folder ({} the first time or when unreadable)."""
    try:
        data = json.loads((Path(state_dir) / HISTORY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"sources": {}}
    if not isinstance(data, dict):
        return {"sources": {}}
    data.setdefault("sources", {})
    return data


def save_history(state_dir: str | Path, history: dict[str, Any]) -> None:
    write_json_atomic(Path(state_dir) / HISTORY_FILE, history)


def record_crawl(history: dict[str, Any], sources: dict[str, dict[str, Any]], now: float) -> None:
    """Fold one crawl's per-source results into the history."""
    known = history.setdefault("sources", {})
    for name in list(known):
        if name not in sources:
            del known[name]  # no longer in sources.yaml
    for name, src in sources.items():
        entry = known.setdefault(name, {"last_success": None, "consecutive_failures": 0})
        entry["last_attempt"] = iso(now)
        entry["last_status"] = src.get("status", "failed")
        if entry["last_status"] == "ok":
            entry["last_success"] = iso(now)
            entry["consecutive_failures"] = 0
            entry["last_errors"] = []
        else:
            entry["consecutive_failures"] = int(entry.get("consecutive_failures", 0)) + 1
            entry["last_errors"] = [str(e) for e in src.get("errors", [])][:5]


def status_document(
    history: dict[str, Any],
    *,
    run_id: str,
    outcome: str,
    now: float,
    stories_total: int,
    stale_after_hours: float = STALE_AFTER_HOURS,
    quarantined: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The status.json of a site: the last runs, the health of each source, files left out."""
    rows = []
    for name, entry in sorted(history.get("sources", {}).items()):
        last = _parse_iso(entry.get("last_success"))
        stale = last is None or now - last > stale_after_hours * 3600
        rows.append(
            {
                "name": name,
                "status": entry.get("last_status", "unknown"),
                "last_success": entry.get("last_success"),
                "last_attempt": entry.get("last_attempt"),
                "consecutive_failures": int(entry.get("consecutive_failures", 0)),
                "stale": stale,
                "errors": entry.get("last_errors", []),
            }
        )
    return {
        "generated_at": iso(now),
        "run_id": run_id,
        "outcome": outcome,
        "last_successful_run": history.get("last_successful_run"),
        "stories_total": stories_total,
        "stale_after_hours": stale_after_hours,
        "sources": rows,
        "quarantined": [
            {"path": str(q.get("path", "")), "reason": str(q.get("reason", ""))}
            for q in quarantined or []
        ],
    }


_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;
border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f4f4}
.ok{color:#17662c}.failed,.stale{color:#a11;font-weight:bold}small{color:#666}
h2{font-size:1.15rem;margin-top:2rem}
"""


def render_status_html(doc: dict[str, Any]) -> str:
    """A page of its own (no script, no resource but status.css beside it), values escaped.

    The style sheet is a file, not an inline ``<style>``, so the page satisfies the site's
    Content-Security-Policy (``style-src 'self'``).
    """

    def e(value: object) -> str:
        return html.escape("" if value is None else str(value))

    last = doc.get("last_successful_run") or {}
    rows = []
    for src in doc["sources"]:
        status_class = "ok" if src["status"] == "ok" else "failed"
        problems = "<br>".join(e(x) for x in src.get("errors", []))
        rows.append(
            f'<tr><td>{e(src["name"])}</td><td class="{status_class}">{e(src["status"])}</td>'
            f"<td>{e(src['last_success'] or 'never')}</td>"
            f"<td>{e(src['consecutive_failures'])}</td>"
            f'<td class="{"stale" if src["stale"] else "ok"}">'
            f"{'stale' if src['stale'] else 'fresh'}</td>"
            f"<td><small>{problems}</small></td></tr>"
        )
    broken = [s["name"] for s in doc["sources"] if s["status"] != "ok" or s["stale"]]
    left_out = doc.get("quarantined") or []
    headline = (
        "Every source is healthy."
        if not broken
        else "Needs attention: " + ", ".join(e(n) for n in broken) + "."
    )
    if left_out:
        headline += (
            f" {len(left_out)} story file{'s' if len(left_out) != 1 else ''} left out of the "
            "site and the search (see below)."
        )
    quarantine_rows = "\n".join(
        f'<tr><td><code>{e(q["path"])}</code></td><td class="failed">{e(q["reason"])}</td></tr>'
        for q in left_out
    )
    quarantine_table = (
        '<h2 id="left-out">Story files left out</h2>\n'
        "<p>These files could not be read or break the story file format; every other story "
        "was published. Fix a file and the next build publishes it.</p>\n"
        "<table><thead><tr><th>file (in the content folder)</th><th>why</th></tr></thead>\n"
        f"<tbody>\n{quarantine_rows}\n</tbody></table>\n"
        if left_out
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Site status</title><link rel="stylesheet" href="status.css">
<link rel="icon" href="data:,"></head>
<body><h1>Site status</h1>
<p>{headline}</p>
<p>This build: run {e(doc["run_id"])}, {e(doc["outcome"])}, at {e(doc["generated_at"])};
{e(doc["stories_total"])} stories in total.<br>
Last fully successful run: {e(last.get("finished_at", "none yet"))}
{f"(run {e(last['run_id'])})" if last.get("run_id") else ""}.</p>
<table><thead><tr><th>source</th><th>last run</th><th>last success</th>
<th>consecutive failures</th><th>fresh or stale (&gt; {e(doc["stale_after_hours"])} h)</th>
<th>problems</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{quarantine_table}<p><small>Machine-readable: <a href="status.json">status.json</a>.</small></p>
</body></html>
"""


def write_status_page(site_dir: str | Path, doc: dict[str, Any]) -> Path:
    """Write status/index.html, status.css and status.json into a built site; returns the folder."""
    folder = Path(site_dir) / "status"
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "status.json", doc)
    (folder / "status.css").write_text(_CSS.lstrip(), encoding="utf-8")
    (folder / "index.html").write_text(render_status_html(doc), encoding="utf-8")
    return folder
