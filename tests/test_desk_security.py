"""The desk's defences over a real server: login on every URL, cookies, CSRF, login throttle,
ids that try to leave the content folder, the Content-Security-Policy, roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest

from csrnews.desk.users import UserStore
from tests.test_desk_support import (
    ADMIN,
    EDITOR,
    PASSWORD,
    Client,
    Desk,
    config_for,
    cookie_header,
    desk_server,
    raw_request,
    small_content,
)

SAMPLE_ARGS = {"story_id": "2018/audit-forum-in-shenzhen", "name": "2018"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    base = tmp_path_factory.mktemp("desk-security")
    content = small_content(base)
    (content / "top10" / "2018.yaml").write_text(
        "year: 2018\ntitle: Top 10 of 2018\nstatus: draft\nentries: []\n", encoding="utf-8"
    )
    with desk_server(config_for(base, content)) as server:
        yield server


def _desk_urls(desk: Desk) -> list[tuple[str, str]]:
    """(method, URL) for every route of the desk app, with sample arguments."""
    urls = []
    for rule in desk.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = "/desk" + rule.rule
        for arg in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{arg}>", SAMPLE_ARGS[arg], path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    return urls


def test_every_desk_url_answers_only_with_a_session(desk: Desk) -> None:
    urls = _desk_urls(desk)
    assert len(urls) >= 20
    client = Client(desk.url)
    for method, path in urls:
        if path == "/desk/login":
            continue
        answer = client.request(method, path, data={} if method == "POST" else None)
        if method == "GET":
            assert answer.status == 302, (method, path, answer.status)
            assert answer.location.startswith("/desk/login?next="), answer.location
        else:
            assert answer.status in (401, 403), (method, path, answer.status)
        assert "Audit forum" not in answer.text
    for path in ("/desk/no-such-page", "/desk/", "/desk/story/..%2F..%2Fetc%2Fpasswd"):
        answer = client.get(path)
        assert answer.status == 302 and "/desk/login" in answer.location, path
    assert client.get("/desk/static/desk.css").status == 200  # not a page: the login page's style


def test_logging_in_gives_a_signed_httponly_strict_cookie_for_the_desk_only(desk: Desk) -> None:
    client = Client(desk.url)
    answer = client.login()
    assert answer.status == 302 and answer.location == "/desk/"
    cookie = answer.header("Set-Cookie")
    assert "csrnews_desk=" in cookie
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/desk"):
        assert flag in cookie, cookie
    assert "Secure" not in cookie  # plain HTTP here; see the proxy test
    assert client.get("/desk/").status == 200
    forged = Client(desk.url)
    value = next(c.value for c in client.jar)
    forged.opener.addheaders = [("Cookie", "csrnews_desk=" + value[:-3] + "abc")]
    assert forged.get("/desk/").status == 302  # a cookie whose signature does not match


def test_a_post_without_a_valid_csrf_token_is_refused(desk: Desk) -> None:
    story = desk.config.content / "news" / "2018" / "audit-forum-in-shenzhen.md"
    before = story.read_bytes()
    client = Client(desk.url)
    client.login()
    page = client.get("/desk/story/2018/audit-forum-in-shenzhen")
    form = {
        k: v
        for k, v in re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', page.text)
        if k in ("base",)
    }
    values = {**form, "title": "Forged", "category": "other", "body": "x"}
    assert client.post("/desk/story/2018/audit-forum-in-shenzhen", values).status == 400
    other = Client(desk.url)
    other.login(ADMIN)
    foreign = re.search(r'<meta name="csrf-token" content="([^"]+)"', other.get("/desk/").text)
    assert foreign
    stolen = {**values, "csrf_token": foreign.group(1)}  # a real token, of another session
    assert client.post("/desk/story/2018/audit-forum-in-shenzhen", stolen).status == 400
    preview = client.post(
        "/desk/preview", b'{"title": "x"}', headers={"Content-Type": "application/json"}
    )
    assert preview.status == 400
    rebuild = client.post("/desk/rebuild", {})
    assert rebuild.status == 400 and "Nothing was changed" in rebuild.text
    assert story.read_bytes() == before


def test_ten_wrong_passwords_in_a_row_are_slowed_down(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    with desk_server(config_for(tmp_path, content)) as server:
        client = Client(server.url)
        statuses, waits = [], []
        for _ in range(10):
            answer = client.login(EDITOR, "not the password")
            statuses.append(answer.status)
            waits.append(int(answer.header("Retry-After") or 0))
        assert statuses[:3] == [401, 401, 401]
        assert 429 in statuses[3:], statuses
        assert statuses.count(429) >= 5, statuses
        assert "Too many failed attempts" in answer.text
        right = client.login(EDITOR, PASSWORD)
        assert right.status == 429 and int(right.header("Retry-After")) >= 1  # even when right
        assert client.get("/desk/").status == 302
        other_user = Client(server.url).login(ADMIN, PASSWORD)
        assert other_user.status == 429  # the same address is slowed down too


@pytest.mark.parametrize(
    "path",
    [
        "/desk/story/../../etc/passwd",
        "/desk/story/..%2F..%2F..%2Fetc%2Fpasswd",
        "/desk/story/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/desk/story/2018/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/desk/history/..%2F..%2Fetc%2Fpasswd",
        "/desk/story//etc/passwd",
        "/desk/top10/..%2F..%2F..%2Fetc%2Fpasswd",
        "/desk/top10/..%2Fweights",
    ],
)
def test_ids_that_try_to_leave_the_content_folder_are_refused(desk: Desk, path: str) -> None:
    client = Client(desk.url)
    client.login()
    status, text = raw_request(desk.url, "GET", path, cookie_header(client))
    if status == 308:  # Werkzeug merges "//" first; where it points is refused as well
        location = re.search(r'href="([^"]+)"', text)
        assert location and location.group(1).startswith(desk.url + "/desk/"), text
        target = location.group(1)[len(desk.url) :]
        status, text = raw_request(desk.url, "GET", target, cookie_header(client))
    assert status == 404, (path, status)
    assert "root:" not in text


def test_posted_ids_outside_the_content_folder_are_refused(desk: Desk) -> None:
    client = Client(desk.url)
    client.login()
    page = client.get("/desk/top10/2018")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    base = re.search(r'name="base" type="hidden" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/desk/top10/2018/add",
        {"csrf_token": token, "base": base, "slug": "../../etc/passwd", "reason": "r"},
    )
    assert answer.status == 400  # the list's page again, the typed reason kept in its form
    assert "not found in the archive" in answer.text and "root:" not in answer.text
    status, _ = raw_request(
        desk.url, "POST", "/desk/restore/..%2F..%2Fetc%2Fpasswd", cookie_header(client)
    )
    assert status in (400, 404)


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.inputs: list[dict[str, str]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and not a.get("src") and a.get("type") != "application/json":
            self.problems.append("inline script")
        if tag == "style":
            self.problems.append("style element")
        for name in a:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append(a)


def test_every_page_has_a_strict_csp_and_nothing_inline_and_labels_for_its_fields(
    desk: Desk,
) -> None:
    client = Client(desk.url)
    login = client.get("/desk/login")
    client.login(ADMIN)
    pages = [
        "/desk/",
        "/desk/?q=audit&lang=en&sort=title",
        "/desk/story/2018/zh-0a1b2c3d4e",
        "/desk/history/2018/zh-0a1b2c3d4e",
        "/desk/new",
        "/desk/top10/",
        "/desk/top10/2018",
        "/desk/top10/2018/history",
        "/desk/rebuild",
        "/desk/users",
    ]
    answers = [login, *(client.get(p) for p in pages)]
    for path, answer in zip(["/desk/login", *pages], answers, strict=True):
        assert answer.status == 200, path
        csp = answer.header("Content-Security-Policy")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert answer.header("X-Frame-Options") == "DENY"
        assert answer.header("Cache-Control") == "no-store"
        finder = _InlineFinder()
        finder.feed(answer.text)
        assert finder.problems == [], (path, finder.problems)
        for field in finder.inputs:
            labelled = field.get("id") in finder.labels or field.get("aria-label")
            assert labelled, (path, field)


def test_the_users_page_is_for_admins(desk: Desk) -> None:
    editor, admin = Client(desk.url), Client(desk.url)
    editor.login(EDITOR)
    admin.login(ADMIN)
    assert editor.get("/desk/users").status == 403
    page = admin.get("/desk/users")
    assert page.status == 200 and EDITOR in page.text and "$argon2" not in page.text


def test_removing_a_user_or_changing_the_password_ends_their_sessions(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    with desk_server(config_for(tmp_path, content)) as server:
        client = Client(server.url)
        client.login(EDITOR)
        assert client.get("/desk/").status == 200
        store = UserStore(server.config.users_file)
        store.add(EDITOR, "a brand new password", "editor", replace=True)
        assert client.get("/desk/").status == 302
        client.login(EDITOR, "a brand new password")
        assert client.get("/desk/").status == 200
        store.remove(EDITOR)
        assert client.get("/desk/").status == 302


def test_after_login_only_a_desk_address_is_followed(desk: Desk) -> None:
    client = Client(desk.url)
    for target, expected in (
        ("/desk/top10/", "/desk/top10/"),
        ("https://evil.example/", "/desk/"),
        ("//evil.example/desk/", "/desk/"),
        ("/elsewhere", "/desk/"),
    ):
        page = client.get("/desk/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token
        answer = client.post(
            "/desk/login?" + urlencode({"next": target}),
            {"csrf_token": token.group(1), "username": EDITOR, "password": PASSWORD},
        )
        assert answer.status == 302 and answer.location == expected, (target, answer.location)


def test_a_story_file_that_is_not_text_gets_a_clear_page_not_a_traceback(desk: Desk) -> None:
    bad = desk.config.content / "news" / "2019" / "latin1-story.md"
    bad.write_bytes("Title: Caf\xe9 forum\nDate: 2019-01-01\n\nText.\n".encode("latin-1"))
    desk.service.catalogue.invalidate()
    try:
        client = Client(desk.url)
        client.login()
        assert client.get("/desk/").status == 200  # the list leaves it out
        page = client.get("/desk/story/2019/latin1-story")
        assert page.status == 422 and "not UTF-8 text" in page.text
        assert "Traceback" not in page.text
    finally:
        bad.unlink()
        desk.service.catalogue.invalidate()
