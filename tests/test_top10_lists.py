"""The top-10 data API the site plugin calls, and every validation error, with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from csrnews.story.storyfile import Story, slugify, write_story
from csrnews.top10 import Top10Error, badges, check_lists, find_list, load_lists

FIXTURE = Path(__file__).parent / "fixtures" / "top10" / "content"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    """A copy of the fixture content folder (stories under news/, lists under top10/)."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def _list_file(content: Path) -> Path:
    return content / "top10" / "2018.yaml"


def _replace(content: Path, old: str, new: str) -> Path:
    path = _list_file(content)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _messages(content: Path) -> list[str]:
    return [str(p) for p in check_lists(content)[1]]


def test_load_lists_gives_the_fields_the_site_uses(content: Path) -> None:
    (lst,) = load_lists(content)
    assert (lst.year, lst.title, lst.status, lst.published) == (
        2018,
        "Top 10 CSR Events of 2018",
        "published",
        True,
    )
    assert lst.introduction == "The events that shaped CSR in 2018."
    assert lst.path == _list_file(content) and lst.name == "2018" and lst.region == "China"
    first, second, third = lst.entries
    assert (first.rank, first.headline, first.stories) == (
        1,
        "MIIT issues an electronics CSR standard",
        ["miit-standard"],
    )
    assert first.account == "A management system standard for electronics firms."
    assert first.reason == "Firms can be assessed against it."
    assert first.related == ["dyeing-permits"]
    assert second.stories == ["dyeing-permits"]
    assert second.reason == "Public data: a procurement signal."
    assert third.url == "https://www.iso.org/standard/63787.html" and third.stories == []
    assert first.line == 10 and second.line == 20  # the entries' lines, for error messages


def test_the_fixture_is_valid(content: Path) -> None:
    assert _messages(content) == []


def test_badges_for_published_lists_only(content: Path) -> None:
    lists = load_lists(content)
    assert badges(lists) == {
        "miit-standard": ["No. 1 in Top 10 CSR Events of 2018"],
        "dyeing-permits": ["No. 2 in Top 10 CSR Events of 2018"],
    }
    _replace(content, "status: published", "status: draft")
    drafts = load_lists(content)
    assert drafts[0].status == "draft" and badges(drafts) == {}


def test_a_draft_with_problems_does_not_stop_loading(content: Path) -> None:
    _replace(content, "status: published", "status: draft")
    _replace(content, "stories: [miit-standard]", "stories: [no-such-story]")
    assert load_lists(content)[0].entries[0].stories == ["no-such-story"]
    assert any("no-such-story" in m for m in _messages(content))  # check still reports it


def test_a_published_list_with_problems_stops_loading(content: Path) -> None:
    _replace(content, "stories: [miit-standard]", "stories: [no-such-story]")
    with pytest.raises(Top10Error) as info:
        load_lists(content)
    assert str(info.value) == (
        f"{_list_file(content)}:10: entry No. 1 ('MIIT issues an electronics CSR standard'): "
        "story 'no-such-story' not found in the archive"
    )


def test_syntax_error_gives_the_parsers_line(content: Path) -> None:
    _replace(
        content, "    headline: Dyeing mills need discharge permits", "    headline: [unclosed"
    )
    with pytest.raises(Top10Error) as info:
        load_lists(content)
    message = str(info.value)
    assert message.startswith(f"{_list_file(content)}:2") and "YAML syntax error" in message
    line = int(message.split(":")[1])
    assert 21 <= line <= 23  # where the parser noticed, at or just after line 21


def test_duplicate_key_is_a_syntax_error(content: Path) -> None:
    _replace(
        content,
        "    reason: A three-year migration starts.",
        "    reason: A three-year migration starts.\n    reason: twice",
    )
    assert "YAML syntax error" in _messages(content)[0]


def test_not_a_mapping(content: Path) -> None:
    _list_file(content).write_text("- just\n- a list\n", encoding="utf-8")
    assert _messages(content) == [
        f"{_list_file(content)}:1: a list file must be a YAML mapping (year:, title:, ...)"
    ]


