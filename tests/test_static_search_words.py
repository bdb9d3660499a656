"""The static search over several shards finds what one index of the same stories finds: a query
word some shards lack must not bring their prefix matches (Pagefind, in a shard without the
word, matches the longest prefix of it the shard indexes), in English and in Chinese; a Chinese
query is searched in the words the index holds (供应链 as 供应 链) and whole, and finds what
/api/search finds (no story with the run's characters apart, none missed where the index holds
the run inside a longer word), an English one reaches Pagefind as typed; and its excerpts mark
each query word whole, as /api/search does."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csrnews.search import update_index
from csrnews.search.staticsearch import build_static_search

from csrnews.serve.wsgi import make_app
from tests.conftest import wsgi_server
from tests.golden_site import SAMPLES
from tests.test_static_search_delta import (
    SEARCHED,
    TARGET,
    UNAVAILABLE,
    _answer,
    _site_root,
    search_page,
    serve_roots,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Each shard of the split layout (2024, 2025.1, 2025.2) lacks some of these words but indexes a
# shorter prefix of it: "a" or "am" for "amfori", "for" for "forum", "au" for "audit", 与 for
# 与会 (only 2024 has 与会; 2025.2 has 与). 与会者 no shard indexes: one index takes its longest
# indexed prefix, 与会, and so must the split layout (not 与 as well). "train" matches by prefix
# ("training") in every shard alike; facets and filters must agree too.
QUERIES = (
    "?q=amfori",
    "?q=forum",
    "?q=audit&lang=en",
    "?q=training%20amfori",
    "?q=train",
    "?q=%E4%B8%8E%E4%BC%9A",
    "?q=%E4%B8%8E%E4%BC%9A%E8%80%85",
)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The samples' static search as one shard and as three, each on a static server."""
    base = tmp_path_factory.mktemp("words")
    roots: dict[str, Path] = {}
    for name, target in (("one", 4000), ("split", TARGET)):
        bundle = base / f"bundle-{name}"
        bundle.mkdir()
        stats = build_static_search(SAMPLES, bundle, target=target)
        assert stats.shards == (1 if name == "one" else 3), stats
        roots[name] = _site_root(base / name, bundle)
    yield from serve_roots(roots, base)


def test_several_shards_find_what_one_index_finds(layouts: dict[str, str], browser: Any) -> None:
    # layouts first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    for query in QUERIES:
        want = _answer(page, layouts["one"] + "/search/" + query)
        assert want["hits"], query
        assert _answer(page, layouts["split"] + "/search/" + query) == want, query
    page.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """/api/search over an index of the samples (the layouts' stories), on a waitress server."""
    base = tmp_path_factory.mktemp("words-api")
    (base / "output").mkdir()
    update_index(SAMPLES, base / "index")
    with wsgi_server(make_app(base / "output", base / "index")) as url:
        yield url


def _api_hits(api: str, query: str) -> list[str]:
    """The URLs of every hit /api/search gives for the query, over all its pages."""
    hits: list[str] = []
    number = 1
    while True:
        params = urllib.parse.urlencode({"q": query, "page": number})
        with urllib.request.urlopen(f"{api}/api/search?{params}", timeout=30) as response:
            answer = json.load(response)
        hits += [hit["url"] for hit in answer["hits"]]
        if number >= answer["pages"]:
            return sorted(hits)
        number += 1


