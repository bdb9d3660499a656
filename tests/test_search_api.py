"""The WSGI app on a real waitress server: /api/search, errors, static files, hostile queries."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from csrnews.search import update_index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csrnews.serve.wsgi import make_app
from tests.conftest import wsgi_server
from tests.test_search_index import STORIES, _write


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A waitress server on a free port serving a tiny site and an index of the test stories."""
    base = tmp_path_factory.mktemp("api")
    content, output, index = base / "content", base / "output", base / "index"
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    (output / "news").mkdir(parents=True)
    (output / "index.html").write_text("<!doctype html><title>home</title>", encoding="utf-8")
    (output / "news" / "index.html").write_text("<title>news</title>", encoding="utf-8")
    (output / "404.html").write_text("<title>not found</title>", encoding="utf-8")
    (base / "secret.txt").write_text("secret", encoding="utf-8")
    with wsgi_server(make_app(output, index)) as url:
        yield url


def _get(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


def test_api_answers_the_design_shape(site: str) -> None:
    status, headers, body = _get(f"{site}/api/search?q=forum&org=amfori")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    answer = json.loads(body)
    assert set(answer) >= {"query", "total", "page", "hits", "facets", "suggestion"}
    assert answer["hits"][0]["url"] == "/news/2017/shenzhen-forum/"


@pytest.mark.parametrize(
    "params",
    [
        "page=abc",
        "page=0",
        "per_page=1000",
        "sort=sideways",
        "year=twenty",
        "colour=red",
        "q=a&q=b",
        "from=yesterday",
        "q=" + "x" * 600,
    ],
)
def test_malformed_parameters_get_400_json(site: str, params: str) -> None:
    status, _headers, body = _get(f"{site}/api/search?{params}")
    assert status == 400, params
    assert "error" in json.loads(body)


def test_query_markup_comes_back_as_json_text(site: str) -> None:
    q = urllib.parse.quote("<script>alert(1)</script> wages")
    status, _, body = _get(f"{site}/api/search?q={q}")
    assert status == 200
    assert b"<script>alert(1)</script>" not in body.replace(b"\\u003c", b"<").split(b'"query"')[0]
    answer = json.loads(body)
    for hit in answer["hits"]:
        assert "<script" not in hit["snippet"] and "onerror" not in hit["snippet"]


def test_static_files_directories_and_404(site: str) -> None:
    assert _get(f"{site}/")[0] == 200
    status, _, body = _get(f"{site}/news/")
    assert status == 200 and b"news" in body
    status, _, body = _get(f"{site}/nowhere/")
    assert status == 404 and b"not found" in body
    for evil in ("/../secret.txt", "/%2e%2e/secret.txt", "/news/..%2f..%2fsecret.txt"):
        status, _, body = _get(site + evil)
        assert status == 404 and b"secret" not in body, evil


def test_conditional_get_on_static_files(site: str) -> None:
    _, headers, _ = _get(f"{site}/")
    request = urllib.request.Request(f"{site}/", headers={"If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 304
    err.value.close()


def test_a_new_index_is_picked_up_without_restart(tmp_path: Path) -> None:
    content, index = tmp_path / "content", tmp_path / "index"
    _write(content, STORIES[0])
    update_index(content, index)
    app = make_app(tmp_path, index)

    def call(q: str) -> dict:
        captured: dict[str, str] = {}

        def start_response(status: str, headers: list) -> None:
            captured["status"] = status

        body = b"".join(
            app(
                {"PATH_INFO": "/api/search", "QUERY_STRING": f"q={q}", "REQUEST_METHOD": "GET"},
                start_response,
            )
        )
        return json.loads(body)

    assert call("memorandum")["total"] == 0
    _write(content, STORIES[4])
    update_index(content, index)
    assert call("memorandum")["total"] == 1


QUERY_CHARS = st.sampled_from(
    [
        *'abcdeforumISO26000企业社会责任"*?~^:()[]{}<>/\\-+!&|',
        " AND ",
        " OR ",
        " NOT ",
        "org:",
        "type:",
        "year:",
        "TO",
        "\x00",
        "%",
        "'",
        "\u202e",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(QUERY_CHARS, max_size=25).map("".join)))
def test_hostile_queries_never_500_or_hang(site: str, q: str) -> None:
    started = time.monotonic()
    status, _, body = _get(f"{site}/api/search?q={urllib.parse.quote(q)}")
    elapsed = time.monotonic() - started
    assert status in (200, 400), (q, status, body[:200])
    assert elapsed < 2.0, (q, elapsed)
    json.loads(body)
