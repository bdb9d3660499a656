"""Unit tests for enrichment: event types, organisations, standards, places, dates, top-10 items."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime

import csrnews.crawler.enrichment as enrichment
import pytest
from csrnews.crawler.enrichment import Enrichment, enrich
from csrnews.crawler.enrichment.wordrules import WordRules
from hypothesis import given, settings
from hypothesis import strategies as st

from csrnews.story.vocabulary import EVENT_TYPES


def test_interface_is_unchanged() -> None:
    params = list(inspect.signature(enrich).parameters)
    assert params == ["title", "text", "lang", "published"]
    fields = list(Enrichment.__dataclass_fields__)
    assert fields == [
        "category",
        "tags",
        "organisations",
        "standards",
        "locations",
        "event_date",
        "top10_items",
        "category_evidence",  # added by issue 14: which words decided the category
    ]
    assert enrichment.Enrichment is Enrichment


def test_empty_story_is_other() -> None:
    result = enrich("", "", "en", None)
    assert result == Enrichment()


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "Two groups cooperate",
            "The two groups signed a Memorandum of Understanding today.",
            "mou",
        ),
        (
            "Beijing gathering",
            "The 7th China CSR Annual Summit was held in Beijing, with 500 delegates.",
            "summit",
        ),
        ("Top 10 CSR Events in China 2018", "Our annual list.", "top10"),
        (
            "Cleaner water at a dye house",
            "The Challenge\nWater use was high.\nOur Strategy\nWe metered every line.\n"
            "Our Impact\nWater use fell by a third.",
            "project",
        ),
        ("澜庭服饰与中纺联签署合作备忘录", "双方在北京签署合作备忘录。", "mou"),
        ("企业社会责任年会在北京召开", "年会由中国企业联合会主办，三百余名代表参会。", "summit"),
        ("供应商培训在东莞举办", "八十家工厂参训，讲师讲解了审核要求。", "training"),
        ("Worker voice white paper", "A white paper published today found that ...", "report"),
        (
            "Supplier wins CSR award",
            "The award was presented to the winners at a ceremony.",
            "award",
        ),
        ("Weather", "It rained in the afternoon.", "other"),
    ],
)
def test_event_type(title: str, text: str, expected: str) -> None:
    assert enrich(title, text).category == expected


def test_title_counts_more_than_text() -> None:
    text = "Suppliers discussed training, and trainers ran a workshop at the forum."
    assert enrich("Forum held in Suzhou", text).category == "summit"
    assert enrich("Suppliers trained in Suzhou", text).category == "training"


def test_organisations_are_canonical_in_both_languages() -> None:
    text = (
        "The Responsible Business Alliance, formerly the Electronic Industry Citizenship "
        "Coalition (EICC), met the Ministry of Industry and Information Technology. "
        "工信部、商务部和责任商业联盟的代表出席。amfori BSCI and BEPI members joined; "
        "the World Bank and IFC sent observers."
    )
    found = enrich("", text).organisations
    assert found == ["RBA", "MIIT", "MOFCOM", "amfori", "World Bank", "IFC"]


def test_chinese_department_is_not_a_ministry() -> None:
    assert enrich("", "各地商务部门和环保部门加强监管。", "zh").organisations == []
    assert enrich("", "商务部和生态环境部联合发文。", "zh").organisations == [
        "MOFCOM",
        "Ministry of Ecology and Environment",
    ]


def test_acronyms_are_case_sensitive() -> None:
    # "iso" and "sai" in ordinary words or lower case are not organisations.
    found = enrich("", "An isolated saint met Isolde in the SAIL club.").organisations
    assert found == []


def test_defined_acronym_not_in_gazetteer() -> None:
    text = (
        "Members of the Shenzhen Green Electronics Alliance (SGEA) met the China Electronics "
        "Standardization Association (CESA). They filled in the Conflict Minerals Reporting "
        "Template (CMRT) and the validated audit process (VAP) forms."
    )
    found = enrich("", text).organisations
    assert found == ["Shenzhen Green Electronics Alliance", "CESA"]


def test_defined_acronym_ignore_list() -> None:
    text = "Projects of the Belt and Road Initiative (BRI) and the Delta Cotton Initiative (DCI)."
    assert enrich("", text).organisations == ["Delta Cotton Initiative"]


def test_defined_acronym_in_chinese() -> None:
    text = (
        "4月10日，东江绿色电子联盟（DGEA）与德国国际合作机构（GIZ）签署备忘录，"
        "由华南节能服务中心（SCEC）实施。"
    )
    found = enrich("", text, "zh").organisations
    assert found == ["东江绿色电子联盟", "GIZ", "华南节能服务中心"]
    assert enrich("", "双方签署了备忘录（MOU）。", "zh").organisations == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SJ/T16000 and SJ/T 16000-2016 and SJ/T 16000—2016", ["SJ/T 16000-2016"]),
        ("GB/T36000, ISO26000 and ISO 14001:2015", ["GB/T 36000-2015", "ISO 26000", "ISO 14001"]),
        ("SA 8000 and SA8000 audits", ["SA8000"]),
        (
            "a new code, GB/T 33635-2017, and ＳＪ／Ｔ １１７２８",
            ["GB/T 33635-2017", "SJ/T 11728-2018"],
        ),
        (
            "the GRI Standards and the amfori BSCI Code of Conduct",
            ["GRI Standards", "amfori BSCI Code of Conduct"],
        ),
        (
            "《电子信息行业社会责任指南》与国家标准《社会责任指南》",
            ["SJ/T 16000-2016", "GB/T 36000-2015"],
        ),
        ("责任商业联盟（RBA）行为准则", ["RBA Code of Conduct"]),
        # Named as the minerals guidance: that instrument, not the OECD's other guidance.
        (
            "the OECD's due diligence guidance for minerals",
            [
                "OECD Due Diligence Guidance for Responsible Supply Chains of Minerals from "
                "Conflict-Affected and High-Risk Areas"
            ],
        ),
        ("the OECD Due Diligence Guidance", ["OECD Due Diligence Guidance"]),
        ("ISO met in 2018 to discuss standards", []),
    ],
)
def test_standards(text: str, expected: list[str]) -> None:
    assert enrich("", text).standards == expected


def test_locations_canonical_english_and_masked_inside_names() -> None:
    text = (
        "The China Electronics Standardization Association met in 深圳 and Suzhou, Jiangsu. "
        "A delegation from 越南 and Brussels joined."
    )
    # A country inside a national body's name comes last: the story's scope, not a venue.
    assert enrich("", text).locations == [
        "Shenzhen",
        "Suzhou",
        "Jiangsu",
        "Vietnam",
        "Brussels",
        "China",
    ]
    # A city inside a name is not a place at all.
    assert enrich("", "The Shanghai Stock Exchange issued rules.").locations == []
    assert enrich("报告在京发布", "").locations == ["Beijing"]


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        # A country named as scope first, the event's place in a role after it.
        (
            "China's dyehouses look for cleaner water",
            "Dyers from Zhejiang met buyers at the Clean Water Forum in Hangzhou on Monday.",
            ["Hangzhou", "China", "Zhejiang"],
        ),
        (
            "Supplier code mapped",
            "Exporters in Vietnam asked for one checklist. The memorandum, signed in Xiamen "
            "on 3 May, answers them.",
            ["Xiamen", "Vietnam"],
        ),
        (
            "中国企业共话绿色供应链",
            "来自湖南的企业代表参加了论坛。论坛在长沙举行。",
            ["Changsha", "China", "Hunan"],
        ),
        (
            "中国纺织企业获评",
            "年度榜单昨日在京揭晓，湖北两家企业入选。",
            ["Beijing", "China", "Hubei"],
        ),
        # "由于", "关于", "对于" are no "于" of a place.
        ("论坛举行", "由于上海企业发布的报告较多，今年的论坛在南京举行。", ["Nanjing", "Shanghai"]),
        # The words before "in" are on its line: the title's "signed" does not reach the body.
        (
            "Agreement signed",
            "Brands in Hunan pledged support. The memorandum was signed in Hefei.",
            ["Hefei", "Hunan"],
        ),
        # A venue line of an event listing.
        (
            "China supplier day",
            "Open to suppliers in Yunnan.\nVenue: Lakeside Hotel, Kunming",
            ["Kunming", "China", "Yunnan"],
        ),
        ("中国供应商大会", "时间：6月1日\n地点：广州白云国际会议中心", ["Guangzhou", "China"]),
        # A later event is not the story's: the place mentioned first stays first.
        (
            "Officials trained",
            "Wuhan hosted 80 officials this week. Similar courses will be held in Hefei.",
            ["Wuhan", "Hefei"],
        ),
        ("培训结业", "武汉的培训吸引了80名学员。后续培训将在合肥举办。", ["Wuhan", "Hefei"]),
        ("签约", "武汉的企业代表出席。双方计划于7月在合肥举办培训。", ["Wuhan", "Hefei"]),
        (
            "Pledge signed",
            "Brands in Hunan pledged support. The partners plan to hold a workshop in Hefei.",
            ["Hunan", "Hefei"],
        ),
        # A dateline in capitals names a place as the body's first mention.
        (
            "Company pledges support for suppliers",
            "NANJING, 3 March 2024 - The company pledged support for suppliers in Anhui.",
            ["Nanjing", "Anhui"],
        ),
        ("Pledge", "HO CHI MINH CITY - Brands met unions.", ["Ho Chi Minh City"]),
        # Capitals that are no place open no dateline.
        ("Pledge", "NOTE - Brands in Anhui met unions.", ["Anhui"]),
    ],
)
def test_the_events_place_comes_first(title: str, text: str, expected: list[str]) -> None:
    assert enrich(title, text).locations == expected


def test_a_lists_items_do_not_place_the_list() -> None:
    """Each item of a top-10 list is an event of its own: the list stays where its lead is."""
    text = (
        "Our editors chose ten events of the year in China's electronics industry.\n\n"
        "## No.1 Suppliers trained on working hours\n\n"
        "Training sessions were held in Suzhou in March.\n\n"
        "Reason for listing: Suppliers get one set of rules.\n\n"
        "## No.2 A forum on recycling\n\nThe forum in Chengdu drew 300 people.\n\n"
        "Reason for listing: Recycling reached the agenda.\n\n"
        "## No.3 A pledge on wages\n\nBrands signed in Wuxi a pledge on living wages.\n\n"
        "Reason for listing: Wages are on the table.\n"
    )
    result = enrich("Top 10 CSR events of 2023", text)
    assert result.category == "top10"
    assert result.locations == ["China", "Suzhou", "Chengdu", "Wuxi"]
    # The lead's own "held in" still places the list.
    lead = "The list was announced at the annual meeting held in Beijing.\n\n"
    assert enrich("Top 10 CSR events of 2023", lead + text).locations[0] == "Beijing"


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "关于举办供应链培训班的通知",
            "商务〔2024〕7号\n\n各省、自治区、直辖市及新疆生产建设兵团商务主管部门：\n\n"
            "现将有关事项通知如下。培训班在杭州举行。",
            ["Hangzhou"],
        ),
        (
            "Notice on supplier training",
            "To the commerce departments of Guangdong and Fujian provinces:\n\n"
            "A training course will open next month.",
            [],
        ),
    ],
)
def test_a_notices_addressees_are_no_place(title: str, text: str, expected: list[str]) -> None:
    assert enrich(title, text).locations == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("On August 28 the forum opened.", date(2016, 9, 1), date(2016, 8, 28)),
        ("The pilot started in August 2016.", date(2016, 9, 1), date(2016, 8, 1)),
        ("2016年8月28日，论坛开幕。", date(2016, 9, 1), date(2016, 8, 28)),
        ("8月28日，论坛开幕。", date(2016, 9, 1), date(2016, 8, 28)),
        ("On December 28 the awards were given.", date(2017, 1, 3), date(2016, 12, 28)),
        ("Signed on 16 April 2019 in Guangzhou.", date(2019, 4, 18), date(2019, 4, 16)),
        ("The report may 12 times ... since 2008.", date(2016, 9, 1), None),
        ("On August 28 the forum opened.", None, None),
        ("She takes up the post on March 1.", date(2019, 2, 11), None),
        (
            "The company said on Friday that it had repaid the fees.",
            date(2019, 3, 27),
            date(2019, 3, 22),
        ),
        ("The fund was launched yesterday in August 2016.", date(2016, 9, 1), date(2016, 8, 31)),
        ("星期五，双方签署了协议。", date(2019, 3, 27), date(2019, 3, 22)),
        ("上周一，双方签署了协议。", date(2019, 3, 27), date(2019, 3, 18)),
    ],
)
def test_event_date(text: str, published: date | None, expected: date | None) -> None:
    assert enrich("", text, "en", published).event_date == expected


def test_published_may_be_a_datetime_or_a_string() -> None:
    text = "On August 28 the forum opened."
    when = datetime(2016, 9, 1, 9, 30, tzinfo=UTC)
    assert enrich("", text, "en", when).event_date == date(2016, 8, 28)
    assert enrich("", text, "en", "2016-09-01T09:30:00+08:00").event_date == date(2016, 8, 28)  # type: ignore[arg-type]
    assert enrich("", text, "en", "not a date").event_date is None  # type: ignore[arg-type]


def test_event_date_prefers_a_day_near_publication() -> None:
    text = "Founded in March 2009, the group met on May 3 to sign the agreement."
    assert enrich("", text, "en", date(2019, 5, 6)).event_date == date(2019, 5, 3)


EN_TOP10 = """Our panel chose ten events.

