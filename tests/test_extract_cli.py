"""`csrnews extract`: JSON lines in the order given, an error line for a page that fails."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import run_cli
from tests.fixtures.extraction.evaluate import FIXTURES

FIELDS = {
    "title",
    "date",
    "lang",
    "text",
    "markdown",
    "category",
    "tags",
    "organisations",
    "standards",
    "locations",
    "event_date",
    "top10_items",
}


def test_json_lines_in_order_with_an_error_line(tmp_path: Any) -> None:
    files = [
        FIXTURES / "en-blog-supplier-audit.html",
        tmp_path / "missing.html",
        FIXTURES / "zh-gbk-standard.html",
    ]
    result = run_cli("extract", *map(str, files), "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["title"] == "What three years of supplier audits taught a toy maker"
    assert lines[0]["date"].startswith("2018-04-12") and lines[0]["lang"] == "en"
    assert FIELDS <= set(lines[0])
    assert "error" in lines[1] and "missing.html" in lines[1]["source"]
    assert lines[2]["lang"] == "zh" and "电子信息行业" in lines[2]["text"]
    assert isinstance(lines[2]["tags"], list)


def test_url_option_and_readable_view() -> None:
    page = FIXTURES / "en-plain-tablelayout.html"
    result = run_cli(
        "extract", str(page), "--url", "https://example.org/2015/05/18/x.html", timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "title:" in result.stdout and "Foundation funds clean water project" in result.stdout
    assert "[Home]" not in result.stdout


def test_every_target_failing_exits_non_zero(tmp_path: Any) -> None:
    result = run_cli("extract", str(tmp_path / "nope.html"), "--json", timeout=120)
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]


def test_urls_from_the_demo_publisher(demo_server: Any) -> None:
    gbk = next(s for s in demo_server.stories if s.encoding == "gbk")
    urls = [demo_server.url_for(gbk.path), demo_server.url_for("/weekly/story/nope.html")]
    result = run_cli("extract", *urls, "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["title"] == gbk.title and first["lang"] == "zh"
    assert first["date"].startswith(gbk.date.isoformat())
    assert "404" in second["error"]