# Chinese queries, which the index holds in shorter words (Pagefind's zh segmentation, the index's
# one language): the search page splits them as Pagefind splits a query on a zh page (供应链 as
# 供应 链, the quotes of an exact search kept) and finds the stories /api/search finds. Taken as
# one word, the first seven found other stories too (供应链 by its longest indexed prefix, 供应:
# the 供应商 story; 供应链 年会 in the three shards) or, quoted, none. Split, the others have a
# word some shard lacks (纺织 in 2025, 工时 in 2024): that shard must not answer with the query's
# other words alone.
CHINESE = (
    "供应链",
    "供应商",
    "供应链责任",
    "企业社会责任",
    "绿色转型",
    '"供应链责任"',
    "供应链 年会",
    "年会",
    "与会者",
    "社会责任",
    "纺织企业",
    "工时与工资",
    "责任",
    "会",
    "管理体系",
    "工信部",
    "国际劳工组织",
    "RBA 行为准则",
    "GRI 标准",
    "amfori BSCI 供应商",
)
# The API finds none of the samples for these (a run of one character the samples hold only
# inside longer runs, 会; runs whose characters they hold only apart, 工信部 as 工 of 工厂 and 信
# of 信息); Pagefind found a story or two for each, by its pieces matched as prefixes anywhere.
NOTHING = (
    "会",
    "管理体系",
    "工信部",
    "国际劳工组织",
    "RBA 行为准则",
    "GRI 标准",
    "amfori BSCI 供应商",
)
# English queries reach Pagefind as typed: Pagefind's zh path would split "R&D" and "e-waste"
# into words it matches as prefixes anywhere in a story (r and d: most stories).
ENGLISH = (
    "supply chain",
    '"supply chain"',
    "third-party",
    "ISO 26000",
    "SJ/T 16000-2016",
    "R&D",
    "e-waste",
    "amfori",
    "training",
)
# The hits Pagefind itself gives for the page's query (the page's own instance, lang "en").
PAGEFIND_HITS = """async (q) => {
  const manifest = await (await fetch("/pagefind/shards.json")).json();
  const pagefind = await import("/pagefind/" + manifest.shards[0].id + "/pagefind.js");
  const urls = [];
  for (const result of (await pagefind.search(q)).results) { urls.push((await result.data()).url); }
  return urls.sort();
}"""


def test_chinese_queries_find_what_the_api_finds(
    layouts: dict[str, str], api: str, browser: Any
) -> None:
    # layouts first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    for query in CHINESE:
        want = _api_hits(api, query)
        assert bool(want) == (query not in NOTHING), query
        for name, root in layouts.items():
            url = f"{root}/search/?q={urllib.parse.quote(query)}"
            assert _answer(page, url)["hits"] == want, (name, query)
    page.close()


def test_english_queries_reach_pagefind_as_typed(
    layouts: dict[str, str], api: str, browser: Any
) -> None:
    # layouts first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    root = layouts["one"]  # one shard: the page's hits are Pagefind's own
    for query in ENGLISH:
        shown = _answer(page, f"{root}/search/?q={urllib.parse.quote(query)}")["hits"]
        assert shown == page.evaluate(PAGEFIND_HITS, query), query
    # without Intl.Segmenter (Pagefind's zh path needs it too) a Chinese query goes as typed:
    # Pagefind matches 供应链 by its longest indexed prefix, 供应 (the 供应商 story too), and the
    # page keeps what the API finds, as with the query split
    url = f"{root}/search/?q={urllib.parse.quote('供应链')}"
    split = _answer(page, url)["hits"]
    page.close()
    page = search_page(browser)
    page.add_init_script("delete Intl.Segmenter")
    shown = _answer(page, url)["hits"]
    assert set(shown) < set(page.evaluate(PAGEFIND_HITS, "供应链"))
    assert shown == split == _api_hits(api, "供应链")
    page.close()


