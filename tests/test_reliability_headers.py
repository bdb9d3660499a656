"""Security headers, gzip and CORS: the WSGI app on waitress, `csrnews serve`, and real nginx.

Every response (pages, the API, errors, redirects, 304s) carries the same security headers;
text is gzipped for clients that accept it; the API sends Access-Control-Allow-Origin only to
the origins an operator allows. The nginx example in deploy/ is run for real (when nginx is
installed) and must send the same.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from csrnews.search import update_index

from csrnews.serve.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from csrnews.serve.wsgi import app_from_env, make_app
from tests.conftest import ROOT, wsgi_server
from tests.ports import start_on_a_free_port
from tests.test_search_index import STORIES, _write
from tests.test_serve_workers import Server, Site

PAGE = "<!doctype html><title>home</title><main>" + "A page about supplier audits. " * 80


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    base = tmp_path_factory.mktemp("headers")
    content, output, index = base / "content", base / "output", base / "index"
    for row in STORIES:
        _write(content, row)
    update_index(content, index)
    (output / "news").mkdir(parents=True)
    (output / "index.html").write_text(PAGE, encoding="utf-8")
    (output / "news" / "index.html").write_text(PAGE, encoding="utf-8")
    (output / "404.html").write_text(PAGE.replace("home", "not found"), encoding="utf-8")
    (output / "small.txt").write_text("tiny", encoding="utf-8")
    (output / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    (output / "status").mkdir()
    (output / "status" / "index.html").write_text(PAGE, encoding="utf-8")
    (output / ".csrnews-manifest.json").write_text("{}", encoding="utf-8")
    return Site(output, index)


def request(
    base: str, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _has_security_headers(headers: http.client.HTTPMessage, where: str) -> None:
    for name, value in SECURITY_HEADERS:
        got = headers.get_all(name) or []
        assert got == [value], f"{where}: {name} = {got}"


@pytest.fixture(scope="module")
def app_url(site: Site) -> Iterator[str]:
    with wsgi_server(make_app(site.output, site.index, allow_origins=())) as url:
        yield url


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("HEAD", "/", 200),
        ("GET", "/news", 301),
        ("GET", "/nowhere/", 404),
        ("GET", "/api/search?q=forum", 200),
        ("GET", "/api/search?page=zero", 400),
        ("POST", "/api/search", 405),
        ("POST", "/", 405),
        ("GET", "/small.txt", 200),
        ("GET", "/logo.png", 200),
        ("GET", "/%2e%2e/%2e%2e/etc/passwd", 404),
    ],
)
def test_every_response_has_the_security_headers(
    app_url: str, method: str, path: str, status: int
) -> None:
    code, headers, _ = request(app_url, path, method=method)
    assert code == status
    _has_security_headers(headers, f"{method} {path}")
    assert headers["Access-Control-Allow-Origin"] is None  # same origin only, by default


def test_the_csp_forbids_inline_script_and_framing() -> None:
    policy = dict(
        part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";") if part.strip()
    )
    # 'wasm-unsafe-eval' compiles WebAssembly (the static search); no JavaScript eval
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


def test_a_304_and_a_503_have_them_too(app_url: str, tmp_path: Path) -> None:
    _, headers, _ = request(app_url, "/")
    code, not_modified, _ = request(app_url, "/", headers={"If-None-Match": headers["ETag"]})
    assert code == 304
    _has_security_headers(not_modified, "304")
    with wsgi_server(make_app(tmp_path, tmp_path / "no-index")) as url:
        code, headers, body = request(url, "/api/search?q=x")
        assert code == 503 and "error" in json.loads(body)
        _has_security_headers(headers, "503")


def test_text_is_gzipped_for_clients_that_accept_it(app_url: str, site: Site) -> None:
    plain = (site.output / "index.html").read_bytes()
    code, headers, body = request(app_url, "/", headers={"Accept-Encoding": "gzip, deflate"})
    assert code == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain and len(body) < len(plain) // 3
    assert int(headers["Content-Length"]) == len(body)
    assert "Accept-Encoding" in headers["Vary"]
    etag = headers["ETag"]
    assert etag.endswith('-gz"')
    code, again, _ = request(
        app_url, "/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert code == 304 and again["ETag"] == etag
    # HEAD: the headers of GET, no body.
    code, head, body = request(app_url, "/", method="HEAD", headers={"Accept-Encoding": "gzip"})
    assert code == 200 and body == b"" and head["Content-Encoding"] == "gzip"
    assert head["Content-Length"] == headers["Content-Length"]
    # Not asked for, refused (q=0), too small, or not text: sent as it is.
    for extra, path in (
        ({}, "/"),
        ({"Accept-Encoding": "gzip;q=0, identity"}, "/"),
        ({"Accept-Encoding": "gzip"}, "/small.txt"),
        ({"Accept-Encoding": "gzip"}, "/logo.png"),
    ):
        code, headers, body = request(app_url, path, headers=extra)
        assert code == 200 and headers["Content-Encoding"] is None, (extra, path)
    # The API's JSON too, when it is long enough.
    code, headers, body = request(
        app_url, "/api/search?q=&per_page=50", headers={"Accept-Encoding": "gzip"}
    )
    assert code == 200 and headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["total"] == len(STORIES)


def test_cors_is_for_the_origins_an_operator_allows(site: Site) -> None:
    allowed = "https://partner.example"
    with wsgi_server(make_app(site.output, site.index, allow_origins=[allowed])) as url:
        _, headers, _ = request(url, "/api/search?q=forum", headers={"Origin": allowed})
        assert headers["Access-Control-Allow-Origin"] == allowed
        assert "Origin" in headers["Vary"]
        _, headers, _ = request(url, "/api/search?q=forum", headers={"Origin": "https://x.example"})
        assert headers["Access-Control-Allow-Origin"] is None
        _, headers, _ = request(url, "/", headers={"Origin": allowed})
        assert headers["Access-Control-Allow-Origin"] is None  # pages are not the API
    # the environment, read by the entry point for other WSGI servers as `csrnews serve` does
    env = {
        "CSRNEWS_API_ALLOW_ORIGIN": "*",
        "CSRNEWS_OUTPUT": str(site.output),
        "CSRNEWS_INDEX": str(site.index),
    }
    with wsgi_server(app_from_env(env)) as url:
        _, headers, _ = request(url, "/api/search?q=forum")
        assert headers["Access-Control-Allow-Origin"] == "*"


def test_csrnews_serve_sends_them(site: Site, tmp_path: Path) -> None:
    server = Server(site, tmp_path, "--workers", "2")
    try:
        server.wait_up()
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/", "/api/search?q=forum", "/nowhere/", "/status/"):
            _, headers, body = request(base, path, headers={"Accept-Encoding": "gzip"})
            _has_security_headers(headers, f"serve {path}")
            if path != "/api/search?q=forum" or len(body) > 512:
                assert headers["Content-Encoding"] == "gzip", path
    finally:
        server.stop()


# --- the nginx example, run for real --------------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.fixture()
def nginx(site: Site, tmp_path: Path) -> Iterator[str]:
    """deploy/nginx/csrnews.conf, its paths and ports pointed at this test, under real nginx."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light); example not run")
    prefix = tmp_path / "nginx"
    for sub in ("logs", "tmp", "snippets"):
        (prefix / sub).mkdir(parents=True)
    shutil.copy(ROOT / "deploy/nginx/csrnews-headers.conf", prefix / "snippets")
    api = wsgi_server(make_app(site.output, site.index), threads=2)
    api_url = api.__enter__()
    template = (ROOT / "deploy/nginx/csrnews.conf").read_text(encoding="utf-8")
    temp = "".join(
        f"{kind}_temp_path {prefix}/tmp/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = (
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\ninclude /etc/nginx/mime.types;\naccess_log off;\n{temp}"
        f"include {prefix}/csrnews.conf;\n}}\n"
    )
    (prefix / "nginx.conf").write_text(main, encoding="utf-8")
    argv = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    stderr = prefix / "logs" / "stderr.log"

    def start(port: int) -> subprocess.Popen[bytes]:
        server = (
            template.replace("listen 80;", f"listen 127.0.0.1:{port};")
            .replace("/srv/csrnews/var/site/current/site", str(site.output))
            .replace("http://127.0.0.1:8000", api_url)
            .replace("include snippets/", f"include {prefix}/snippets/")
        )
        (prefix / "csrnews.conf").write_text(server, encoding="utf-8")
        checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        with stderr.open("wb") as err:
            return subprocess.Popen([*argv, "-g", "daemon off;"], stderr=err)

    # nginx cannot be told port 0: a free port, and another if it was taken in between
    proc, port = start_on_a_free_port(start, lambda _proc: stderr.read_text(errors="replace"))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                request(url, "/")
                break
            except OSError:
                assert proc.poll() is None, stderr.read_text(errors="replace")
                time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        api.__exit__(None, None, None)


def test_the_nginx_example_sends_the_same_headers_and_gzip(nginx: str) -> None:
    for path in ("/", "/status/", "/nowhere/", "/api/search?q=forum", "/.csrnews-manifest.json"):
        code, headers, body = request(nginx, path, headers={"Accept-Encoding": "gzip"})
        assert code in (200, 404), (path, code)
        _has_security_headers(headers, f"nginx {path}")  # once each, also where proxied
        if path == "/status/":
            assert headers["Cache-Control"] == "no-cache"
    code, headers, body = request(nginx, "/", headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body).startswith(b"<!doctype")
    code, headers, body = request(
        nginx, "/api/search?q=&per_page=50", headers={"Accept-Encoding": "gzip"}
    )
    assert code == 200 and headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["total"] >= 1
    assert request(nginx, "/.csrnews-manifest.json")[0] == 404
