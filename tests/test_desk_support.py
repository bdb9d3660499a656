"""Support for the editors' desk tests (no tests here): stories, a desk on a real server, a
cookie-keeping HTTP client, form parsing, and the demo site shared by the desk's slow tests."""

from __future__ import annotations

import http.client
import http.cookiejar
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from csrnews.desk import DeskConfig, create_app
from csrnews.desk.users import UserStore
from csrnews.story.storyfile import Story, render_story, story_path, write_text_atomic
from csrnews.story.vocabulary import event_type_label

EDITOR, ADMIN = "editor1", "chief"
PASSWORD = "desk password one"


def crawled_story(
    content: Path,
    year: int,
    slug: str,
    title: str,
    *,
    lang: str = "en",
    category: str = "report",
    body: str = "",
    **meta: str,
) -> Path:
    """A story file as the crawler writes it (with a matching Fingerprint)."""
    story = Story()
    story.set("Title", title)
    story.set("Date", meta.pop("date", f"{year}-05-06"))
    story.set("Slug", slug)
    story.set("Lang", lang)
    story.set("Summary", meta.pop("summary", f"The summary of {title}."))
    story.set("Category", event_type_label(category))
    for key, value in meta.items():
        story.set(key.capitalize(), value)
    story.set("Source", meta.get("source", "Test Wire"))
    story.set("Source_url", f"https://wire.example/{slug}")
    story.set("Crawled", meta.get("crawled", f"{year}-05-07T08:00:00+00:00"))
    story.body = body or f"The first paragraph of {title}.\n\nA second paragraph."
    path = story_path(content, year, slug)
    write_text_atomic(path, render_story(story))
    return path


def small_content(base: Path) -> Path:
    """A content folder with a few stories in English and Chinese, one hidden."""
    content = base / "content"
    crawled_story(
        content, 2018, "audit-forum-in-shenzhen", "Audit forum in Shenzhen", category="summit"
    )
    crawled_story(
        content,
        2018,
        "zh-0a1b2c3d4e",
        "深圳举办供应链审核论坛",
        lang="zh",
        category="summit",
        body="本刊讯 供应链审核论坛在深圳举行。\n\n与会企业讨论了审核结果互认。",
    )
    crawled_story(content, 2019, "supplier-report-2019", "Supplier report 2019", category="report")
    crawled_story(
        content, 2019, "hidden-story", "A hidden story", category="other", status="hidden"
    )
    (content / "top10").mkdir(parents=True, exist_ok=True)
    return content


_USERS: dict[str, str] = {}


def make_users(desk_dir: Path) -> None:
    """An editor and an admin (hashed once a session: argon2 is slow on purpose)."""
    target = desk_dir / "users.json"
    if "text" not in _USERS:
        store = UserStore(target)
        store.add(EDITOR, PASSWORD, "editor")
        store.add(ADMIN, PASSWORD, "admin")
        _USERS["text"] = target.read_text(encoding="utf-8")
    else:
        write_text_atomic(target, _USERS["text"])


@dataclass
class Desk:
    """A desk served with the public site on a real waitress server."""

    url: str
    config: DeskConfig
    app: Any  # the Flask app

    @property
    def service(self) -> Any:
        return self.app.extensions["csrnews_desk"]


@contextmanager
def desk_server(config: DeskConfig, users: bool = True) -> Iterator[Desk]:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from csrnews.serve.wsgi import make_app

    config.desk_dir.mkdir(parents=True, exist_ok=True)
    if users and not config.users_file.exists():
        make_users(config.desk_dir)
    app = create_app(config)
    site = make_app(config.output, config.index)
    with _server(DispatcherMiddleware(site, {"/desk": app})) as url:
        yield Desk(url, config, app)


@contextmanager
def _server(app: Any) -> Iterator[str]:
    """A real waitress server in a thread; on exit every connection is closed as well."""
    import threading

    import waitress.server

    server = waitress.server.create_server(
        app, host="127.0.0.1", port=0, threads=6, asyncore_loop_timeout=0.1
    )
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.task_dispatcher.shutdown(timeout=5)
        for channel in list(server._map.values()):  # connections still open, then the listener
            if channel is not server:
                channel.close()
        server.close()
        thread.join(timeout=5)


def config_for(base: Path, content: Path, **kwargs: Any) -> DeskConfig:
    return DeskConfig(
        content=content,
        output=kwargs.pop("output", base / "output"),
        index=kwargs.pop("index", base / "index"),
        desk_dir=kwargs.pop("desk_dir", base / "desk"),
        root=kwargs.pop("root", base / "nightly"),
        **kwargs,
    )


# An HTTP client that keeps cookies and does not follow redirects.
@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""

    @property
    def location(self) -> str:
        return self.header("Location")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """One browser-less session against a desk."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        body = None
        all_headers = dict(headers or {})
        if isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode()
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(data, bytes):
            body = data
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=all_headers
        )
        try:
            with self.opener.open(req, timeout=60) as response:
                return Answer(response.status, response.headers, response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, exc.headers, exc.read().decode("utf-8", "replace"))

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | bytes | None = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, data, **kwargs)

    def login(self, user: str = EDITOR, password: str = PASSWORD) -> Answer:
        page = self.get("/desk/login")
        form = forms(page.text)[0]
        answer = self.post("/desk/login", {**form.values, "username": user, "password": password})
        return answer

    def submit(self, page: Answer, action_part: str, **changes: Any) -> Answer:
        """Submit the form of a page whose action contains ``action_part``."""
        form = find_form(page.text, action_part)
        return self.post(form.action, {**form.values, **changes})


def raw_request(base: str, method: str, path: str, cookie: str = "") -> tuple[int, str]:
    """A request whose path is sent exactly as given (no client-side normalising)."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if cookie:
            conn.putheader("Cookie", cookie)
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def cookie_header(client: Client) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.jar)


# Forms on a page.
@dataclass
class Form:
    action: str
    method: str
    values: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1].values.setdefault(a["name"], a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1].values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1].values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea and self.forms:
            text = "".join(self._text).replace("\r\n", "\n")  # as a browser reads it
            self.forms[-1].values[self._textarea] = text[1:] if text.startswith("\n") else text
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(html: str, action_part: str) -> Form:
    found = [f for f in forms(html) if action_part in f.action]
    assert found, f"no form with action containing {action_part!r}"
    return found[0]


# The demo site crawled and built once, copied once for the desk's slow tests.
@dataclass
class DeskSite:
    base: Path
    content: Path
    output: Path
    index: Path
    state: Path
    sources: Path

    def config(self, **kwargs: Any) -> DeskConfig:
        return config_for(self.base, self.content, output=self.output, index=self.index, **kwargs)


_SHARED: dict[str, DeskSite] = {}


def shared_desk_site(demo_site: Any, tmp_path_factory: Any) -> DeskSite:
    """A copy of the session's demo site (content, site, index, crawl state, sources) that the
    desk's slow tests share and change; made once per session."""
    if "site" not in _SHARED:
        base = tmp_path_factory.mktemp("desk-site")
        source = Path(demo_site.content).parent
        for name in ("content", "output", "index", "var", ".pelican-cache"):
            if (source / name).exists():
                shutil.copytree(source / name, base / name, symlinks=True)
        shutil.copy2(source / "sources.yaml", base / "sources.yaml")
        _SHARED["site"] = DeskSite(
            base,
            base / "content",
            base / "output",
            base / "index",
            base / "var",
            base / "sources.yaml",
        )
    return _SHARED["site"]
