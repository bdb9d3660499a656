"""The editors' desk in Chromium, on the crawled demo site: the acceptance flows of issue 18."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csrnews.story.storyfile import is_edited, iter_story_files, read_story
from csrnews.top10.io import read_list
from tests.conftest import run_cli
from tests.test_desk_support import (
    ADMIN,
    EDITOR,
    PASSWORD,
    Desk,
    DeskSite,
    desk_server,
    shared_desk_site,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ZH_TITLE = "2017电子行业供应链社会责任论坛在深圳举行"  # from a sitemap source
FIXED_TITLE = "2017电子行业供应链社会责任论坛聚焦责任矿产"


@pytest.fixture(scope="module")
def site(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> DeskSite:
    return shared_desk_site(demo_site, tmp_path_factory)


@pytest.fixture(scope="module")
def desk(site: DeskSite) -> Iterator[Desk]:
    with desk_server(site.config()) as server:
        yield server


def _page(browser: Any, desk: Desk, user: str = EDITOR, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: dialog.accept())
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.desk_errors = errors
    page.goto(desk.url + "/desk/")
    assert "/desk/login" in page.url  # no page without login
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(desk.url + "/desk/")
    return page


def _go(page: Any, target: Any) -> None:
    """Click something that loads a page, and wait for that page (not the one before)."""
    with page.expect_navigation():
        target.click()


def _nav(page: Any, name: str) -> Any:
    return page.get_by_role("navigation", name="Desk").get_by_role("link", name=name)


def _flash(page: Any) -> str:
    return " ".join(page.locator(".messages").all_inner_texts())


def _rebuild(page: Any, desk: Desk) -> str:
    _go(page, _nav(page, "Rebuild"))
    _go(page, page.get_by_role("button", name="Rebuild now"))
    assert "Rebuild started." in _flash(page)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # what the page's script polls, with its session
        status = page.request.get(desk.url + "/desk/rebuild/status").json()
        if status["state"] != "running":
            break
        time.sleep(0.5)
    page.locator("#rebuild-state.state-ok").wait_for(timeout=15_000)  # the page reloaded itself
    state = page.locator("#rebuild-state").inner_text()
    assert "ok" in state and "Built" in state, state
    assert "Nothing: every change made on the desk is live." in page.content()
    return state


def _id_by_title(site: DeskSite, title: str) -> str:
    """A story's id: Chinese titles' slugs hash the story's URL, whose port changes each run."""
    for path in iter_story_files(site.content):
        if read_story(path).title == title:
            return path.relative_to(site.content / "news").with_suffix("").as_posix()
    raise AssertionError(f"no story titled {title!r}")


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_fix_a_chinese_story_rebuild_and_keep_the_edit_through_a_crawl(
    browser: Any, desk: Desk, site: DeskSite
) -> None:
    page = _page(browser, desk)
    page.get_by_label("Search titles and text").fill("论坛")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/desk/?q=*")
    assert page.locator("table.stories tbody tr").count() >= 2  # best match first
    assert page.locator("table.stories tbody tr a").first.inner_text() == ZH_TITLE
    page.get_by_role("link", name=ZH_TITLE).click()
    story_id = _id_by_title(site, ZH_TITLE)
    page.wait_for_url(f"**/desk/story/{story_id}")
    assert page.locator("#preview h1").inner_text() == ZH_TITLE  # the live preview
    page.get_by_label("Title").fill(FIXED_TITLE)
    page.get_by_label("Event type").select_option("training")
    page.wait_for_function(
        f"() => document.querySelector('#preview h1').textContent === {json.dumps(FIXED_TITLE)}"
    )
    assert page.locator("#preview .story-body p").count() >= 2  # the body rendered as HTML
    _go(page, page.get_by_role("button", name="Save"))
    assert "Saved: title, event type changed." in _flash(page)
    path = site.content / "news" / f"{story_id}.md"
    text = path.read_text(encoding="utf-8")
    assert is_edited(text)
    story = read_story(path)
    assert (story.title, story.get("Category")) == (FIXED_TITLE, "Training")
    _nav(page, "Rebuild").click()
    assert FIXED_TITLE in page.locator(".pending").inner_text()  # waiting to go live
    _rebuild(page, desk)

    page.goto(desk.url + f"/news/2017/{story_id.split('/')[1]}/")
    assert page.locator("h1").inner_text() == FIXED_TITLE
    assert page.locator(".facts").get_by_role("link", name="Training").count() == 1
    page.goto(desk.url + "/search/?q=" + urllib.request.quote("聚焦责任矿产"))
    page.locator("#search-results .hits").get_by_text(FIXED_TITLE).wait_for()
    answer = _get_json(desk.url + "/api/search?q=" + urllib.request.quote("聚焦责任矿产"))
    assert answer["hits"][0]["title"] == FIXED_TITLE
    assert answer["hits"][0]["category"] == "training"

    # The next crawl fetches the story again (as if its sitemap entry changed) and keeps it.
    db = sqlite3.connect(site.state / "crawl.sqlite3")
    db.execute("UPDATE stories SET entry_hash='changed' WHERE path=?", (f"news/{story_id}.md",))
    db.execute("DELETE FROM docs")  # every index page answers in full
    db.commit()
    db.close()
    report = site.base / "recrawl.json"
    crawl = run_cli(
        "crawl",
        "--sources",
        str(site.sources),
        "--content",
        str(site.content),
        "--state",
        str(site.state),
        "--delay",
        "0",
        "--report",
        str(report),
        "--quiet",
        timeout=300,
    )
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert path.read_text(encoding="utf-8") == text
    sources = json.loads(report.read_text(encoding="utf-8"))["sources"]
    assert sources["Electronics Sustainability News"]["kept"] >= 1
    assert page.desk_errors == []


