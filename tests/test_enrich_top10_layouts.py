"""Top-10 entries in the layouts real lists use (issue 14): headings, bold lines, plain lines;
the reason label on its own line or inline; reasons over several paragraphs."""

from __future__ import annotations

from datetime import date

import pytest
from csrnews.crawler.enrichment import enrich
from csrnews.crawler.enrichment.top10 import find_items

REASON_1 = "Suppliers get one set of rules."
REASON_2A = "A ministry now speaks of supply chains."
REASON_2B = "Retailers follow with their own criteria."

EN_LAYOUTS = {
    "heading, label alone": f"""Our editors chose ten events.

## No.1 A national standard takes effect

The standard applies from June.

Reason for listing:

{REASON_1}

## No.2 The ministry convenes a purchasing alliance

Retailers joined in April.

Reason for listing:

{REASON_2A}

{REASON_2B}

See also: last year's list
""",
    "numbered heading, label inline": f"""Our editors chose ten events.

### 1. A national standard takes effect

The standard applies from June.

Reason for listing: {REASON_1}

### 2. The ministry convenes a purchasing alliance

Retailers joined in April.

Reason for listing: {REASON_2A}

{REASON_2B}

[Back to the list](/top10/)
""",
    "bold line, bold label alone": f"""Our editors chose ten events.

**No.1 A national standard takes effect**

The standard applies from June.

**Reason for listing:**

{REASON_1}

**No.2 The ministry convenes a purchasing alliance**

Retailers joined in April.

**Reason for listing:**

{REASON_2A}

{REASON_2B}

Related: the 2015 list
""",
    "plain lines (extracted text), label alone": f"""Our editors chose ten events.

No.1 A national standard takes effect

The standard applies from June.

Reason for listing

{REASON_1}

No.2 The ministry convenes a purchasing alliance

Retailers joined in April.

Reason for listing

{REASON_2A}

{REASON_2B}

Read more: all our lists
""",
}


@pytest.mark.parametrize("layout", sorted(EN_LAYOUTS))
def test_english_layouts(layout: str) -> None:
    items = find_items(EN_LAYOUTS[layout])
    assert items == [
        {"rank": 1, "headline": "A national standard takes effect", "reason": REASON_1},
        {
            "rank": 2,
            "headline": "The ministry convenes a purchasing alliance",
            "reason": f"{REASON_2A}\n\n{REASON_2B}",
        },
    ]


ZH_REASON_2A = "部委首次把供应链责任写进采购政策。"
ZH_REASON_2B = "零售企业随后公布了各自的采购标准。"
ZH_LAYOUTS = {
    "heading, label alone": f"""编辑部评选出年度十大事件。

## 第一 国家标准正式实施

标准自六月起实施。

入选理由：

供应商有了统一的规则。

## 第二 商务部发起绿色采购联盟

四月，多家零售企业加入。

入选理由：

{ZH_REASON_2A}

{ZH_REASON_2B}

相关阅读：上一年度十大事件
""",
    "bold line, label inline": f"""编辑部评选出年度十大事件。

**一、国家标准正式实施**

标准自六月起实施。

**入选理由：**供应商有了统一的规则。

**二、商务部发起绿色采购联盟**

四月，多家零售企业加入。

**入选理由：**{ZH_REASON_2A}

{ZH_REASON_2B}

返回：十大事件专题
""",
    "plain lines, label inline": f"""编辑部评选出年度十大事件。

No.1 国家标准正式实施

标准自六月起实施。

入选理由：供应商有了统一的规则。

No.2 商务部发起绿色采购联盟

四月，多家零售企业加入。

入选理由：{ZH_REASON_2A}

{ZH_REASON_2B}

责任编辑：王明
""",
}


@pytest.mark.parametrize("layout", sorted(ZH_LAYOUTS))
def test_chinese_layouts(layout: str) -> None:
    items = find_items(ZH_LAYOUTS[layout])
    assert items == [
        {"rank": 1, "headline": "国家标准正式实施", "reason": "供应商有了统一的规则。"},
        {
            "rank": 2,
            "headline": "商务部发起绿色采购联盟",
            "reason": f"{ZH_REASON_2A}\n\n{ZH_REASON_2B}",
        },
    ]


SINGLE_ENTRY = """No.2 MOFCOM convenes “Green Purchasing Alliance”

On April 11 the ministry brought retailers and manufacturers together in Beijing to set up a
green purchasing alliance. Members agreed to prefer suppliers with cleaner production.

The first members publish their purchasing criteria this year.

Reason for listing:

Green purchasing moves from a slogan to the buying decisions of large retailers.

A ministry takes responsibility for supply chains as well as for trade.
"""


def test_single_entry_page_gives_rank_headline_whole_reason_and_event_date() -> None:
    """The shape of the real entry the project started from: one entry, its paragraphs, then
    "Reason for listing:" alone on its line and the reason below it in two paragraphs."""
    result = enrich("Top 10 CSR Events in China 2016", SINGLE_ENTRY, "en", date(2017, 1, 12))
    assert result.category == "top10"
    assert result.top10_items == [
        {
            "rank": 2,
            "headline": "MOFCOM convenes “Green Purchasing Alliance”",
            "reason": "Green purchasing moves from a slogan to the buying decisions of large "
            "retailers.\n\nA ministry takes responsibility for supply chains as well as for trade.",
        }
    ]
    # A list published the next January looks back: April 11 is last year's.
    assert result.event_date == date(2016, 4, 11)
    assert "MOFCOM" in result.organisations


def test_entry_number_only_in_the_title() -> None:
    body = SINGLE_ENTRY.split("\n", 2)[2]  # without its "No.2 ..." line
    result = enrich("No.2 MOFCOM convenes “Green Purchasing Alliance”", body, "en", None)
    assert result.category == "top10"
    assert [(i["rank"], i["headline"]) for i in result.top10_items] == [
        (2, "MOFCOM convenes “Green Purchasing Alliance”")
    ]
    zh = enrich(
        "2016年度十大事件之二：商务部发起绿色采购联盟",
        "四月，多家零售企业加入联盟。\n\n入选理由：\n\n部委首次把供应链责任写进采购政策。",
        "zh",
    )
    assert zh.category == "top10"
    assert zh.top10_items[0]["rank"] == 2
    assert zh.top10_items[0]["reason"] == "部委首次把供应链责任写进采购政策。"


def test_a_single_numbered_line_without_a_reason_is_not_an_entry() -> None:
    assert find_items("No.2 in the market.\n\nThe firm grew fast.") == []
    assert enrich("Sales update", "No.2 in the market.\n\nThe firm grew.").top10_items == []


def test_markdown_escaped_numbers_count_as_entries() -> None:
    text = "\n\n".join(f"{n}\\. Story number {n}. More text." for n in range(1, 11))
    result = enrich("The ten sustainability stories of the year", text)
    assert result.category == "top10"
    assert [i["rank"] for i in result.top10_items] == list(range(1, 11))