# (old text, new text, expected message fragment, expected line)
ERRORS = [
    (
        "    stories: [miit-standard]",
        "    stories: [no-such-story]",
        "story 'no-such-story' not found in the archive",
        10,
    ),
    ("  - rank: 2\n", "  - rank: 1\n", "rank 1 is used twice (also on line 10)", 20),
    ("  - rank: 3\n", "  - rank: 4\n", "ranks have a gap: no entry ranked 3", 10),
    ("  - rank: 3\n", "  - rank: 4\n", "rank 4 is outside 1..3", 27),
    ("  - rank: 3\n", "  - rank: third\n", "rank 'third' is not a whole number", 27),
    ("  - rank: 3\n", "  - headline_x: 1\n    rank: 3\n", "unknown key 'headline_x'", 27),
    (
        "    stories: [miit-standard]",
        "    stories: [sjt-16000-pilot]",
        "story 'sjt-16000-pilot' is dated 2017-03-02, not in 2018 (add out_of_year_reason:",
        10,
    ),
    (
        "    stories:\n      - dyeing-permits",
        "    stories:\n      - miit-standard",
        "story 'miit-standard' is listed twice (already in entry No. 1",
        20,
    ),
    (
        "    stories: [miit-standard]",
        "    stories: [hidden-story]",
        "story 'hidden-story' is hidden (Status: hidden) and has no page",
        10,
    ),
    (
        "    url: https://www.iso.org/standard/63787.html\n",
        "",
        "needs stories (slugs) or an external url",
        27,
    ),
    (
        "    url: https://www.iso.org/standard/63787.html",
        "    url: www.iso.org",
        "url 'www.iso.org' must start with http:// or https://",
        27,
    ),
    ("    headline: ISO 45001 is published\n", "", "missing headline", 27),
    (
        "    reason: A three-year migration starts.\n",
        "",
        "missing reason (the reason for listing)",
        27,
    ),
    (
        "    related: [iso-workshop]",
        "    related: [no-such-related]",
        "related story 'no-such-related' not found in the archive",
        27,
    ),
    ("status: published ", "status: final ", "status 'final' must be one of: draft, published", 5),
    ("year: 2018", "year: 2017", "year 2017 does not match the file name 2018.yaml", 3),
    ("year: 2018\n", "", "missing year", 1),
    ("title: Top 10 CSR Events of 2018\n", "", "missing title", 1),
    ("region: China", "regoin: China", "unknown key 'regoin'", 33),
    ("region: China", "max_entries: 2", "3 entries, more than max_entries 2", 27),
    (
        "region: China",
        "max_entries: none",
        "max_entries 'none' must be a positive whole number",
        33,
    ),
    (
        "    stories: [miit-standard]",
        "    stories: {a: b}",
        "stories must be a list of slugs or URLs",
        12,
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "fragment", "line"), ERRORS, ids=[e[2][:40] for e in ERRORS]
)
def test_every_validation_error_names_file_line_and_entry(
    content: Path, old: str, new: str, fragment: str, line: int
) -> None:
    path = _replace(content, old, new)
    messages = _messages(content)
    matching = [m for m in messages if fragment in m]
    assert matching, messages
    assert matching[0].startswith(f"{path}:{line}: "), matching[0]


def test_more_than_ten_entries_needs_max_entries(content: Path) -> None:
    path = _list_file(content)
    extra = "".join(
        f"  - rank: {rank}\n    headline: Extra {rank}\n    url: https://example.org/{rank}\n"
        f"    reason: Because.\n"
        for rank in range(4, 12)
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace("# Panel", extra + "# Panel"), encoding="utf-8"
    )
    assert any("11 entries, more than max_entries 10" in m for m in _messages(content))
    path.write_text(
        path.read_text(encoding="utf-8").replace("region: China", "max_entries: 11"),
        encoding="utf-8",
    )
    assert _messages(content) == []


def test_out_of_year_reason_allows_an_older_story(content: Path) -> None:
    _replace(
        content,
        "    stories: [miit-standard]",
        "    stories: [sjt-16000-pilot]\n    out_of_year_reason: The pilot's results came in 2018.",
    )
    assert _messages(content) == []


def test_find_list_with_several_lists(content: Path) -> None:
    top10 = content / "top10"
    assert find_list(content, 2018) == top10 / "2018.yaml"
    shutil.copy(top10 / "2018.yaml", top10 / "2018-electronics.yaml")
    assert find_list(content, 2018, "2018-electronics") == top10 / "2018-electronics.yaml"
    (top10 / "2018.yaml").unlink()
    shutil.copy(top10 / "2018-electronics.yaml", top10 / "2018-textiles.yaml")
    with pytest.raises(Top10Error, match="several lists"):
        find_list(content, 2018)
    with pytest.raises(Top10Error, match="no list for 2019"):
        find_list(content, 2019)
    assert [lst.name for lst in load_lists(content)] == ["2018-electronics", "2018-textiles"]


def _demo_content(tmp_path: Path) -> Path:
    """Story files made from the demo publisher's stories, slugged as the crawler slugs them."""
    content = tmp_path / "demo-content"
    for source in sorted((ROOT / "csrnews" / "demo" / "stories").glob("*/*.md")):
        front = yaml.safe_load(source.read_text(encoding="utf-8").split("---")[1])
        date = str(front["date"])[:10]
        slug = slugify(front["title"], f"https://demo.example/{front['id']}")
        story = Story(meta={"Title": front["title"], "Date": date, "Slug": slug})
        write_story(content / "news" / date[:4] / f"{slug}.md", story)
    shutil.copytree(ROOT / "csrnews" / "demo" / "top10", content / "top10")
    return content


def test_the_demo_lists_are_valid(tmp_path: Path) -> None:
    content = _demo_content(tmp_path)
    _, problems = check_lists(content)
    # The 2019 draft's third entry has no reason yet: a draft may be unfinished.
    assert [str(p) for p in problems] == []
    by_year = {lst.year: lst for lst in load_lists(content)}
    assert by_year[2018].published and len(by_year[2018].entries) == 10
    assert by_year[2018].title == "Top 10 CSR Events of 2018"
    assert by_year[2019].status == "draft"
    marks = badges(list(by_year.values()))
    assert marks["shenzhen-forum-amfori-and-rba-urge-suppliers-to-join-up-audits"] == [
        "No. 4 in Top 10 CSR Events of 2018"
    ]
    assert not any("cobalt" in slug for slug in marks)  # the 2019 draft gives no badges