# Chinese stories beside the samples (shortened from the demo's): the index holds 华信 精密 电子
# and no word starting with 信, which the query 华信精密电子 split (华 信 精密 电子) asks for;
# 工信部, 东莞 and 年会 split into characters, each matched as the prefix of any word (工 of 工厂,
# 会 of 会员, 年 of 年度), in stories that hold them apart. The API searches a run of three or
# more as its bigrams in one field: 企业社会责任 is not found in zh-miit, whose title holds 行业
# 社会责任 (业社 社会 会责 责任) and its body 企业 and 社会责任 apart.
MORE = {
    "2023/zh-award": (
        "华信精密电子获评年度责任供应链典范企业",
        "12月10日，年度企业社会责任表彰活动在北京举行。华信精密电子凭借在供应链劳工权益保护方面"
        "的系统做法，获评“年度责任供应链典范企业”。同场获得表彰的还有澜庭服饰集团等十八家企业。"
        "\n\n华信精密电子总裁助理说：“这个奖对我们是鼓励，也是压力。”公司今年还加入了联合国全球契约。",
    ),
    "2023/zh-miit": (
        "工信部发布电子信息行业社会责任管理体系标准",
        "11月1日，中国电子工业标准化技术协会在北京召开宣贯启动会。该标准日前由工业和信息化部批准"
        "发布。\n\n苏州一家连接器企业的社会责任经理在会上提问：“我们每年都要接受客户的审核。”",
    ),
    "2023/zh-dongguan": (
        "供应商能力建设培训在东莞举办",
        "4月17日至18日，amfori在广东东莞举办供应商能力建设培训，来自东莞、深圳、惠州等地八十家"
        "工厂的一百三十余名管理人员参加。\n\n参训的东莞一家五金制品厂厂长说，工厂的订单季节性强。",
    ),
    "2023/zh-members": (
        "协会召开会员代表会议",
        "今年年初，协会召开会员代表会议，审议年度工作报告，信息公开和部门分工也在议程之中。",
    ),
}
MORE_QUERIES = (
    "华信精密电子",
    "工信部",
    "东莞",
    "年会",
    "企业社会责任",
    "会员",
    "年度 会议",
    "工厂 东莞",
)