**No.1 A new ministry takes shape.** Restructuring in March created it.
Reason for listing: a single regulator.

**No.2 MOFCOM convenes supply chain pilots.** Cities were chosen.

Reason for listing: policy now speaks of responsibility.

No.3 ISO 45001 is published. The standard came out in March.
Reason for listing: a three-year migration.

The panel met in Beijing in December.
"""

ZH_TOP10 = """编辑部评选出十大事件。

第一 《电子信息行业社会责任指南》实施一周年。多家企业参与试点。
入选理由：标准走向实践。

第二 国务院国资委推动央企报告质量提升，披露量化指标。
入选理由：示范效应。

第三 电子行业公民联盟更名为责任商业联盟。
入选理由：影响数千家供应商。
"""


def test_top10_items_english() -> None:
    result = enrich("Top 10 CSR Events in China 2018", EN_TOP10)
    assert result.category == "top10"
    assert result.top10_items == [
        {"rank": 1, "headline": "A new ministry takes shape", "reason": "a single regulator."},
        {
            "rank": 2,
            "headline": "MOFCOM convenes supply chain pilots",
            "reason": "policy now speaks of responsibility.",
        },
        {"rank": 3, "headline": "ISO 45001 is published", "reason": "a three-year migration."},
    ]


def test_top10_items_chinese() -> None:
    result = enrich("2017年度中国十大企业社会责任事件", ZH_TOP10, "zh")
    assert result.category == "top10"
    assert [item["rank"] for item in result.top10_items] == [1, 2, 3]
    assert result.top10_items[0]["headline"] == "《电子信息行业社会责任指南》实施一周年"
    assert result.top10_items[1]["headline"] == "国务院国资委推动央企报告质量提升，披露量化指标"
    assert result.top10_items[2]["reason"] == "影响数千家供应商。"


def test_numbered_paragraphs_without_reasons_are_not_top10_items() -> None:
    text = "1. Register.\n2. Attend the workshop.\n3. Submit the form.\n"
    assert enrich("Supplier training steps", text).top10_items == []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.text(max_size=60))
def test_enrich_never_fails_and_never_repeats(text: str, title: str) -> None:
    result = enrich(title, text, "en", date(2019, 1, 1))
    for values in (result.organisations, result.standards, result.locations, result.tags):
        assert len(values) == len(set(values))
    assert result.category in EVENT_TYPES


def test_word_rules_longest_match_wildcards_and_shared_words() -> None:
    rules = WordRules.build(
        [
            ("summit", 2, "forum"),
            ("training", 3, "forum"),
            ("training", 1, "train*"),
            ("project", 1, "training day"),
            ("summit", 4, "论坛"),
        ]
    )
    scores = rules.scores("The Forum held a training day; trainers trained. 论坛", max_count=3)
    assert scores == {"summit": 6.0, "training": 5.0, "project": 1.0}
    assert rules.scores("forum forum forum forum", max_count=2) == {"summit": 4.0, "training": 6.0}


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        # A national policy (its first body a national government body): its country is its
        # place, first when no event's place is named, else right after it.
        (
            "MIIT issues guidance on supplier audits",
            "The Ministry of Industry and Information Technology issued guidance on audits of "
            "electronics suppliers. Firms in Suzhou welcomed it.",
            ["China", "Suzhou"],
        ),
        (
            "商务部发布对外投资合作企业责任指引",
            "商务部近日印发指引，要求在赞比亚等地经营的企业加强劳工保护。",
            ["China", "Zambia"],
        ),
        (
            "MIIT standard takes effect",
            "A launch meeting held in Hefei introduced the standard MIIT approved. Suppliers in "
            "Wuxi attended.",
            ["Hefei", "China", "Wuxi"],
        ),
        # Not a policy, or a local body's: no country added.
        (
            "Forum on supplier audits",
            "Officials of MIIT spoke at the forum held in Hefei on supplier audits.",
            ["Hefei"],
        ),
        (
            "Dongguan issues sourcing guidance",
            "东莞市商务局 issued guidance for electronics makers; MIIT's standard is cited.",
            ["Dongguan"],
        ),
    ],
)
def test_a_national_policy_is_placed_in_its_country(
    title: str, text: str, expected: list[str]
) -> None:
    found = enrich(title, text)
    assert found.locations == expected, (found.category, found.organisations)
