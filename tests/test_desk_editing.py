"""Editing on the desk over a real server: find, fix, hide, write, conflicts, history and
restore, the top-10 list editor, and the rebuild button's lock."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from csrnews.desk.history import JournalHistory
from csrnews.nightly.lock import RunLock
from csrnews.story.storyfile import is_edited, read_story, render_edited
from csrnews.top10.io import read_list
from tests.test_desk_support import (
    ADMIN,
    EDITOR,
    Client,
    Desk,
    config_for,
    crawled_story,
    desk_server,
    find_form,
    small_content,
)

STORY = "2018/audit-forum-in-shenzhen"


@pytest.fixture()
def desk(tmp_path: Path) -> Iterator[Desk]:
    content = small_content(tmp_path)
    with desk_server(config_for(tmp_path, content)) as server:
        yield server


def _client(desk: Desk, user: str = EDITOR) -> Client:
    client = Client(desk.url)
    assert client.login(user).status == 302
    return client


def _story_file(desk: Desk, story_id: str = STORY) -> Path:
    return desk.config.content / "news" / f"{story_id}.md"


def test_a_save_waits_while_a_crawl_writes_a_story(desk: Desk) -> None:
    """An editor's save takes the story write lock the crawler holds around its read-check-write
    of a story: while the crawler holds it, the save waits; then it goes through."""
    import threading
    import time

    from csrnews.story.storyfile import story_write_lock

    client = _client(desk)
    path = _story_file(desk)
    page = client.get(f"/desk/story/{STORY}")
    answers: list[int] = []

    def save() -> None:
        answer = client.submit(page, f"/desk/story/{STORY}", title="Audit forum (while crawling)")
        answers.append(answer.status)

    with story_write_lock(desk.config.content):  # as the crawler holds it
        saver = threading.Thread(target=save)
        saver.start()
        time.sleep(1.5)
        assert not answers and "while crawling" not in path.read_text(encoding="utf-8")
    saver.join(30)
    assert answers == [302]
    assert read_story(path).title == "Audit forum (while crawling)"


def _flashes(text: str) -> list[str]:
    return re.findall(r'class="flash flash-\w+">([^<]*)<', text)


def test_saving_a_story_writes_the_file_the_crawler_treats_as_edited(desk: Desk) -> None:
    client = _client(desk)
    path = _story_file(desk)
    recorded = read_story(path).get("Fingerprint")
    page = client.get(f"/desk/story/{STORY}")
    assert page.status == 200 and "Audit forum in Shenzhen" in page.text
    answer = client.submit(
        page,
        f"/desk/story/{STORY}",
        title="Audit forum in Shenzhen (corrected)",
        category="mou",
        organisations="amfori, RBA",
        event_date="2018-05-01",
        body="A corrected first paragraph.\n\n## More\n\nText.",
    )
    assert answer.status == 302
    after = client.get(answer.location)
    assert _flashes(after.text) == [
        "Saved: title, event type, organisations, event date, text changed."
    ]
    story = read_story(path)
    assert story.title == "Audit forum in Shenzhen (corrected)"
    assert story.get("Category") == "MoU & partnership"
    assert story.get_list("Organisations") == ["amfori", "RBA"]
    assert story.get("Event_date") == "2018-05-01"
    assert story.get("Fingerprint") == recorded and is_edited(path.read_text(encoding="utf-8"))
    assert story.get("Modified")
    assert story.get("Source") == "Test Wire"  # what the form does not show is kept
    again = client.submit(after, f"/desk/story/{STORY}")
    assert "Nothing to save" in client.get(again.location).text


def test_a_form_with_a_bad_value_is_refused_and_shown_again(desk: Desk) -> None:
    client = _client(desk)
    before = _story_file(desk).read_bytes()
    page = client.get(f"/desk/story/{STORY}")
    answer = client.submit(page, f"/desk/story/{STORY}", title="", event_date="01/05/2018")
    assert answer.status == 400
    assert "This field is required." in answer.text and "YYYY-MM-DD" in answer.text
    assert _story_file(desk).read_bytes() == before


def test_two_sessions_saving_the_same_story_get_a_conflict_not_an_overwrite(desk: Desk) -> None:
    first, second = _client(desk, EDITOR), _client(desk, ADMIN)
    page1 = first.get(f"/desk/story/{STORY}")
    page2 = second.get(f"/desk/story/{STORY}")
    saved = first.submit(page1, f"/desk/story/{STORY}", title="Title by the first editor")
    assert saved.status == 302
    clash = second.submit(page2, f"/desk/story/{STORY}", summary="Summary by the second editor.")
    assert clash.status == 409
    assert "Conflict: not saved" in clash.text
    assert f"<strong>{EDITOR}</strong> changed this story" in clash.text
    assert "<del>-Title: Audit forum in Shenzhen</del>" in clash.text
    assert "<ins>+Title: Title by the first editor</ins>" in clash.text
    story = read_story(_story_file(desk))
    assert story.title == "Title by the first editor"  # nothing was overwritten
    assert story.get("Summary") != "Summary by the second editor."
    merged = find_form(clash.text, f"/desk/story/{STORY}").values
    assert merged["title"] == "Title by the first editor"  # theirs, kept
    assert merged["summary"] == "Summary by the second editor."  # mine, added
    resolved = second.post(f"/desk/story/{STORY}", merged)
    assert resolved.status == 302
    story = read_story(_story_file(desk))
    assert (story.title, story.get("Summary")) == (
        "Title by the first editor",
        "Summary by the second editor.",
    )


def test_a_conflict_on_a_field_both_changed_keeps_my_text_to_copy(desk: Desk) -> None:
    first, second = _client(desk, EDITOR), _client(desk, ADMIN)
    page1 = first.get(f"/desk/story/{STORY}")
    page2 = second.get(f"/desk/story/{STORY}")
    assert first.submit(page1, f"/desk/story/{STORY}", summary="Their summary.").status == 302
    mine = "My summary, <rewritten> with care over half an hour."
    clash = second.submit(page2, f"/desk/story/{STORY}", summary=mine)
    assert clash.status == 409
    assert "<strong>You both changed:</strong> summary" in clash.text
    assert find_form(clash.text, f"/desk/story/{STORY}").values["summary"] == "Their summary."
    assert "Your summary</label>" in clash.text
    assert ">My summary, &lt;rewritten&gt; with care over half an hour.</textarea>" in clash.text
    assert read_story(_story_file(desk)).get("Summary") == "Their summary."


def test_hiding_and_showing_a_story(desk: Desk) -> None:
    client = _client(desk)
    page = client.get(f"/desk/story/{STORY}")
    answer = client.submit(page, f"/desk/visibility/{STORY}", action="hide")
    assert answer.status == 302
    assert read_story(_story_file(desk)).get("Status") == "hidden"
    hidden = client.get("/desk/?status=hidden")
    assert "Audit forum in Shenzhen" in hidden.text and "A hidden story" in hidden.text
    page = client.get(f"/desk/story/{STORY}")
    client.submit(page, f"/desk/visibility/{STORY}", action="show")
    assert read_story(_story_file(desk)).get("Status") == ""
    stale = client.submit(page, f"/desk/visibility/{STORY}", action="show")  # an old page
    assert "changed since you opened it" in client.get(stale.location).text


def test_writing_a_new_story(desk: Desk) -> None:
    client = _client(desk)
    values = {
        "title": "Editors' note on audits 编辑部说明",
        "date": "2019-03-04",
        "lang": "en",
        "category": "other",
        "summary": "Why we list audits.",
        "body": "Our **own** text.",
        "organisations": "amfori",
    }
    first = client.submit(client.get("/desk/new"), "/desk/new", **values)
    second = client.submit(client.get("/desk/new"), "/desk/new", **values)
    assert first.location.endswith("/desk/story/2019/editors-note-on-audits")
    assert second.location.endswith("/desk/story/2019/editors-note-on-audits-2")
    path = _story_file(desk, "2019/editors-note-on-audits")
    story = read_story(path)
    assert story.title == values["title"] and story.get("Lang") == "en"
    assert (
        story.get("Slug") == "editors-note-on-audits" and story.body.strip() == "Our **own** text."
    )
    assert is_edited(path.read_text(encoding="utf-8"))
    bad = client.submit(client.get("/desk/new"), "/desk/new", **{**values, "date": ""})
    assert bad.status == 400


def test_the_history_lists_every_version_and_restores_one(desk: Desk) -> None:
    client = _client(desk)
    original = _story_file(desk).read_text(encoding="utf-8")
    for title in ("Second title", "Third title"):
        page = client.get(f"/desk/story/{STORY}")
        client.submit(page, f"/desk/story/{STORY}", title=title)
    history = client.get(f"/desk/history/{STORY}")
    assert history.status == 200
    assert history.text.count("Restore this version") == 2  # all but the current one
    assert "as it was before this desk change" in history.text
    versions = re.findall(r'name="version" value="([0-9a-f]{64})"', history.text)
    answer = client.submit(history, f"/desk/restore/{STORY}", version=versions[-1])
    assert answer.status == 302
    restored = read_story(_story_file(desk))
    assert restored.title == "Audit forum in Shenzhen"
    assert restored.body == read_story_text(original).body
    assert is_edited(_story_file(desk).read_text(encoding="utf-8"))
    journal = JournalHistory(desk.config.content.parent / "content.history")
    assert next(v.message for v in journal.versions(f"news/{STORY}.md")).endswith(
        f"restored the version {versions[-1][:10]}"
    )
    assert len(journal.versions(f"news/{STORY}.md")) == 4  # nothing was lost
    forged = client.submit(history, f"/desk/restore/{STORY}", version="0" * 64)
    assert "not in this story&#39;s history" in client.get(forged.location).text


def read_story_text(text: str) -> object:
    from csrnews.story.storyfile import parse_story

    return parse_story(text)


def test_in_a_git_repository_each_save_is_a_commit_by_the_editor(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the crawl"]):
        subprocess.run(
            ["git", "-c", "user.name=ops", "-c", "user.email=ops@x.invalid", *args],
            cwd=content,
            check=True,
        )
    with desk_server(config_for(tmp_path, content)) as desk:
        client = _client(desk)
        page = client.get(f"/desk/story/{STORY}")
        client.submit(page, f"/desk/story/{STORY}", title="Committed title")
        log = subprocess.run(
            ["git", "log", "--format=%an <%ae>|%s"],
            cwd=content,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert (
            log[0] == f"{EDITOR} <{EDITOR}@desk.invalid>|Committed title: title changed on the desk"
        )
        history = client.get(f"/desk/history/{STORY}")
        assert "commits in the content folder's git repository" in history.text
        assert "Restore this version" in history.text
        pending = client.get("/desk/rebuild")
        assert "Committed title: title changed on the desk" in pending.text


def test_finding_stories_by_filters_and_words(desk: Desk) -> None:
    client = _client(desk)
    crawled_story(
        desk.config.content, 2019, "crawled-late", "Crawled late", crawled="2026-01-02T00:00:00Z"
    )
    desk.service.catalogue.invalidate()  # a crawl's new story, seen at once (else within 5 s)

    def titles(query: str) -> list[str]:
        page = client.get("/desk/?" + query)
        assert page.status == 200
        return re.findall(r'<a href="/desk/story/[^"]+" lang="\w+">([^<]+)</a>', page.text)

    assert titles("lang=zh") == ["深圳举办供应链审核论坛"]
    assert titles("status=hidden") == ["A hidden story"]
    assert titles("year=2019&sort=title") == [
        "A hidden story",
        "Crawled late",
        "Supplier report 2019",
    ]
    assert titles("crawled_since=2025-12-31") == ["Crawled late"]
    assert titles("type=summit&sort=date-asc") == [
        "Audit forum in Shenzhen",
        "深圳举办供应链审核论坛",
    ]
    assert titles("edited=yes") == []
    page = client.get("/desk/?q=%E5%AE%A1%E6%A0%B8")  # 审核: no index here, titles are searched
    assert "深圳举办供应链审核论坛" in page.text and "titles were searched instead" in page.text
    assert titles("q=2018%2Faudit") == ["Audit forum in Shenzhen"]  # by id too
    # Words of a title in any order, not only a run of it (a hidden story is in no index).
    assert titles("q=story+hidden") == ["A hidden story"]
    assert titles("q=Shenzhen+audit") == ["Audit forum in Shenzhen"]
    assert titles("q=hidden+nowhere") == []


def _list_page(client: Client, name: str = "2019") -> object:
    return client.get(f"/desk/top10/{name}")


def test_the_top10_list_editor(desk: Desk) -> None:
    client = _client(desk)
    crawled_story(desk.config.content, 2019, "second-2019", "Second story of 2019")
    desk.service.catalogue.invalidate()
    start = client.submit(client.get("/desk/top10/"), "/desk/top10/", year="2019")
    assert start.location.endswith("/desk/top10/2019")
    again = client.submit(client.get("/desk/top10/"), "/desk/top10/", year="2019")
    assert again.status == 200
    assert "There is already a list for 2019" in again.text
    assert str(desk.config.content) not in again.text and "--list" not in again.text
    page = client.get("/desk/top10/2019")
    slugs = re.findall(r'name="slug" value="([^"]+)"', page.text)
    assert set(slugs) == {"supplier-report-2019", "second-2019"}  # hidden stories are not
    for slug in slugs:
        page = client.get("/desk/top10/2019")
        form = next(f for f in _forms_with(page.text, "/add") if f.values["slug"] == slug)
        assert client.post(form.action, {**form.values, "reason": f"Why {slug}"}).status == 302
    lst = read_list(desk.config.content / "top10" / "2019.yaml")
    assert [e.stories for e in lst.entries] == [[slugs[0]], [slugs[1]]]
    page = client.get("/desk/top10/2019")
    moved = client.submit(page, "/desk/top10/2019/move", src="2", dst="1")
    assert moved.location.endswith("/desk/top10/2019?moved=1")
    lst = read_list(desk.config.content / "top10" / "2019.yaml")
    assert [e.stories[0] for e in sorted(lst.entries, key=lambda e: e.rank)] == slugs[::-1]
    stale = client.submit(page, "/desk/top10/2019/move", src="2", dst="1")  # the old page
    assert "changed this list since you loaded it" in client.get(stale.location).text
    page = client.get("/desk/top10/2019")
    client.submit(page, "/desk/top10/2019/status", status="published")
    assert read_list(desk.config.content / "top10" / "2019.yaml").published
    page = client.get("/desk/top10/2019")
    client.submit(page, "/desk/top10/2019/remove", rank="1")
    lst = read_list(desk.config.content / "top10" / "2019.yaml")
    assert len(lst.entries) == 1 and lst.entries[0].rank == 1
    history = client.get("/desk/top10/2019/history")
    assert history.status == 200 and history.text.count("Restore this version") >= 4


def test_a_list_that_breaks_a_rule_is_not_published(desk: Desk) -> None:
    client = _client(desk)
    (desk.config.content / "top10" / "2019.yaml").write_text(
        "year: 2019\ntitle: Top 10 of 2019\nstatus: draft\nentries:\n"
        "  - rank: 1\n    headline: A hidden one\n    stories: [hidden-story]\n",
        encoding="utf-8",
    )
    page = client.get("/desk/top10/2019")
    assert "is hidden" in page.text and "missing reason" in page.text
    answer = client.submit(page, "/desk/top10/2019/status", status="published")
    after = client.get(answer.location)
    assert "Not published: the list breaks these rules." in after.text
    assert not read_list(desk.config.content / "top10" / "2019.yaml").published
    checked = client.submit(after, "/desk/top10/2019/validate")
    assert "to fix before publishing" in client.get(checked.location).text


def _forms_with(html: str, part: str) -> list[object]:
    from tests.test_desk_support import forms

    return [f for f in forms(html) if part in f.action]


def test_rebuild_waits_for_the_nightly_lock(desk: Desk) -> None:
    client = _client(desk)
    lock = RunLock(desk.config.root / "lock")
    lock.acquire()
    try:
        answer = client.submit(client.get("/desk/rebuild"), "/desk/rebuild")
        page = client.get(answer.location)
        assert "The nightly run is working" in page.text
        assert client.get("/desk/rebuild/status", headers={"Accept": "application/json"}).text
    finally:
        lock.release()
    assert desk.service.rebuilder.status()["state"] == "idle"


def test_a_change_made_outside_the_desk_is_a_conflict_too(desk: Desk) -> None:
    client = _client(desk)
    page = client.get(f"/desk/story/{STORY}")
    crawled_story(  # the crawler updates the (not yet edited) story meanwhile
        desk.config.content,
        2018,
        "audit-forum-in-shenzhen",
        "Audit forum in Shenzhen",
        category="summit",
        body="An updated first paragraph from the publisher.",
    )
    clash = client.submit(page, f"/desk/story/{STORY}", title="My title")
    assert clash.status == 409
    assert "someone outside the desk (the crawler, or by hand)</strong> changed" in clash.text
    assert "<ins>+An updated first paragraph from the publisher.</ins>" in clash.text
    assert read_story(_story_file(desk)).title == "Audit forum in Shenzhen"


def test_an_earlier_version_of_a_list_is_restored(desk: Desk) -> None:
    client = _client(desk)
    path = desk.config.content / "top10" / "2018.yaml"
    client.submit(client.get("/desk/top10/"), "/desk/top10/", year="2018")
    original = path.read_text(encoding="utf-8")
    page = client.get("/desk/top10/2018")
    form = next(f for f in _forms_with(page.text, "/add"))
    client.post(form.action, {**form.values, "reason": "It mattered."})
    assert len(read_list(path).entries) == 1
    history = client.get("/desk/top10/2018/history")
    versions = re.findall(r'name="version" value="([0-9a-f]{64})"', history.text)
    answer = client.submit(history, "/desk/top10/2018/restore", version=versions[-1])
    assert answer.status == 302 and "Restored the version" in client.get(answer.location).text
    assert path.read_text(encoding="utf-8") == original
    bogus = client.submit(history, "/desk/top10/2018/restore", version="0" * 64)
    assert "not in this list" in client.get(bogus.location).text


def test_an_entrys_reason_is_written_on_the_desk_and_the_list_then_publishes(desk: Desk) -> None:
    client = _client(desk)
    path = desk.config.content / "top10" / "2019.yaml"
    path.write_text(
        "year: 2019\ntitle: Top 10 of 2019\nstatus: draft\nentries:\n"
        "  # Our first pick.\n  - rank: 1\n    headline: A report\n"
        "    stories: [supplier-report-2019]\n",
        encoding="utf-8",
    )
    page = client.get("/desk/top10/2019")
    assert "missing reason" in page.text
    answer = client.submit(
        page, "/desk/top10/2019/entry", headline="The supplier report", reason="It set a bar."
    )
    assert "No. 1 changed." in client.get(answer.location).text
    entry = read_list(path).entry(1)
    assert entry is not None and (entry.headline, entry.reason) == (
        "The supplier report",
        "It set a bar.",
    )
    assert "  # Our first pick.\n  - rank: 1\n" in path.read_text(encoding="utf-8")
    page = client.get("/desk/top10/2019")
    client.submit(page, "/desk/top10/2019/status", status="published")
    assert read_list(path).published


def test_a_server_error_is_a_desk_page_that_says_what_became_of_the_edit(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csrnews.desk import storyedit

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storyedit, "save", disk_full)
    client = _client(desk)
    before = _story_file(desk).read_bytes()
    page = client.get(f"/desk/story/{STORY}")
    answer = client.submit(page, "/desk/story/", title="A title the disk had no room for")
    assert answer.status == 500
    assert "Server error" in answer.text and "may not have been done" in answer.text
    assert 'aria-label="Desk"' in answer.text  # the desk's own page: its menu, not a bare one
    assert "script-src 'self'" in answer.header("Content-Security-Policy")
    assert _story_file(desk).read_bytes() == before
    assert client.get("/desk/").status == 200  # the rest of the desk works on


def test_a_top10_entry_sent_after_the_session_ended_is_shown_to_copy(desk: Desk) -> None:
    client = _client(desk)
    client.jar.clear()  # the session ended (idle, a new password, logged out elsewhere)
    referrer = desk.url + "/desk/top10/2019"
    answer = client.post(
        "/desk/top10/2019/entry",
        {"rank": "2", "headline": "A headline", "reason": "A reason <b>typed</b> at length."},
        headers={"Referer": referrer},
    )
    assert answer.status == 401
    assert "Your session has ended" in answer.text and "nothing was saved" in answer.text
    assert "A reason &lt;b&gt;typed&lt;/b&gt; at length.</textarea>" in answer.text
    assert find_form(answer.text, "/desk/login").action.endswith("next=/desk/top10/2019")
    elsewhere = client.post(
        "/desk/top10/2019/entry", {"reason": "x"}, headers={"Referer": "https://evil.example/"}
    )
    assert "next=" not in find_form(elsewhere.text, "/desk/login").action


def test_a_form_from_before_a_new_login_is_refused_with_a_way_back(desk: Desk) -> None:
    client = _client(desk)
    page = client.get(f"/desk/story/{STORY}")
    assert client.login().status == 302  # logged in again (in another tab): a new token
    form = find_form(page.text, f"/desk/story/{STORY}")
    refused = client.post(
        form.action,
        {**form.values, "title": "Typed before"},
        headers={"Referer": desk.url + f"/desk/story/{STORY}"},
    )
    assert refused.status == 400
    assert "Nothing was changed" in refused.text and "logged out or in again" in refused.text
    assert f'<a href="/desk/story/{STORY}">Open the page again</a>' in refused.text
    assert read_story(_story_file(desk)).title == "Audit forum in Shenzhen"


def test_a_hand_written_event_date_is_kept_by_a_save_that_does_not_touch_it(desk: Desk) -> None:
    # an editor wrote Event_date in the file by hand: with a time (the site reads its date), or
    # in words (the site cannot read it). A save of the title alone must not clear or rewrite it
    path = _story_file(desk)
    client = _client(desk)
    for written, shown, kind in (
        ("2018-05-01 09:30", "2018-05-01", "date"),
        ("spring 2018", "spring 2018", "text"),
    ):
        story = read_story(path)
        story.set("Event_date", written)
        path.write_text(render_edited(story), encoding="utf-8")
        page = client.get(f"/desk/story/{STORY}")
        field = re.search(r'<input[^>]*name="event_date"[^>]*>', page.text)
        assert field is not None, page.text
        assert f'value="{shown}"' in field.group() and f'type="{kind}"' in field.group()
        answer = client.submit(page, f"/desk/story/{STORY}", title=f"Audit forum ({kind})")
        if kind == "date":  # saved, and the date the editor did not touch as it was written
            assert answer.status == 302
            assert "event date" not in " ".join(_flashes(client.get(answer.location).text))
            assert read_story(path).get("Event_date") == written
            assert read_story(path).title == "Audit forum (date)"
        else:  # shown as written, and a save asks for a date: not saved empty in silence
            assert answer.status == 400 and "YYYY-MM-DD" in answer.text
            assert read_story(path).get("Event_date") == written
