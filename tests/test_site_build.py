"""The static site built from tests/samples/content: pages, links, safety, feeds, golden output."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest
from csrnews.search.staticsearch import build_static_search

from csrnews.site.build import STALE_TEMPORARY_AGE, SiteBuildError, build_site
from csrnews.site.folders import build_lock_of
from csrnews.site.incremental import MODULE_KEYS
from csrnews.story.storyfile import iter_story_files, read_story
from tests.conftest import ROOT, run_cli
from tests.golden_site import GOLDEN, GOLDEN_TODAY, SAMPLES, compare

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
STORY = "news/2024/green-supply-chain-summit-opens-in-shenzhen/index.html"


class _Checker(HTMLParser):
    """Tag balance, one <html lang>, unique ids, <img alt>, and every link target."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.langs: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.langs.append(a.get("lang") or "")
        if a.get("id"):
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"] or "")
        if tag == "img" and "alt" not in a:
            self.errors.append("img without alt")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        for key in ("href", "src"):
            if a.get(key) and tag in {"a", "link", "script", "img"}:
                self.links.append(a[key] or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()


def check_html(path: Path) -> _Checker:
    text = path.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if not text.startswith("<!DOCTYPE html>"):
        checker.errors.append("no doctype")
    if checker.stack:
        checker.errors.append(f"unclosed {checker.stack}")
    if len(checker.langs) != 1 or not checker.langs[0]:
        checker.errors.append("no <html lang>")
    return checker


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "output"
    stats = build_site(SAMPLES, out, quiet=True, extra_settings={"CSR_TODAY": GOLDEN_TODAY})
    build_static_search(SAMPLES, out)  # as the golden site is built (tests/golden_site.py)
    visible = [p for p in iter_story_files(SAMPLES) if read_story(p).get("Status") != "hidden"]
    assert stats.articles == len(visible) == 12  # a zero-article build fails loudly
    assert stats.pages == 1
    return out


def test_expected_pages_exist(site: Path) -> None:
    for rel in [
        "index.html",
        STORY,
        "type/summit-forum/index.html",
        "tag/labour/index.html",
        "org/amfori/index.html",
        "org/index.html",
        "standard/sjt-16000-2016/index.html",
        "standard/index.html",
        "source/csr-daily/index.html",
        "2024/index.html",
        "2024/03/index.html",
        "about/index.html",
        "404.html",
        "search/index.html",
        "top10/index.html",
        "feeds/all.atom.xml",
        "feeds/all.rss.xml",
        "feeds/type/summit-forum.atom.xml",
        "feeds/type/summit-forum.rss.xml",
        "feeds/org/amfori.atom.xml",
        "feeds/2024.atom.xml",
        "feeds/2024/03.atom.xml",
        "sitemap.xml",
        "robots.txt",
        "events.ics",
    ]:
        assert (site / rel).is_file(), rel


def test_every_page_is_valid_html_with_ordered_headings(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 40
    for page in pages:
        checker = check_html(page)
        assert not checker.errors, (page, checker.errors)
        assert checker.headings and checker.headings[0] == 1, page
        for before, after in zip(checker.headings, checker.headings[1:], strict=False):
            assert after <= before + 1, (page, checker.headings)


def test_no_broken_internal_links_and_no_external_assets(site: Path) -> None:
    broken = []
    for page in sorted(site.rglob("*.html")):
        for link in check_html(page).links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                assert not page.read_text(encoding="utf-8").count(f'src="{link}"'), link
                continue
            if parts.scheme or not parts.path:
                continue
            target = site / unquote(parts.path).lstrip("/")
            if parts.path.endswith("/"):
                target = target / "index.html"
            if not target.is_file() and not target.name == "x.png":  # the hostile story's img
                broken.append(f"{page.relative_to(site)} -> {link}")
    assert not broken, broken


def test_hidden_story_appears_nowhere(site: Path) -> None:
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".ics", ".txt"}:
            assert "hidden-story" not in path.read_text(encoding="utf-8"), path


def test_hostile_html_is_sanitised(site: Path) -> None:
    text = (site / "news/2024/hostile-markup-test-story/index.html").read_text(encoding="utf-8")
    body = text.split('class="story-body"')[1].split("</div>")[0]
    assert "Seats are limited." in body and "sustainable sourcing" in body
    for bad in ("<script", "<iframe", "onerror", "onclick", "javascript:"):
        assert bad not in body.lower()
    assert "alert" not in text
    assert "<h1>Sourcing training &lt;2024&gt; for R&amp;D &amp; purchasing teams</h1>" in text
    feed = (site / "feeds/all.atom.xml").read_text(encoding="utf-8")
    assert "javascript:" not in feed and "&lt;script" not in feed and "alert" not in feed


def test_story_page_content_and_machine_readable_data(site: Path) -> None:
    text = (site / STORY).read_text(encoding="utf-8")
    for needle in [
        'href="/org/amfori/"',
        'href="/standard/sjt-16000-2016/"',
        'href="/tag/green-procurement/"',
        'href="/type/summit-forum/"',
        'class="original-link" href="https://news.example.com/green-supply',
        'href="https://other.example.org/green-supply',
        'datetime="2024-04-18"',
        '<link rel="canonical" href="/news/2024/green-supply',
        'property="og:title"',
        'rel="next"',
    ]:
        assert needle in text, needle
    # related stories are earlier ones (csr_related): a later story on the same standard
    later = (site / "news/2025/iso-26000-forum-in-shanghai/index.html").read_text(encoding="utf-8")
    assert 'class="related"' in later and "green-supply-chain-summit-opens-in-shenzhen" in later
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    types = {json.loads(b)["@type"]: json.loads(b) for b in blocks}
    assert types["NewsArticle"]["headline"] == "Green supply chain summit opens in Shenzhen"
    assert types["Event"]["startDate"] == "2024-04-18"
    assert (
        len(text.encode())
        + sum((site / "theme" / p).stat().st_size for p in ("css/main.css", "js/lang-filter.js"))
        < 100_000
    )
    undated = (site / "news/2024/annual-csr-report-of-a-textile-group/index.html").read_text()
    assert '"@type": "Event"' not in undated and '"NewsArticle"' in undated


def test_chinese_story_has_lang_and_lists_carry_language(site: Path) -> None:
    text = (site / "news/2024/zh-3f1a2b4c5d/index.html").read_text(encoding="utf-8")
    assert text.split("\n")[1] == '<html lang="zh">'
    assert "中国纺织企业社会责任年会在京举行" in text
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'data-lang="zh"' in home and 'data-lang-filter="zh"' in home
    assert ":lang(zh)" in (site / "theme/css/main.css").read_text(encoding="utf-8")


def test_directories_have_counts(site: Path) -> None:
    orgs = (site / "org/index.html").read_text(encoding="utf-8")
    assert re.search(r'href="/org/amfori/">amfori</a> <span class="count">\(5 stories\)', orgs)
    stds = (site / "standard/index.html").read_text(encoding="utf-8")
    assert 'SJ/T 16000-2016</a> <span class="count">(3 stories)' in stds


def test_feeds_sitemap_robots_ical(site: Path) -> None:
    atom = ElementTree.parse(site / "feeds/all.atom.xml").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(atom.findall("a:entry", ns)) == 12
    ElementTree.parse(site / "feeds/all.rss.xml")
    org_feed = ElementTree.parse(site / "feeds/org/amfori.atom.xml").getroot()
    assert len(org_feed.findall("a:entry", ns)) == 5
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    ElementTree.fromstring(sitemap)
    assert f"<loc>/{STORY.removesuffix('index.html')}</loc><lastmod>" in sitemap
    # without a site URL there is no absolute URL to give: no Sitemap line (see
    # tests/test_site_production.py for a build with one)
    robots = (site / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert not [line for line in robots if line.startswith("Sitemap:")]
    ics = (site / "events.ics").read_bytes().decode("utf-8")
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:20240418" in ics and "DTSTART;VALUE=DATE:20241015" in ics
    assert "annual-csr-report" not in ics  # reports are not events
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))