@pytest.fixture(scope="module")
def more_chinese(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The samples with MORE beside them: the static search (one shard) on a static server,
    and /api/search over the same stories."""
    base = tmp_path_factory.mktemp("more-chinese")
    content = base / "content"
    shutil.copytree(SAMPLES, content)
    for name, (title, body) in MORE.items():
        year, slug = name.split("/")
        header = (
            f"Title: {title}\nDate: {year}-05-01\nSlug: {slug}\nLang: zh\nSummary: {body[:8]}\n"
            f"Category: Other\nSource: 责任之声\nSource_url: https://news.example.com/{slug}\n"
        )
        (content / "news" / year).mkdir(parents=True, exist_ok=True)
        (content / "news" / year / f"{slug}.md").write_text(f"{header}\n{body}\n", encoding="utf-8")
    bundle = base / "bundle"
    bundle.mkdir()
    build_static_search(content, bundle, target=4000)
    (base / "output").mkdir()
    update_index(content, base / "index")
    with wsgi_server(make_app(base / "output", base / "index")) as api_url:
        for urls in serve_roots({"static": _site_root(base / "static", bundle)}, base):
            yield {"static": urls["static"], "api": api_url}


def test_chinese_runs_find_what_the_api_finds(more_chinese: dict[str, str], browser: Any) -> None:
    # more_chinese first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    for query in MORE_QUERIES:
        want = _api_hits(more_chinese["api"], query)
        assert want, query
        url = f"{more_chinese['static']}/search/?q={urllib.parse.quote(query)}"
        assert _answer(page, url)["hits"] == want, query
    page.close()


# Query words the samples' index holds only split into shorter words (供应链 as 供应 and 链, 年会
# as 年 and 会, 与会者 as 与会 and 者): Pagefind marks them in pieces, or only their longest
# indexed prefix; the search page must mark the whole word. English marks stay Pagefind's own.
WHOLE = ("供应链", "年会", "与会者", "供应链 年会")
PLAIN = ("supply chain", "train")

# Each hit's snippet as the page shows it, and the excerpt Pagefind itself gives for it on a page
# in the index's language (an instance made while <html lang> is "zh", so that it splits the
# query itself; every shard merged in, the page's excerpt length), once the page has answered.
SNIPPETS = """async () => {
  const q = new URLSearchParams(location.search).get("q");
  const manifest = await (await fetch("/pagefind/shards.json")).json();
  const bundle = (shard) => "/pagefind/" + shard.id + "/";
  const pagefind = await import(bundle(manifest.shards[0]) + "pagefind.js");
  document.documentElement.lang = "zh";
  const zh = pagefind.createInstance({ basePath: bundle(manifest.shards[0]) });
  document.documentElement.lang = "en";
  await zh.options({ baseUrl: "/", excerptLength: 30 });
  for (const shard of manifest.shards.slice(1)) { await zh.mergeIndex(bundle(shard)); }
  const own = {};
  for (const result of (await zh.search(q)).results) {
    const data = await result.data();
    own[data.url] = data.excerpt;
  }
  const marks = (node) => Array.from(node.querySelectorAll("mark"), (m) => m.textContent);
  return Array.from(document.querySelectorAll("#search-results .hit"), (hit) => {
    const url = hit.querySelector(".hit-title a").getAttribute("href");
    const snippet = hit.querySelector(".snippet");
    const excerpt = new DOMParser().parseFromString("<body>" + own[url], "text/html").body;
    return { url: url, text: snippet.textContent, marks: marks(snippet),
             pagefind: url in own ? marks(excerpt) : null };
  });
}"""


def _snippets(page: Any, url: str) -> list[dict[str, Any]]:
    for attempt in (1, 2):  # as _answer: once more when Pagefind failed to load a bundle file
        page.goto(url)
        page.wait_for_function(f"{SEARCHED} || {UNAVAILABLE}", timeout=60_000)
        if page.evaluate(SEARCHED):
            break
        assert attempt == 1, f"{url}: {page.inner_text('#search-status')}"
    snippets: list[dict[str, Any]] = page.evaluate(SNIPPETS)
    assert not page.errors, page.errors
    assert snippets, url
    for snippet in snippets:
        assert snippet["pagefind"] is not None, snippet  # a hit Pagefind gives
    return snippets


def _made_of(marks: list[str], own: list[str], pieces: tuple[str, ...] = ()) -> bool:
    """Each mark starts with the next of Pagefind's marks and takes in those that follow it
    within its text (供应 and 链 as 供应链), every one of Pagefind's marks taken in order but
    those left plain: a piece of one of the query's ``pieces`` (a Chinese word of three
    characters or more), none of which it holds whole."""
    taken = 0
    for mark in marks:
        while taken < len(own) and not mark.startswith(own[taken]) and _a_piece(own[taken], pieces):
            taken += 1
        if taken >= len(own) or not mark.startswith(own[taken]):
            return False
        text = own[taken]
        taken += 1
        while taken < len(own) and mark.startswith(text + own[taken]):
            text += own[taken]
            taken += 1
    return all(_a_piece(rest, pieces) for rest in own[taken:])


def _a_piece(mark: str, words: tuple[str, ...]) -> bool:
    """Whether a mark is a piece of one of ``words`` and holds none of them whole."""
    return any(mark in w for w in words) and not any(w in mark for w in words)


def test_excerpts_mark_each_query_word_whole(layouts: dict[str, str], browser: Any) -> None:
    # layouts first: Pagefind's client runs its own event loop, Playwright's must not run yet
    page = search_page(browser)
    for name, root in layouts.items():
        for query in WHOLE:
            snippets = _snippets(page, f"{root}/search/?q={query}")
            for word in query.split():
                assert any(word in s["text"] for s in snippets), (name, query, word)
                for s in snippets:  # every time the word shows, a mark holds it
                    held = sum(mark.count(word) for mark in s["marks"])
                    assert held == s["text"].count(word), (name, query, word, s)
            # a piece of a Chinese query word of three characters or more (the 供应 of 供应商
            # for 供应链) is left plain where the excerpt shows the word whole, as the API does
            runs = tuple(w for w in query.split() if len(w) >= 3)
            for s in snippets:
                shown = tuple(w for w in runs if w in s["text"])
                assert not [m for m in s["marks"] if _a_piece(m, shown)], (name, query, s)
            pieces = [m for s in snippets for m in s["pagefind"] if _a_piece(m, runs)]
            if query == "供应链":  # the samples have 供应商 beside 供应链
                assert pieces, (name, query, snippets)
            for s in snippets:  # Pagefind's marks, some run together, grown or left plain
                assert _made_of(s["marks"], s["pagefind"], runs), (name, query, s)
        for query in PLAIN:
            snippets = _snippets(page, f"{root}/search/?q={query}")
            assert any(s["marks"] for s in snippets), (name, query)
            for s in snippets:
                assert s["marks"] == s["pagefind"], (name, query, s)
    page.close()
