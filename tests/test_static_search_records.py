"""The static search's records: story files and sidecars read as the story reader reads them."""

from __future__ import annotations

from pathlib import Path

from csrnews.search.document import markdown_to_text, story_document
from csrnews.search.filemap import scan_story_files
from csrnews.search.staticsearch import record_of

from csrnews.story.storyfile import parse_story

HEADER = (
    "Title: Buyers meet in Shenzhen\n"
    "Date: 2025-03-04T09:00:00+08:00\n"
    "Lang: en\n"
    "Summary: Buyers met suppliers.\n"
    "Category: Summit\n"
    "Organisations: amfori, RBA\n"
    "Source: The CSR Herald\n"
)
BODY = (
    "Buyers met **suppliers** in [Shenzhen](https://example.org/).\n\n## Audits\n\n- one\n- two\n"
)


def _write(content: Path, slug: str, text: str, sidecar: str | None = None) -> Path:
    folder = content / "news" / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    path.write_bytes(text.encode("utf-8"))
    if sidecar is not None:
        (folder / f"{slug}.fulltext.txt").write_bytes(sidecar.encode("utf-8"))
    return path


def _records(content: Path) -> dict[str, dict[str, object] | None]:
    return {story.doc_id.rsplit("/", 1)[1]: record_of(story) for story in scan_story_files(content)}


def test_records_read_line_ends_as_path_read_text_does(tmp_path: Path) -> None:
    content = tmp_path / "content"
    text = f"{HEADER}Slug: lf\n\n{BODY}"
    _write(content, "lf", text)
    _write(content, "crlf", text.replace("Slug: lf", "Slug: crlf").replace("\n", "\r\n"))
    sidecar = "First line of the full text.\r\nSecond line.\rThird line.\n"
    _write(content, "side", text.replace("Slug: lf", "Slug: side"), sidecar)
    records = _records(content)

    lf, crlf, side = records["lf.md"], records["crlf.md"], records["side.md"]
    assert lf is not None and crlf is not None and side is not None
    assert crlf["content"] == lf["content"] and crlf["meta"] == lf["meta"]
    assert (
        crlf["filters"]
        == lf["filters"]
        == {
            "type": ["summit"],
            "org": ["amfori", "RBA"],
            "year": ["2025"],
            "lang": ["en"],
        }
    )
    # the sidecar's text as Path.read_text gives it (universal newlines), not its bytes
    path = content / "news/2025/side.md"
    expected = story_document(parse_story(path.read_text(encoding="utf-8"), path), "x", "")
    assert expected is not None and "\r" not in str(expected["body"])
    assert side["content"] == f"Buyers meet in Shenzhen\nBuyers met suppliers.\n{expected['body']}"


def test_a_sidecar_is_looked_for_unless_the_caller_says_there_is_none(tmp_path: Path) -> None:
    content = tmp_path / "content"
    path = _write(content, "late", f"{HEADER}\n{BODY}", sidecar="The full text.")
    story = parse_story(path.read_text(encoding="utf-8"), path)

    looked = story_document(story, "id", "")
    not_looked = story_document(story, "id", "", look_for_sidecar=False)
    assert looked is not None and not_looked is not None
    assert looked["body"] == "The full text."
    assert not_looked["body"] == markdown_to_text(story.body)
    # a record follows the scan: a sidecar written after the story files were listed waits
    # for the next build (its stat is not in the shard's key yet)
    (content / "news/2025/late.fulltext.txt").unlink()
    listed = scan_story_files(content)
    (content / "news/2025/late.fulltext.txt").write_text("Written later.", encoding="utf-8")
    record = record_of(listed[0])
    assert record is not None and "Written later." not in str(record["content"])
    assert "The full text." not in str(record["content"])
