"""The story-file contract: parsing, rendering, fingerprints, atomic writes and stable slugs."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csrnews.story.storyfile import (
    Story,
    compute_fingerprint,
    is_edited,
    iter_story_files,
    parse_story,
    read_story,
    render_story,
    slugify,
    story_path,
    write_story,
    write_text_atomic,
)


def _story() -> Story:
    story = Story(body="First paragraph.\n\n## Heading\n\n- item one\n- item two\n")
    story.set("Title", "CESA releases SJ/T 16000-2016 pilot results")
    story.set("Date", "2017-08-28T09:30:00+08:00")
    story.set("Slug", "cesa-releases-sjt-16000-pilot-results")
    story.set("Lang", "en")
    story.set_list("Organisations", ["CESA", "MIIT", "CESA"])
    story.set_list("Standards", ["SJ/T 16000-2016"])
    story.set_list("Also_reported_by", ["https://example.org/a,b", "https://example.net/x"])
    story.set("Source_url", "https://example.com/news/1")
    return story


def test_round_trip_keeps_metadata_order_and_body() -> None:
    text = render_story(_story())
    parsed = parse_story(text)
    assert list(parsed.meta)[:4] == ["Title", "Date", "Slug", "Lang"]
    assert parsed.get_list("Organisations") == ["CESA", "MIIT"]
    assert parsed.get_list("Also_reported_by") == [
        "https://example.org/a%2Cb",
        "https://example.net/x",
    ]
    assert parsed.body.strip() == _story().body.strip()
    assert render_story(parsed) == text


def test_keys_are_read_in_any_case_and_unknown_keys_are_kept() -> None:
    parsed = parse_story("title: Hello\nEditor_note: checked by hand\n\nBody\n")
    assert parsed.title == "Hello"
    assert "Editor_note" in render_story(parsed)


def test_fingerprint_detects_an_editors_change() -> None:
    text = render_story(_story())
    assert not is_edited(text)
    assert not is_edited(text.replace("\n", "\r\n"))  # line endings alone are no edit
    assert is_edited(text.replace("First paragraph.", "First paragraph, corrected."))
    assert is_edited(text.replace("Lang: en", "Lang: en\nStatus: hidden"))
    # A story an editor wrote from scratch has no fingerprint: it is the editor's.
    assert is_edited("Title: Mine\n\nWritten by an editor.\n")


def test_fingerprint_ignores_its_own_line() -> None:
    text = render_story(_story())
    without = "".join(line for line in text.splitlines(True) if not line.startswith("Fingerprint"))
    assert compute_fingerprint(text) == compute_fingerprint(without)


def test_write_story_is_atomic_and_leaves_no_temporary_files(tmp_path) -> None:
    path = story_path(tmp_path, 2017, "a-story")
    write_story(path, _story())
    assert read_story(path).title.startswith("CESA")
    assert [p.name for p in path.parent.iterdir()] == ["a-story.md"]
    assert list(iter_story_files(tmp_path)) == [path]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "news" / "2018" / "x.md"
    write_text_atomic(path, "old\n")

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in path.parent.iterdir()] == ["x.md"]


def test_slugs_are_stable_and_readable() -> None:
    assert slugify("Top 10 CSR Events in China 2018") == "top-10-csr-events-in-china-2018"
    zh = slugify("2017年度中国十大企业社会责任事件", "https://example.cn/a/1.html")
    assert zh == slugify("2017年度中国十大企业社会责任事件", "https://example.cn/a/1.html")
    assert zh != slugify("2017年度中国十大企业社会责任事件", "https://example.cn/a/2.html")
    assert zh.isascii() and " " not in zh


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=120), st.text(max_size=40))
def test_any_title_gives_a_url_safe_slug(title: str, key: str) -> None:
    slug = slugify(title, key)
    assert slug and slug.isascii()
    assert all(c.isalnum() or c == "-" for c in slug)
    assert slug == slugify(title, key)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["Title", "Summary", "Tags", "Source"]),
        st.text(min_size=1).filter(lambda s: s.strip()),
    ),
    st.text(),
)
def test_any_metadata_round_trips(meta: dict[str, str], body: str) -> None:
    story = Story(body=body)
    for key, value in meta.items():
        story.set(key, value)
    text = render_story(story)
    again = parse_story(text)

    def strip(meta: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in meta.items() if k != "Fingerprint"}

    assert strip(again.meta) == strip(story.meta)
    normalised = body.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip("\n")
    assert again.body.strip("\n") == normalised
    assert not is_edited(text)


def test_written_files_get_the_umasks_mode_not_0600(tmp_path) -> None:
    """Story files, desk objects and caches are written through a temporary file renamed over
    the target; it is made as open() makes files (0666 less the umask), so a site built or
    served by another user of the group can read them (tempfile.mkstemp made them 0600)."""
    import stat

    from csrnews.desk.objects import ObjectStore
    from csrnews.story.atomicfile import replacing

    mask = os.umask(0o027)
    try:
        path = story_path(tmp_path, 2017, "a-story")
        write_story(path, _story())
        store = ObjectStore(tmp_path / "objects")
        sha = store.put("a text")
        with replacing(tmp_path / "cache" / "a.pickle") as handle:
            handle.write(b"data")
    finally:
        os.umask(mask)
    written = [path, store._path(sha), tmp_path / "cache" / "a.pickle"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o640}
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["a.pickle"]