def _entry_headlines(site: DeskSite, name: str = "2017") -> list[str]:
    lst = read_list(site.content / "top10" / f"{name}.yaml")
    return [e.headline for e in sorted(lst.entries, key=lambda e: e.rank)]


def test_compile_a_top10_list_from_candidates_entirely_on_the_desk(
    browser: Any, desk: Desk, site: DeskSite
) -> None:
    page = _page(browser, desk)
    _nav(page, "Top 10").click()
    page.get_by_label("Year").fill("2017")
    page.get_by_role("button", name="Start a draft list").click()
    page.wait_for_url("**/desk/top10/2017")
    for number in range(1, 11):
        add = page.locator("details.add").first
        add.locator("summary").click()
        add.get_by_label("Reason for listing").fill(f"理由 {number}: it changed practice in 2017.")
        _go(page, add.get_by_role("button", name="Add"))
        assert f"Added as No. {number}." in _flash(page)
    assert page.locator("#entries .entry").count() == 10
    assert page.locator("details.add").count() == 0  # the list is full
    order = _entry_headlines(site)
    assert len(order) == 10

    # Keyboard: the third entry up twice with the arrow key on its handle.
    page.locator("#entry-3 .handle").focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_url("**moved=2**")
    assert page.evaluate("document.activeElement.dataset.rank") == "2"  # focus follows it
    page.keyboard.press("ArrowUp")
    page.wait_for_url("**moved=1**")
    expected = [order[2], order[0], order[1], *order[3:]]
    assert _entry_headlines(site) == expected
    # The ▼ button (a plain form): No. 1 down one.
    _go(page, page.get_by_role("button", name="Move No. 1 down"))
    expected = [expected[1], expected[0], *expected[2:]]
    assert _entry_headlines(site) == expected
    # Drag: the last entry onto the top half of the first (all in view: no scrolling mid-drag).
    page.set_viewport_size({"width": 1280, "height": 2600})
    page.locator("#entry-10 .handle").drag_to(
        page.locator("#entry-1"), target_position={"x": 200, "y": 4}
    )
    page.wait_for_url("**moved=1**")
    expected = [expected[9], *expected[:9]]
    assert _entry_headlines(site) == expected

    _go(page, page.get_by_role("button", name="Validate", exact=True))
    assert "Valid: the list passes every rule" in _flash(page)
    _go(page, page.get_by_role("button", name="Publish", exact=True))
    assert "Published" in _flash(page)
    assert read_list(site.content / "top10" / "2017.yaml").published
    assert run_cli("top10", "check", "--content", str(site.content)).returncode == 0
    _rebuild(page, desk)

    page.goto(desk.url + "/top10/2017/")
    assert page.locator("h1").inner_text() == "Top 10 CSR Events of 2017"
    shown = page.locator(".top10-entries > li h2").all_inner_texts()
    assert shown == [f"No. {rank} {h}" for rank, h in enumerate(expected, start=1)]
    reasons = page.locator(".top10-reason").all_inner_texts()
    assert len(reasons) == 10 and all("it changed practice in 2017." in r for r in reasons)
    assert page.desk_errors == []


