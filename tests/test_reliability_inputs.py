"""Reliability with malformed input: story files (quarantine), sources files, top-10 lists.

Every story file that cannot be published is left out of the site and the index alike, with
its reason; the rest is published. Every malformed sources or top-10 file is a one-line error
naming the file (and the line where it applies), never a traceback.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from csrnews.search import SearchRequest, SearchService, update_index

from csrnews.site.build import build_site
from csrnews.story.storycheck import check_bytes, find_quarantine
from csrnews.story.storyfile import iter_story_files
from tests.conftest import run_cli

GOOD = (
    "Title: {title}\nDate: 2018-05-0{n}T09:00:00+08:00\nSlug: good-{n}\nLang: en\n"
    "Category: Report\nTags: labour\nOrganisations: amfori\n\n"
    "The {title} was published with a survey of {n} hundred suppliers and their wages.\n"
)

# Each malformed kind from issue 17 and a few more, with the words its reason must contain.
MALFORMED: dict[str, tuple[bytes, str]] = {
    "no-colon": (b"Title: No colon\nDate 2018-01-01\n\nBody.\n", "no colon in header line"),
    "binary": (random.Random(17).randbytes(4096), "not UTF-8"),
    "bad-utf8": (b"Title: Bad \xff utf8\nDate: 2018-01-01\n\nBody\n", "not UTF-8"),
    "missing-title": (b"Date: 2018-01-01\nCategory: Report\n\nBody.\n", "no Title"),
    "empty": (b"", "empty file"),
    "blank": (b"  \n\n \n", "empty file"),
    "bad-date": (b"Title: Bad date\nDate: yesterday-ish\n\nBody.\n", "not an ISO 8601 date"),
    "year-99999": (b"Title: Far\nDate: 99999-01-01\n\nBody.\n", "year must be 1000..9999"),
    "year-0": (b"Title: Zero\nDate: 0000-01-01\n\nBody.\n", "not an ISO 8601 date"),
    "status-maybe": (b"Title: Maybe\nDate: 2018-01-01\nStatus: maybe\n\nB.\n", "Status 'maybe'"),
    "utf16": ("Title: UTF16\nDate: 2018-01-01\n\nBody.\n".encode("utf-16"), "UTF-16"),
    "utf16-no-bom": ("Title: U\nDate: 2018-01-01\n\nBody.\n".encode("utf-16-le"), "UTF-16"),
    "no-date": (b"Title: No date\n\nBody.\n", "no Date"),
    "twice": (b"Title: T\nDate: 2018-01-01\nDate: 2018-02-01\n\nB.\n", "given twice"),
    "bad-modified": (b"Title: M\nDate: 2018-01-01\nModified: soon\n\nB.\n", "Modified"),
    "traversal": (b"Title: T\nDate: 2018-01-01\nSlug: ../../../x\n\nB.\n", "Slug"),
    "nul-bytes": (b"Title: Nul\nDate: 2018-01-01\n\nBody \x00\x01 junk.\n", "control character"),
    "offset-99": (b"Title: Tz\nDate: 2018-01-01T10:00:00+99:00\n\nB.\n", "not an ISO 8601"),
    "only-punct": (b"Title: !!!\nDate: 2018-01-01\n\nBody.\n", "no letter or digit"),
    "empty-standard": (b"Title: S\nDate: 2018-01-01\nStandards: ;;;\n\nB.\n", "Standards"),
    "bad-key": (b"Title: K\nDate: 2018-01-01\nEvent-date: x\n\nB.\n", "is not a key"),
    "header-only-text": (b"Just some text without a header\n\nMore.\n", "does not start"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_each_malformed_kind_has_a_reason(name: str) -> None:
    raw, words = MALFORMED[name]
    reason = check_bytes(raw)
    assert reason is not None and words in reason, (name, reason)


def test_good_stories_and_pages_pass() -> None:
    for n in range(1, 4):
        assert check_bytes(GOOD.format(title=f"Report {n}", n=n).encode()) is None
    assert check_bytes("\ufeffTitle: 年会在北京召开\nDate: 2019-08-28\n\n正文。\n".encode()) is None
    assert check_bytes(b"Title: About\n\nA page needs no date.\n", story=False) is None
    assert check_bytes(b"Title: Hidden\nDate: 2018-01-01\nStatus: Hidden\n\nB.\n") is None
    assert check_bytes(b"Title: Long\nDate: 2018-01-01\nSummary: a\n    continued\n\nB.\n") is None


def _content(base: Path, malformed: dict[str, bytes]) -> Path:
    content = base / "content"
    (content / "news" / "2018").mkdir(parents=True)
    for n in range(1, 4):
        (content / "news" / "2018" / f"good-{n}.md").write_text(
            GOOD.format(title=f"Wage survey {n}", n=n), encoding="utf-8"
        )
    for name, raw in malformed.items():
        (content / "news" / "2018" / f"{name}.md").write_bytes(raw)
    return content


@pytest.mark.slow
def test_build_leaves_every_malformed_kind_out_of_site_and_index(tmp_path: Path) -> None:
    content = _content(tmp_path, {name: raw for name, (raw, _) in MALFORMED.items()})
    # A copy of a good story (same Slug and year): the second at one address is left out.
    shutil.copy(content / "news/2018/good-1.md", content / "news/2018/good-1-copy.md")
    out, index = tmp_path / "out", tmp_path / "index"
    result = run_cli(
        "build",
        "--content",
        str(content),
        "--output",
        str(out),
        "--index",
        str(index),
        "--report",
        str(tmp_path / "build.json"),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name, (_, words) in MALFORMED.items():
        assert f"news/2018/{name}.md: " in result.stderr and words in result.stderr, name
    assert "news/2018/good-1-copy.md: the same address as news/2018/good-1.md" in result.stderr
    left_out = len(MALFORMED) + 1
    assert f"{left_out} story files left out" in result.stdout
    report = json.loads((tmp_path / "build.json").read_text())
    assert len(report["quarantined"]) == left_out and report["articles"] == 3
    pages = sorted(p.parent.name for p in (out / "news" / "2018").glob("*/index.html"))
    assert pages == ["good-1", "good-2", "good-3"]
    answer = SearchService(index).search(SearchRequest(q="wage survey"))
    assert sorted(hit["url"] for hit in answer["hits"]) == [
        f"/news/2018/good-{n}/" for n in (1, 2, 3)
    ]
    # Fixed files come back in the next build, in both.
    (content / "news/2018/no-title.md").write_bytes(b"")
    (content / "news/2018/missing-title.md").write_text(
        "Title: Wage survey late\nDate: 2018-01-01\n\nThe late wage survey.\n", encoding="utf-8"
    )
    (content / "news/2018/good-1-copy.md").unlink()
    again = run_cli("build", "--content", str(content), "--output", str(out), "--index", str(index))
    assert again.returncode == 0, again.stderr
    assert (out / "news/2018/wage-survey-late/index.html").is_file()  # no Slug: from the Title
    late = SearchService(index).search(SearchRequest(q="late"))
    assert [hit["url"] for hit in late["hits"]] == ["/news/2018/wage-survey-late/"]


@pytest.mark.parametrize(
    "title",
    [
        "Wage survey late",
        "第七届企业社会责任年会在北京召开",
        "<b>Bold</b> & “quoted” SA8000: the 2018 review!",
        "Ünïcödé   spaced -- dashes__under",
        "Ｆｕｌｌ　ｗｉｄｔｈ ２０１８",
    ],
)
def test_the_index_gives_a_slugless_story_the_url_pelican_gives_it(title: str) -> None:
    from pelican.settings import read_settings
    from pelican.utils import slugify

    from csrnews.story import settings
    from csrnews.story.urls import SLUG_SUBSTITUTIONS, title_slug

    conf = read_settings(str(settings.PELICANCONF))
    assert [tuple(p) for p in conf["SLUG_REGEX_SUBSTITUTIONS"]] == list(SLUG_SUBSTITUTIONS)
    assert conf["SLUGIFY_SOURCE"] == "title"
    expected = slugify(title, regex_subs=conf["SLUG_REGEX_SUBSTITUTIONS"])
    assert title_slug(title) == expected


def _mutations(seed: int, count: int) -> dict[str, bytes]:
    """Story files made invalid (or not) at random: the checks and Pelican must agree."""
    rng = random.Random(seed)
    base = GOOD.format(title="Mutated wage survey", n=4).encode()
    out = {}
    for i in range(count):
        raw = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(5)
            pos = rng.randrange(len(raw) + 1)
            if op == 0 and raw:
                del raw[pos : pos + rng.randint(1, 12)]
            elif op == 1:
                raw[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
            elif op == 2:
                raw[pos:pos] = rng.choice(
                    [
                        b":",
                        b"\n",
                        b"\n\n",
                        b"Date: ",
                        b"Status: ",
                        b"Slug: ",
                        b"    ",
                        b"\t",
                        b"Title:",
                        b"9999",
                        b"-",
                        b"\r",
                        b"\xef\xbb\xbf",
                        b"Tags: ,;",
                        b"Lang: ",
                    ]
                )
            elif op == 3 and raw:
                raw[pos % len(raw)] = rng.randrange(256)
            else:
                lines = raw.split(b"\n")
                rng.shuffle(lines[:6])
                raw = bytearray(b"\n".join(lines))
        out[f"mutant-{seed}-{i}"] = bytes(raw)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(int(os.environ.get("CSRNEWS_RELIABILITY_ROUNDS", "2"))))
def test_randomly_broken_stories_never_stop_the_build(tmp_path: Path, seed: int) -> None:
    """Whatever the checks let through, Pelican builds; whatever they stop, it never sees."""
    content = _content(tmp_path, _mutations(seed, 40))
    stats = build_site(content, tmp_path / "out", quiet=True, cache_dir=tmp_path / "cache")
    caught_by_pelican = [q for q in stats.quarantined if q.reason.startswith("Pelican:")]
    assert not caught_by_pelican, caught_by_pelican  # the checks foresaw every failure
    left_out = {q.path for q in stats.quarantined}
    assert left_out == {q.path for q in find_quarantine(content)}
    published = {p.relative_to(content).as_posix() for p in iter_story_files(content)} - left_out
    assert stats.articles <= len(published) and stats.articles >= 3
    update = update_index(content, tmp_path / "index")
    assert {q["path"] for q in update.quarantined} == left_out


# --- sources files and top-10 lists: one-line errors, no traceback ---------------------------


def _one_line_error(result: object, *words: str) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        (
            "latin1",
            b"sources:\n  - name: Caf\xe9\n    feed: https://e.org/f\n",
            ("line 2", "not UTF-8"),
        ),
        (
            "deep-flow",
            ("sources: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
            ("nested too deeply",),
        ),
        (
            "deep-block",
            ("sources:\n" + "".join("  " * i + "- \n" for i in range(3000))).encode(),
            ("nested too deeply",),
        ),
        (
            "twice",
            b"sources:\n  - name: A\n    feed: https://e.org/f\n    feed: https://e.org/g\n",
            ("line 4", "'feed' is given twice", "line 3"),
        ),
        (
            "twice-top",
            b"contact: a@e.org\ncontact: b@e.org\nsources: []\n",
            ("line 2", "'contact' is given twice"),
        ),
        ("binary", random.Random(4).randbytes(2000), ("sources",)),
        ("bad-yaml", b"sources:\n  - name: [unclosed\n", ("line", "not valid YAML")),
        (
            "url-allowed",
            b"sources:\n  - name: A\n    feed: https://e.org/f\n"
            b"    allowed_domains: ['https://e.org/']\n",
            ("allowed_domains",),
        ),
    ],
)
@pytest.mark.slow
def test_a_malformed_sources_file_is_one_line_naming_it(
    tmp_path: Path, name: str, raw: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(raw)
    result = run_cli(
        "crawl",
        "--sources",
        str(path),
        "--content",
        str(tmp_path / "c"),
        "--state",
        str(tmp_path / "s"),
        timeout=120,
    )
    assert result.returncode == 2
    line = _one_line_error(result, *words)
    assert str(path) in line
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").rglob("*.md"))


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (
            b"year: 2019\ntitle: x\nstatus: published\nentries: " + b"[" * 5000 + b"]" * 5000,
            ("2019.yaml", "nested too deeply"),
        ),
        (
            b"year: 2019\ntitle: x\ntitle: y\nstatus: draft\nentries: []\n",
            ("2019.yaml:3", "duplicate key"),
        ),
        (b"year: 2019\ntitle: \xff\xfe\nentries: []\n", ("2019.yaml", "cannot read")),
        (("year: 2019\nentries:\n" + "  - " * 3000 + "x\n").encode(), ("2019.yaml",)),
    ],
)
@pytest.mark.slow
def test_a_malformed_top10_list_is_named_by_check_and_build(
    tmp_path: Path, raw: bytes, words: tuple[str, ...]
) -> None:
    content = _content(tmp_path, {})
    (content / "top10").mkdir()
    (content / "top10" / "2019.yaml").write_bytes(raw)
    checked = run_cli("top10", "check", "--content", str(content))
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert all(w in checked.stderr for w in words), checked.stderr
    built = run_cli(
        "build",
        "--content",
        str(content),
        "--output",
        str(tmp_path / "o"),
        "--index",
        str(tmp_path / "i"),
    )
    assert "Traceback" not in built.stderr
    if built.returncode != 0:  # a list that may be published and cannot be read stops it
        line = _one_line_error(built, "2019.yaml")
        assert "site build failed" in line


def test_unknown_files_in_top10_are_warned_about(tmp_path: Path) -> None:
    content = _content(tmp_path, {})
    (content / "top10").mkdir()
    (content / "top10" / "latest.yaml").write_text(
        "year: 2019\ntitle: Latest\nstatus: published\nentries: []\n", encoding="utf-8"
    )
    (content / "top10" / "2019.yml").write_text("year: 2019\n", encoding="utf-8")
    (content / "top10" / "weights.yaml").write_text("{}\n", encoding="utf-8")
    checked = run_cli("top10", "check", "--content", str(content))
    assert checked.returncode == 0, checked.stderr
    for name in ("latest.yaml", "2019.yml"):
        assert f"{name}: not a top-10 list file and ignored" in checked.stderr
    assert "weights.yaml: not" not in checked.stderr
    built = run_cli(
        "build",
        "--content",
        str(content),
        "--output",
        str(tmp_path / "o"),
        "--index",
        str(tmp_path / "i"),
    )
    assert built.returncode == 0 and "latest.yaml: not a top-10 list file" in built.stderr