def test_golden_site(site: Path) -> None:
    problems = compare(site, GOLDEN)
    assert not problems, "golden site differs (make golden to accept):\n" + "\n".join(problems)


@pytest.mark.slow
def test_the_related_stories_cache_is_made_like_pelicans_cache_files(site: Path) -> None:
    """csrnews-related.pickle follows the umask (0644 under 022) like Pelican's own cache files;
    it was made 0600 through a temporary file."""
    import os
    import stat

    mask = os.umask(0o022)
    os.umask(mask)
    cache = site.parent / ".pelican-cache"
    (related,) = cache.glob("*/csrnews-related.pickle")
    pelicans = [p for p in related.parent.iterdir() if p.is_file() and p != related]
    assert pelicans, sorted(related.parent.iterdir())
    modes = {stat.S_IMODE(p.stat().st_mode) for p in [related, *pelicans]}
    assert modes == {0o666 & ~mask}, {
        p.name: oct(p.stat().st_mode) for p in related.parent.iterdir()
    }


def test_cli_build_and_failed_build_keeps_last_site(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(SAMPLES, content)
    out, index = tmp_path / "out", tmp_path / "index"
    done = run_cli("build", "--content", str(content), "--output", str(out), "--index", str(index))
    assert done.returncode == 0, done.stderr
    assert "Built 12 stories and 1 page " in done.stdout
    assert (out / STORY).is_file()
    # One bad story is left out of site and index (quarantine); the build goes on.
    bad = content / "news" / "2025" / "broken.md"
    bad.write_text("Title: Broken\nDate: not a date at all\n\nBody\n", encoding="utf-8")
    quarantined = run_cli(
        "build", "--content", str(content), "--output", str(out), "--index", str(index)
    )
    assert quarantined.returncode == 0, quarantined.stderr
    assert "news/2025/broken.md: line 2: Date 'not a date at all'" in quarantined.stderr
    assert "1 story file left out" in quarantined.stdout and (out / STORY).is_file()
    # A failure of the whole build (a published top-10 list that does not parse) changes
    # neither the site nor the index, though a new story was indexed meanwhile.
    bad.unlink()
    (content / "news" / "2025" / "newcomer.md").write_text(
        "Title: The okapi newcomer\nDate: 2025-03-01\n\nAn okapi joins.\n", encoding="utf-8"
    )
    (content / "top10").mkdir(exist_ok=True)
    (content / "top10" / "2025.yaml").write_text("year: 2025\nstatus: [published\n")
    failed = run_cli(
        "build", "--content", str(content), "--output", str(out), "--index", str(index)
    )
    assert failed.returncode != 0
    assert "site build failed" in failed.stderr and "left as they were" in failed.stderr
    assert (out / STORY).is_file() and not (out / "news" / "2025" / "newcomer").exists()
    found = run_cli("search", "--index", str(index), "--json", "okapi")
    assert json.loads(found.stdout)["total"] == 0  # the index did not commit either
    assert not list(tmp_path.glob(".out.building-*"))


def test_the_next_build_removes_a_killed_builds_staging_unless_a_build_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A `csrnews build` killed mid-build leaves its staging folder beside the output. The next
    build removes it and says so; but not while another build of the output runs (it holds
    the lock shared, and any of the staging folders may be its own)."""
    content, out = tmp_path / "content", tmp_path / "out"
    shutil.copytree(SAMPLES, content)
    argv = ["build", "--content", str(content), "--output", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "csrnews", *argv, "--index", str(tmp_path / "index")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.building-*")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.returncode
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (killed,) = tmp_path.glob(".out.building-*")
    running = tmp_path / ".out.building-running"  # the staging folder of a build still running
    running.mkdir()
    with build_lock_of(out).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_SH)
        build_site(SAMPLES, out, quiet=True)
        assert killed.is_dir() and running.is_dir() and (out / STORY).is_file()
    running.rmdir()  # that build ended
    with caplog.at_level(logging.WARNING, logger="csrnews.site.build"):
        build_site(SAMPLES, out, quiet=True)
    assert not list(tmp_path.glob(".out.building-*")) and (out / STORY).is_file()
    assert f"removing {killed}, the staging folder of a build that was killed" in caplog.text


def test_old_sites_and_stale_cache_temporaries_go_only_when_no_build_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Old-site folders beside the output (one may be the folder a running build moves files
    into) and temporary files a killed build left in the reader cache's folder, or in the
    cache folder above it (the module keys' file's), are removed by a build that runs alone,
    and only then; a recent temporary file may be a live writer's and stays."""
    out = tmp_path / "out"
    build_site(SAMPLES, out, quiet=True)
    old = tmp_path / ".out.old-1-2"
    old.mkdir()
    (old / "1").write_text("moved here by a running build", encoding="utf-8")
    (cache,) = [d for d in (tmp_path / ".pelican-cache").iterdir() if d.is_dir()]
    assert (cache / "ArticlesGenerator").is_file()  # the reader cache's own folder
    stale = cache / ".ArticlesGenerator.0123456789ab.tmp"
    stale.write_bytes(b"half a cache")
    fresh = cache / ".ArticlesGenerator.ba9876543210.tmp"
    fresh.write_bytes(b"being written")
    # the module keys' file is in the folder above the reader cache's (ModuleKeys)
    assert (cache.parent / MODULE_KEYS).is_file()
    stale_keys = cache.parent / f".{MODULE_KEYS}.0123456789ab.tmp"
    stale_keys.write_text('{"format": "1 ', encoding="utf-8")
    long_ago = time.time() - 2 * STALE_TEMPORARY_AGE
    os.utime(stale, (long_ago, long_ago))
    os.utime(stale_keys, (long_ago, long_ago))
    with build_lock_of(out).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_SH)  # another build of `out` runs
        build_site(SAMPLES, out, quiet=True)
        time.sleep(0.5)  # time for a background `rm` to have removed it, were one started
        assert (old / "1").is_file() and stale.is_file() and fresh.is_file()
        assert stale_keys.is_file()
    with caplog.at_level(logging.WARNING, logger="csrnews.site.build"):
        build_site(SAMPLES, out, quiet=True)
    deadline = time.monotonic() + 10
    while old.exists() and time.monotonic() < deadline:  # removed in a background `rm`
        time.sleep(0.05)
    assert not old.exists() and not stale.exists() and fresh.is_file()
    assert not stale_keys.exists()
    assert f"removing {stale}, left by a build that was killed" in caplog.text
    assert f"removing {stale_keys}, left by a build that was killed" in caplog.text


def test_missing_content_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SiteBuildError):
        build_site(tmp_path / "nope", tmp_path / "out", quiet=True)


def test_a_failed_site_build_calls_the_index_update_off(tmp_path: Path) -> None:
    """The index child waits for the build's word before its commit: no word, no change."""
    from csrnews.search import SearchRequest, SearchService, update_index

    from csrnews.commands.build import _start_index, _stop_index

    content, index = tmp_path / "content", tmp_path / "index"
    shutil.copytree(SAMPLES, content)
    update_index(content, index)
    before = sorted(p.name for p in index.glob("*.toc"))
    (content / "news" / "2025" / "newcomer.md").write_text(
        "Title: The okapi newcomer\nDate: 2025-03-01\n\nAn okapi joins.\n", encoding="utf-8"
    )
    child = _start_index(str(content), str(index))
    time.sleep(1.0)  # let it do its work and wait
    started = time.monotonic()
    _stop_index(child, str(index))
    assert child.returncode == 3 and time.monotonic() - started < 20
    assert sorted(p.name for p in index.glob("*.toc")) == before  # no commit
    assert SearchService(index).search(SearchRequest(q="okapi"))["total"] == 0