def _candidate(page: Any, slug: str) -> Any:
    return page.locator("details.add").filter(
        has=page.locator(f'input[name="slug"][value="{slug}"]')
    )


def test_two_editors_on_one_top10_list_lose_none_of_their_typed_text(
    browser: Any, desk: Desk, site: DeskSite
) -> None:
    first, second = _page(browser, desk, EDITOR), _page(browser, desk, ADMIN)
    _nav(first, "Top 10").click()
    first.get_by_label("Year").fill("2016")
    _go(first, first.get_by_role("button", name="Start a draft list"))
    slugs = first.locator("details.add input[name=slug]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert len(slugs) >= 5

    def add(page: Any, slug: str, reason: str, rank: str | None = None) -> None:
        form = _candidate(page, slug)
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        form.get_by_label("Reason for listing").fill(reason)
        if rank:
            form.get_by_label("Rank").select_option(rank)
        _go(page, form.get_by_role("button", name="Add"))

    add(first, slugs[0], "First's reason one.")
    add(first, slugs[1], "First's reason two.")
    second.goto(first.url.split("#")[0])
    add(first, slugs[2], "First's reason three.")  # the second editor's page is now stale

    # Adding from a stale page: a conflict, and the typed reason and rank wait in their form.
    add(second, slugs[3], "Second's reason, written with care.", rank="1")
    assert "changed this list since you loaded it" in _flash(second)
    kept = _candidate(second, slugs[3])
    assert kept.get_attribute("open") is not None
    assert kept.get_by_label("Reason for listing").input_value() == (
        "Second's reason, written with care."
    )
    assert kept.get_by_label("Rank").input_value() == "1"
    _go(second, kept.get_by_role("button", name="Add"))
    assert "Added as No. 1." in _flash(second)
    assert read_list(site.content / "top10" / "2016.yaml").entries[0].reason == (
        "Second's reason, written with care."
    )

    # Editing an entry that the other editor moved meanwhile: the text follows the entry.
    first.goto(second.url.split("#")[0])
    entry = second.locator("#entry-2")
    story = entry.locator("input[name=key]").input_value()
    entry.locator("details.edit-entry summary").click()
    entry.get_by_label("Reason for listing").fill("Second's better reason for No. 2.")
    _go(first, first.get_by_role("button", name="Move No. 2 up"))  # now No. 1
    _go(second, entry.get_by_role("button", name="Save No. 2"))
    assert "changed this list since you loaded it" in _flash(second)
    moved = second.locator("#entry-1")
    assert moved.locator("input[name=key]").input_value() == story
    assert moved.get_by_label("Reason for listing").input_value() == (
        "Second's better reason for No. 2."
    )
    _go(second, moved.get_by_role("button", name="Save No. 1"))
    assert "No. 1 changed." in _flash(second)
    saved = read_list(site.content / "top10" / "2016.yaml").entries
    assert [(e.stories, e.reason) for e in saved if e.rank == 1] == [
        ([story], "Second's better reason for No. 2.")
    ]

    # The candidate the second editor was adding was added by the first: shown to copy.
    first.reload()
    second.reload()
    form = _candidate(second, slugs[4])
    form.locator("summary").click()
    form.get_by_label("Reason for listing").fill("A reason nobody else wrote.")
    add(first, slugs[4], "First got there first.")
    _go(second, form.get_by_role("button", name="Add"))
    kept_box = second.get_by_role("alert").filter(has_text="What you typed (not saved)")
    assert kept_box.get_by_label("Your reason for listing").input_value() == (
        "A reason nobody else wrote."
    )
    assert first.desk_errors == []


def test_restore_an_earlier_version_of_a_story_from_its_history(
    browser: Any, desk: Desk, site: DeskSite
) -> None:
    story_id = "2019/gesi-and-cesa-roundtable-weighs-ict-sector-s-climate-role"
    path = site.content / "news" / f"{story_id}.md"
    original = read_story(path)
    page = _page(browser, desk)
    page.goto(desk.url + f"/desk/story/{story_id}")
    for title in ("A first wrong title", "A second wrong title"):
        page.get_by_label("Title").fill(title)
        page.get_by_label("Summary").fill(f"Summary with {title}.")
        _go(page, page.get_by_role("button", name="Save"))
    assert read_story(path).title == "A second wrong title"
    _go(page, page.get_by_role("link", name="History"))
    versions = page.locator("li.version")
    assert versions.count() == 3
    assert "+Title: A second wrong title" in versions.nth(0).locator("pre.diff").inner_text()
    _go(page, versions.nth(2).get_by_role("button", name="Restore this version"))  # as crawled
    assert "Restored the version" in _flash(page)
    restored = read_story(path)
    assert restored.title == original.title and restored.get("Summary") == original.get("Summary")
    assert restored.body == original.body
    _go(page, page.get_by_role("link", name="History"))
    assert page.locator("li.version").count() == 4  # the restore is a new version
    assert page.desk_errors == []


def test_two_editors_in_two_browsers_get_a_conflict(
    browser: Any, desk: Desk, site: DeskSite
) -> None:
    story_id = "2016/white-paper-finds-electronics-suppliers-lag-on-worker-voice"
    first, second = _page(browser, desk, EDITOR), _page(browser, desk, ADMIN)
    for page in (first, second):
        page.goto(desk.url + f"/desk/story/{story_id}")
    first.get_by_label("Places").fill("Shenzhen, Dongguan")
    second.get_by_label("Organisations").fill("RBA, ILO")
    _go(first, first.get_by_role("button", name="Save"))
    assert "Saved" in _flash(first)
    _go(second, second.get_by_role("button", name="Save"))
    conflict = second.get_by_role("alert").filter(has_text="Conflict")
    assert f"{EDITOR} changed this story" in conflict.inner_text()
    assert "+Locations: Shenzhen, Dongguan" in conflict.locator("pre.diff").inner_text()
    story = read_story(site.content / "news" / f"{story_id}.md")
    assert story.get_list("Organisations") != ["RBA", "ILO"]  # not overwritten, not saved
    assert second.get_by_label("Places").input_value() == "Shenzhen, Dongguan"  # theirs
    assert second.get_by_label("Organisations").input_value() == "RBA, ILO"  # mine
    _go(second, second.get_by_role("button", name="Save"))
    story = read_story(site.content / "news" / f"{story_id}.md")
    assert story.get_list("Locations") == ["Shenzhen", "Dongguan"]
    assert story.get_list("Organisations") == ["RBA", "ILO"]


def _log_in_again(page: Any) -> None:
    page.get_by_label("User name").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    _go(page, page.get_by_role("button", name="Log in"))


def test_a_save_after_the_session_ended_keeps_the_typed_text(
    browser: Any, desk: Desk, site: DeskSite
) -> None:
    story_id = "2019/zhongke-battery-pilots-cobalt-traceability-from-mine-to-cell"
    path = site.content / "news" / f"{story_id}.md"
    before = path.read_text(encoding="utf-8")
    page = _page(browser, desk)
    page.goto(desk.url + f"/desk/story/{story_id}")
    page.get_by_label("Summary").fill("A summary typed over a long lunch.")
    page.get_by_label("Organisations").fill("Zhongke Battery, RMI")
    page.context.clear_cookies()  # the session ended: idle for 12 hours, or a new password
    _go(page, page.get_by_role("button", name="Save"))
    alert = page.get_by_role("alert").inner_text()  # the login page, not a bare JSON answer
    assert "Your session has ended" in alert and "nothing was saved" in alert, alert
    assert path.read_text(encoding="utf-8") == before
    _log_in_again(page)
    assert page.url == desk.url + f"/desk/story/{story_id}"  # back on the story's form
    assert "Your unsaved text" in page.locator(".draft-note").inner_text()
    assert page.get_by_label("Summary").input_value() == "A summary typed over a long lunch."
    assert page.get_by_label("Organisations").input_value() == "Zhongke Battery, RMI"
    _go(page, page.get_by_role("button", name="Save"))
    assert "Saved: summary, organisations changed." in _flash(page)
    story = read_story(path)
    assert story.get("Summary") == "A summary typed over a long lunch."
    assert story.get_list("Organisations") == ["Zhongke Battery", "RMI"]
    page.reload()
    assert page.locator(".draft-note").count() == 0  # saved: nothing more to put back

    # A new story: the same, and once written the form starts empty again.
    _go(page, _nav(page, "Write a story"))
    page.get_by_label("Title").fill("A story written as the session ended")
    page.get_by_label("Date", exact=True).fill("2019-03-04")
    page.get_by_label("Text (Markdown)").fill("Its first paragraph.")
    page.context.clear_cookies()
    _go(page, page.get_by_role("button", name="Write the story"))
    assert "Your session has ended" in page.get_by_role("alert").inner_text()
    _log_in_again(page)
    assert page.url == desk.url + "/desk/new"
    assert page.get_by_label("Title").input_value() == "A story written as the session ended"
    assert page.get_by_label("Text (Markdown)").input_value() == "Its first paragraph."
    _go(page, page.get_by_role("button", name="Write the story"))
    assert "The story was written" in _flash(page)
    _go(page, _nav(page, "Write a story"))
    assert page.get_by_label("Title").input_value() == ""
    assert page.locator(".draft-note").count() == 0
    # Discarding kept text gives the story as it is in its file.
    page.goto(desk.url + f"/desk/story/{story_id}")
    page.get_by_label("Summary").fill("Second thoughts.")
    page.wait_for_timeout(600)  # the text is kept a moment after the last key
    page.reload()
    assert page.get_by_label("Summary").input_value() == "Second thoughts."
    page.get_by_role("button", name="Discard it").click()
    assert page.get_by_label("Summary").input_value() == "A summary typed over a long lunch."
    page.reload()
    assert page.locator(".draft-note").count() == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_the_desk_at_desktop_and_phone_widths(
    browser: Any, desk: Desk, site: DeskSite, width: int, artifacts_dir: Path
) -> None:
    page = _page(browser, desk, ADMIN, width=width)
    zh_story = _id_by_title(site, "澜庭服饰集团与中国纺织工业联合会签署社会责任合作备忘录")
    shots = {
        "stories": "/desk/?q=%E7%A4%BE%E4%BC%9A%E8%B4%A3%E4%BB%BB",  # 社会责任
        "edit": f"/desk/story/{zh_story}",
        "top10": "/desk/top10/2018",
        "history": "/desk/history/2019/gesi-and-cesa-roundtable-weighs-ict-sector-s-climate-role",
        "rebuild": "/desk/rebuild",
    }
    for name, path in shots.items():
        page.goto(desk.url + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / f"desk-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 1, (name, width, overflow)
    page.goto(desk.url + "/desk/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Write a story"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"  # then the search box
    assert page.desk_errors == []
