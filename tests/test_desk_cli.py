"""`csrnews desk user …` and `csrnews serve --desk` as an operator runs them."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from csrnews.cli import main
from csrnews.desk.users import UserStore
from tests.conftest import ROOT, run_cli
from tests.ports import wait_listening
from tests.test_desk_support import Client, small_content


def _cli(*args: str, stdin: str = "") -> object:
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.mark.slow
def test_desk_users_are_added_listed_and_removed(tmp_path: Path) -> None:
    desk_dir = tmp_path / "desk"
    added = _cli(
        "desk", "user", "add", "mei", "--role", "admin", "--password-stdin",
        "--desk-dir", str(desk_dir), stdin="a long password\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Added admin mei." in added.output
    assert stat.S_IMODE(desk_dir.stat().st_mode) == 0o700
    prompted = _cli(
        "desk", "user", "add", "tom", "--desk-dir", str(desk_dir),
        stdin="another password\nanother password\n",
    )  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    listed = _cli("desk", "user", "list", "--desk-dir", str(desk_dir))
    assert listed.exit_code == 0
    assert [line.split("\t")[:2] for line in listed.output.splitlines()[:2]] == [
        ["mei", "admin"],
        ["tom", "editor"],
    ]
    assert UserStore(desk_dir / "users.json").verify("tom", "another password")
    short = _cli(
        "desk", "user", "add", "ann", "--password-stdin", "--desk-dir", str(desk_dir),
        stdin="short\n",
    )  # fmt: skip
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    again = _cli(
        "desk", "user", "add", "tom", "--password-stdin", "--desk-dir", str(desk_dir),
        stdin="a third password\n",
    )  # fmt: skip
    assert again.exit_code == 1 and "--replace" in again.output
    removed = _cli("desk", "user", "remove", "tom", "--desk-dir", str(desk_dir))
    assert removed.exit_code == 0 and "Removed tom." in removed.output
    missing = _cli("desk", "user", "remove", "tom", "--desk-dir", str(desk_dir))
    assert missing.exit_code == 1 and "no user 'tom'" in missing.output


def test_serve_refuses_a_desk_folder_inside_the_site(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    result = run_cli(
        "serve", "--desk", "--content", str(content), "--output", str(tmp_path / "output"),
        "--index", str(tmp_path / "index"), "--desk-dir", str(tmp_path / "output" / "desk"),
        "--port", "0", timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "must not be inside the site" in result.stderr


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    """`csrnews serve --desk` with two worker processes behind a trusted proxy address."""
    content = small_content(tmp_path)
    desk_dir = tmp_path / "desk"
    UserStore(desk_dir / "users.json").add("mei", "a long password", "editor")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "csrnews", "serve", "--desk", "--content", str(content),
            "--output", str(tmp_path / "output"), "--index", str(tmp_path / "index"),
            "--desk-dir", str(desk_dir), "--root", str(tmp_path / "nightly"),
            "--port", "0", "--workers", "2", "--trust-proxy", "127.0.0.1", "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{wait_listening(proc, 60)}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/desk/login", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {proc.stderr.read()}") from None
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stderr.close()  # type: ignore[union-attr]


@pytest.mark.slow
def test_serve_desk_with_workers_behind_an_https_proxy(served: str) -> None:
    over_https = Client(served).get("/desk/login", headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" in over_https.header("Set-Cookie")
    plain = Client(served).get("/desk/login")
    assert plain.status == 200 and "Secure" not in plain.header("Set-Cookie")
    client = Client(served)
    assert client.login("mei", "a long password").status == 302
    # Every worker accepts the session: they share the key made once before they started.
    assert {client.get("/desk/").status for _ in range(12)} == {200}
    assert client.get("/").status in (200, 404)  # the public site is still served beside it


def test_the_deploy_examples_put_the_desk_behind_https() -> None:
    unit = (ROOT / "deploy" / "systemd" / "csrnews-desk.service").read_text(encoding="utf-8")
    nginx = (ROOT / "deploy" / "nginx" / "csrnews-desk.conf").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in nginx.splitlines())
    assert code.count("{") == code.count("}")
    port = re.search(r"--port (\d+)", unit)
    assert port and f"proxy_pass http://127.0.0.1:{port.group(1)};" in code
    assert "--desk" in unit and "--trust-proxy 127.0.0.1" in unit
    assert "listen 443 ssl;" in code and "return 301 https://" in code
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in code


def test_the_wsgi_entry_point_mounts_the_desk_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from werkzeug.test import Client as WsgiClient

    from csrnews.desk.wsgi import app_from_env

    content = small_content(tmp_path)
    for name, value in {
        "CSRNEWS_CONTENT": content,
        "CSRNEWS_OUTPUT": tmp_path / "output",
        "CSRNEWS_INDEX": tmp_path / "index",
        "CSRNEWS_DESK_DIR": tmp_path / "desk",
        "CSRNEWS_ROOT": tmp_path / "nightly",
    }.items():
        monkeypatch.setenv(name, str(value))
    client = WsgiClient(app_from_env())
    answer = client.get("/desk/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/desk/login")
    assert (tmp_path / "desk" / "secret.key").is_file()
