"""The desk against real builds: the preview is the site's HTML, a rebuild publishes a nightly
release (`csrnews nightly --no-crawl`), and a failed rebuild leaves the live site alone."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from csrnews.desk.preview import Previewer
from csrnews.nightly.release import Releases
from csrnews.story.storyfile import read_story
from tests.conftest import run_cli
from tests.test_desk_support import (
    Client,
    DeskSite,
    config_for,
    desk_server,
    shared_desk_site,
    small_content,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> DeskSite:
    return shared_desk_site(demo_site, tmp_path_factory)


def _story_body_html(page: str) -> str:
    start = page.index('<div class="story-body">') + len('<div class="story-body">')
    end = page.index("</div>", start)
    inner = page[start:end]
    assert "<div" not in inner
    return inner


def test_the_preview_is_exactly_the_html_of_the_built_page(site: DeskSite, tmp_path: Path) -> None:
    previewer = Previewer(tmp_path)
    checked = 0
    for path in sorted((site.content / "news" / "2018").glob("*.md")):
        story = read_story(path)
        page = site.output / "news" / "2018" / story.slug / "index.html"
        built = _story_body_html(page.read_text(encoding="utf-8"))
        assert previewer.render(story)["body_html"] == built, path.name
        checked += 1
    assert checked >= 8


def _rebuild(client: Client, desk: Any) -> dict[str, Any]:
    page = client.get("/desk/rebuild")
    assert client.submit(page, "/desk/rebuild").status == 302
    desk.service.rebuilder.wait(300)
    return json.loads(client.get("/desk/rebuild/status").text)


def test_with_a_nightly_root_a_rebuild_publishes_a_release(site: DeskSite, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(site.content, content)
    root = tmp_path / "nightly"
    first = run_cli("nightly", "--no-crawl", "--root", str(root), "--content", str(content))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "rebuilt without a crawl" in (
        root / "current" / "site" / "status" / "status.json"
    ).read_text(encoding="utf-8")
    releases = Releases(root)
    live_before = releases.current()
    config = config_for(
        tmp_path,
        content,
        output=root / "current" / "site",
        index=root / "current" / "index",
        root=root,
    )
    with desk_server(config) as desk:
        assert desk.service.rebuilder.mode() == "release"
        client = Client(desk.url)
        client.login()
        story_id = "2018/northbridge-retail-publishes-first-supplier-sustainability-report"
        page = client.get(f"/desk/story/{story_id}")
        client.submit(page, f"/desk/story/{story_id}", title="Northbridge's first supplier report")
        assert "Northbridge&#39;s first supplier report" in client.get("/desk/rebuild").text
        status = _rebuild(client, desk)
        assert status["state"] == "ok", status
        assert any("csrnews nightly" in line for line in status["lines"])
        assert releases.current() != live_before and releases.previous() == live_before
        public = client.get(f"/news/{story_id}/")
        assert public.status == 200 and "Northbridge&#39;s first supplier report" in public.text
        assert client.get("/status/").status == 200  # the release has its status page
        report = json.loads((root / "reports" / "latest.json").read_text(encoding="utf-8"))
        assert report["outcome"] == "ok" and report["sources"] == {}
        assert "Nothing: every change made on the desk is live." in client.get("/desk/rebuild").text


def test_a_rebuild_publishes_new_and_hidden_stories_and_a_failed_one_changes_nothing(
    tmp_path: Path,
) -> None:
    content = small_content(tmp_path)
    build = run_cli(
        "build", "--content", str(content), "--output", str(tmp_path / "output"),
        "--index", str(tmp_path / "index"), "--quiet",
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "output" / "news" / "2018" / "audit-forum-in-shenzhen").is_dir()
    with desk_server(config_for(tmp_path, content)) as desk:
        client = Client(desk.url)
        client.login()
        new = client.submit(
            client.get("/desk/new"),
            "/desk/new",
            title="Our own note",
            date="2019-06-01",
            lang="en",
            category="other",
            body="Written on the desk.",
        )
        assert new.location.endswith("/desk/story/2019/our-own-note")
        page = client.get("/desk/story/2018/audit-forum-in-shenzhen")
        client.submit(page, "/desk/visibility/2018/audit-forum-in-shenzhen", action="hide")
        assert client.get("/news/2018/audit-forum-in-shenzhen/").status == 200  # not yet
        assert _rebuild(client, desk)["state"] == "ok"
        assert "Written on the desk." in client.get("/news/2019/our-own-note/").text
        started, _ = desk.service.rebuilder.start("editor1")
        again, why = desk.service.rebuilder.start("chief")  # one at a time
        assert started and not again and "already running" in why
        desk.service.rebuilder.wait(120)
        assert client.get("/news/2018/audit-forum-in-shenzhen/").status == 404  # hidden now
        home = (tmp_path / "output" / "index.html").read_bytes()
        # A story the site cannot read is left out, named, and the rest goes live.
        broken = content / "news" / "2019" / "broken.md"
        broken.write_text("Title: Broken\nDate: the day after tomorrow\n\nText.\n", "utf-8")
        status = _rebuild(client, desk)
        assert status["state"] == "ok", status
        assert any("broken.md" in line for line in status["lines"]), status
        assert "Written on the desk." in client.get("/news/2019/our-own-note/").text
        home = (tmp_path / "output" / "index.html").read_bytes()
        # A top-10 list that cannot be read stops the build: the live site stays as it was.
        broken.unlink()
        lists = content / "top10"
        lists.mkdir(exist_ok=True)
        (lists / "2019.yaml").write_text("year: 2019\nstatus: published\nentries: [\n", "utf-8")
        status = _rebuild(client, desk)
        assert status["state"] == "failed", status
        assert "the live site was left as it was" in status["summary"]
        page = client.get("/desk/rebuild")
        assert re.search(r"state-failed", page.text)
    assert (tmp_path / "output" / "index.html").read_bytes() == home
