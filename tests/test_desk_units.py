"""The editors' desk, part by part: the story-file contract, ids, users, login throttle,
history (journal and git), list status edits and the preview."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from csrnews.desk.history import GitHistory, JournalHistory, open_history
from csrnews.desk.stories import StoryNotFound, resolve_id
from csrnews.desk.throttle import LoginThrottle
from csrnews.desk.users import UserError, UserStore
from csrnews.story.storyfile import (
    compute_fingerprint,
    is_edited,
    parse_story,
    read_story,
    render_edited,
    render_story,
    write_edited_story,
)
from tests.test_desk_support import crawled_story, small_content


def test_a_desk_save_keeps_the_crawlers_fingerprint_so_the_file_reads_as_edited(
    tmp_path: Path,
) -> None:
    path = crawled_story(tmp_path, 2019, "a-story", "A story")
    text = path.read_text(encoding="utf-8")
    assert not is_edited(text)
    story = read_story(path)
    recorded = story.get("Fingerprint")
    story.set("Title", "A story, corrected")
    write_edited_story(path, story)
    saved = path.read_text(encoding="utf-8")
    assert is_edited(saved)
    assert parse_story(saved).get("Fingerprint") == recorded  # kept, and no longer matching
    assert compute_fingerprint(saved) != recorded
    assert parse_story(saved).title == "A story, corrected"


def test_an_unchanged_save_or_a_story_without_fingerprint_still_reads_as_edited(
    tmp_path: Path,
) -> None:
    path = crawled_story(tmp_path, 2019, "a-story", "A story")
    unchanged = render_edited(read_story(path))  # nothing changed: the fingerprint would match
    assert is_edited(unchanged) and "Fingerprint:" not in unchanged
    own = parse_story("Title: Ours\nDate: 2019-01-01\n\nText.\n")
    assert is_edited(render_edited(own))
    assert not is_edited(render_story(parse_story(unchanged)))  # the crawler's own render differs


@pytest.mark.parametrize(
    "story_id",
    [
        "../../etc/passwd",
        "2018/../../../etc/passwd",
        "/etc/passwd",
        "2018//audit-forum-in-shenzhen",
        "..",
        "2018/.hidden",
        "2018/audit-forum-in-shenzhen.md",
        "2018/audit-forum-in-shenzhen/../audit-forum-in-shenzhen",
        "2018\\audit-forum-in-shenzhen",
        "",
        "2018/no-such-story",
        "outside",
    ],
)
def test_story_ids_resolve_only_to_stories_inside_the_news_folder(
    tmp_path: Path, story_id: str
) -> None:
    content = small_content(tmp_path)
    (tmp_path / "outside.md").write_text("secret", encoding="utf-8")
    os.symlink(tmp_path / "outside.md", content / "news" / "outside.md")
    with pytest.raises(StoryNotFound):
        resolve_id(content, story_id)


def test_good_ids_resolve(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    path = resolve_id(content, "2018/zh-0a1b2c3d4e")
    assert path == (content / "news" / "2018" / "zh-0a1b2c3d4e.md").resolve()


def test_users_are_kept_with_argon2_hashes_in_a_private_file(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "desk" / "users.json")
    store.add("mei", "a long password", "admin")
    store.add("tom", "another long one", "editor")
    text = store.path.read_text(encoding="utf-8")
    assert "a long password" not in text and "$argon2id$" in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.verify("mei", "a long password") is not None
    assert store.verify("mei", "a long passworD") is None
    assert store.verify("nobody", "a long password") is None
    assert store.get("mei").is_admin and not store.get("tom").is_admin  # type: ignore[union-attr]
    for bad in (("Mei!", "a long password", "editor"), ("ann", "short", "editor")):
        with pytest.raises(UserError):
            store.add(*bad)
    with pytest.raises(UserError, match="exists already"):
        store.add("tom", "yet another password", "editor")
    with pytest.raises(UserError, match="role"):
        store.add("ann", "a long password", "owner")
    store.remove("tom")
    assert UserStore(store.path).get("tom") is None  # read back from the file
    with pytest.raises(UserError):
        store.remove("tom")


def test_login_waits_grow_after_a_few_failures_and_end_with_success(tmp_path: Path) -> None:
    throttle = LoginThrottle(tmp_path / "logins.sqlite", free=3, window=900, max_wait=300)
    keys = ["user:mei", "ip:10.0.0.1"]
    now = 1_000_000.0
    waits = []
    for i in range(10):
        waits.append(throttle.wait(keys, now + i))
        throttle.failed(keys, now + i)
    assert waits[:4] == [0.0, 0.0, 0.0, 2.0 - 1.0]  # the 4th attempt, a second after the 3rd
    after = throttle.wait(keys, now + 9)
    assert after == 2.0**8  # ten failures: 2^(10-3+1) seconds after the last one
    assert throttle.wait(["user:other"], now + 9) == 0.0
    assert throttle.wait(["ip:10.0.0.1"], now + 9) > 0  # the address is slowed down too
    assert throttle.wait(keys, now + 9 + 300) == 0.0  # never longer than max_wait
    assert throttle.wait(keys, now + 2000) == 0.0  # failures are forgotten after the window
    throttle.succeeded(keys)
    assert throttle.wait(keys, now + 10) == 0.0


def test_the_journal_records_every_version_and_only_appends(tmp_path: Path) -> None:
    history = JournalHistory(tmp_path / "content.history")
    target = tmp_path / "story.md"
    target.write_text("v0\n", encoding="utf-8")

    def write(text: str) -> str:
        target.write_text(text, encoding="utf-8")
        return text

    history.record("news/2019/x.md", "v0\n", "mei", "first edit", lambda: write("v1\n"))
    size = history.journal.stat().st_size
    head = history.journal.read_bytes()
    history.record("news/2019/x.md", "v1-changed-outside\n", "tom", "second", lambda: write("v2\n"))
    assert history.journal.read_bytes()[:size] == head  # earlier lines untouched
    versions = history.versions("news/2019/x.md")
    assert [v.user for v in versions] == ["tom", "csrnews", "mei", "csrnews"]
    assert [history.text("news/2019/x.md", v.id) for v in versions] == [
        "v2\n",
        "v1-changed-outside\n",
        "v1\n",
        "v0\n",
    ]
    assert versions[1].outside and not versions[0].outside
    assert history.text("news/2019/other.md", versions[0].id) is None  # not that file's
    assert history.text("news/2019/x.md", "0" * 64) is None
    assert [c.user for c in history.changes_since(0)] == ["mei", "tom"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_a_content_folder_in_git_gets_one_commit_per_save_by_the_editor(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    _git(content, "init", "-q")
    _git(content, "add", "-A")
    _git(content, "commit", "-q", "-m", "crawl")
    history = open_history(content)
    assert isinstance(history, GitHistory)
    rel = "news/2018/audit-forum-in-shenzhen.md"
    path = content / rel
    crawled = path.read_text(encoding="utf-8") + "\nA crawler update.\n"
    path.write_text(crawled, encoding="utf-8")  # changed outside the desk, not committed
    history.record(rel, crawled, "mei", "Audit forum: title changed", lambda: _write(path, "new\n"))
    log = _git(content, "log", "--format=%an|%s", "--", rel).splitlines()
    assert log == [
        "mei|Audit forum: title changed",
        f"csrnews|{rel}: as it was before a desk change",
        "t|crawl",
    ]
    versions = history.versions(rel)
    assert history.text(rel, versions[1].id) == crawled
    assert history.text(rel, versions[0].id) == "new\n"
    assert history.text(rel, "f" * 40) is None
    assert _git(content, "status", "--porcelain").strip() == ""
    assert [c.user for c in history.changes_since(0)] == ["mei"]


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return text


def test_content_that_git_ignores_is_journalled_beside_the_content_folder(tmp_path: Path) -> None:
    content = small_content(tmp_path)
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("content/news/\n", encoding="utf-8")
    history = open_history(content)
    assert isinstance(history, JournalHistory)
    assert history.folder == (tmp_path / "content.history").resolve()


def test_publishing_a_list_changes_only_its_status_line(tmp_path: Path) -> None:
    from csrnews.top10 import Top10Error
    from csrnews.top10.edit import set_status
    from csrnews.top10.io import read_list

    path = tmp_path / "2017.yaml"
    text = (
        "# Our list.\nyear: 2017\ntitle: Top 10 of 2017\n"
        "status: draft  # draft | published\n\n# The entries.\nentries: []\n"
    )
    path.write_text(text, encoding="utf-8")
    set_status(path, "published")
    assert path.read_text(encoding="utf-8") == text.replace("status: draft", "status: published")
    assert read_list(path).published
    set_status(path, "draft")
    assert path.read_text(encoding="utf-8") == text
    bare = tmp_path / "2016.yaml"
    bare.write_text("year: 2016\ntitle: T\nentries: []\n", encoding="utf-8")
    set_status(bare, "published")
    assert (
        bare.read_text(encoding="utf-8") == "year: 2016\ntitle: T\nstatus: published\nentries: []\n"
    )
    with pytest.raises(Top10Error):
        set_status(bare, "live")


def test_the_preview_is_the_sites_markdown_sanitised_the_sites_way(tmp_path: Path) -> None:
    from csrnews.desk.preview import Previewer
    from csrnews.story.storyfile import Story

    story = Story()
    story.set("Title", "T")
    story.set("Summary", "A **bold** lead <img src=x onerror=alert(1)>")
    story.body = (
        "## 标题\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '<script>alert(1)</script><a href="javascript:alert(1)">x</a> [ok](https://e.example/)'
    )
    out = Previewer(tmp_path).render(story)
    assert "<h2>标题</h2>" in out["body_html"] and "<table>" in out["body_html"]
    assert "<script" not in out["body_html"] and "javascript:" not in out["body_html"]
    assert 'href="https://e.example/"' in out["body_html"]
    assert "<strong>bold</strong>" in out["summary_html"] and "onerror" not in out["summary_html"]
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_updating_an_entry_keeps_every_other_line_of_the_list(tmp_path: Path) -> None:
    from csrnews.top10.edit import ListEditor
    from csrnews.top10.io import read_list

    path = tmp_path / "2018.yaml"
    text = (
        "# Our list.\nyear: 2018\ntitle: T\nstatus: draft\nentries:\n"
        "  # The first one.\n  - rank: 1\n    headline: One\n    stories: [a, b]\n"
        "    account: >\n      A long\n      account.\n\n"
        "  - rank: 2  # keep me\n    headline: Two\n    url: https://e.example/\n"
        "    reason: Because.\n\n# After the entries.\n"
    )
    path.write_text(text, encoding="utf-8")
    ListEditor(path).update(1, {"reason": "It mattered.", "headline": "One, renamed"})
    lst = read_list(path)
    first = lst.entry(1)
    assert first is not None and first.headline == "One, renamed"
    assert first.reason == "It mattered." and first.stories == ["a", "b"]
    assert first.account == "A long account."
    after = path.read_text(encoding="utf-8")
    assert after.startswith("# Our list.\nyear: 2018\ntitle: T\nstatus: draft\nentries:\n")
    assert "  # The first one.\n  - rank: 1\n" in after
    assert after.endswith(text[text.index("  - rank: 2  # keep me") :])
    ListEditor(path).update(2, {"reason": ""})
    assert read_list(path).entry(2).reason == ""  # type: ignore[union-attr]


def test_the_session_key_is_kept_in_a_private_file(tmp_path: Path) -> None:
    from csrnews.desk.service import load_secret

    path = tmp_path / "desk" / "secret.key"
    key = load_secret(path)
    assert len(key) == 32 and load_secret(path) == key  # made once, then read
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_desk_commits_are_pending_before_the_first_build(tmp_path: Path) -> None:
    """With no build yet the rebuild page asks for the changes since 0; git read a bare
    `--since=@0` as now, so a desk commit older than a second was not shown at all."""
    content = small_content(tmp_path)
    _git(content, "init", "-q")
    _git(content, "add", "-A")
    long_ago = "@1700000000 +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": long_ago, "GIT_COMMITTER_DATE": long_ago}
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=mei",
            "-c",
            "user.email=mei@desk.invalid",
            "commit",
            "-q",
            "-m",
            "edit",
        ],
        cwd=content,
        env=env,
        check=True,
    )
    history = open_history(content)
    assert [c.user for c in history.changes_since(0)] == ["mei"] * len(list(content.rglob("*.md")))
    assert history.changes_since(1700000001) == []


def test_list_fields_split_at_chinese_commas_too() -> None:
    from csrnews.desk.storyedit import apply_values
    from csrnews.story.storyfile import Story

    story = Story()
    story.set("Title", "澜庭服饰集团与中国纺织工业联合会签署合作备忘录")
    changed = apply_values(
        story,
        {
            "organisations": "澜庭服饰集团，中国纺织工业联合会、amfori, ILO",
            "locations": "江苏、浙江；福建",
        },
    )
    assert story.get_list("Organisations") == [
        "澜庭服饰集团",
        "中国纺织工业联合会",
        "amfori",
        "ILO",
    ]
    assert story.get_list("Locations") == ["江苏", "浙江", "福建"]
    assert changed == ["organisations", "places"]
