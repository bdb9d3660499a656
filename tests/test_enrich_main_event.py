"""Issue 14: event type from the main event, organisations as spans, standards without a code.

Each case is a class of failure seen on text written elsewhere; the texts here are written for
this project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from csrnews.crawler.enrichment import enrich, load_rules
from csrnews.crawler.enrichment.eventtypes import TypeClassifier

TRAINING_HEAVY_MOU = (
    "amfori and CESA sign MoU on supplier programmes",
    "On June 18 amfori and the China Electronics Standardization Association signed a "
    "memorandum of understanding.\n\nThe two bodies will run joint training for managers, a "
    "train-the-trainer course and training modules. Trainers will share training materials, "
    "and participants who complete the training receive a certificate. More training follows.",
)
POLICY_HEAVY_SUMMIT = (
    "The 7th China ICT Industry CSR Annual Summit opens in Beijing",
    "The summit brought 400 delegates to Beijing.\n\nSpeakers reviewed policies, standards, "
    "regulations and guidelines: the new standard, the national standard, rules on disclosure, "
    "the ministry's policy on green manufacturing and guidance that takes effect next year. "
    "Panels discussed policy and standards.",
)


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (*TRAINING_HEAVY_MOU, "mou"),
        (*POLICY_HEAVY_SUMMIT, "summit"),
        # Something signed at a summit is an MoU; a report launched at a forum is a report;
        # an award given at an annual conference is an award when the headline is the award.
        (
            "Two chambers sign MoU at the China-ASEAN Business Summit",
            "The summit, attended by 800 delegates, saw the signing.",
            "mou",
        ),
        (
            "Association launches blue book at Beijing forum",
            "The forum heard speakers; the blue book was released at the forum.",
            "report",
        ),
        (
            "Supplier wins responsibility award at industry annual conference",
            "The annual conference opened with a keynote. The award went to the supplier.",
            "award",
        ),
        ("纺织企业在行业年会上获颁“责任供应链奖”", "年会在杭州召开，三百名代表参会。", "award"),
        (
            "在2019亚洲纺织峰会上，两家商会签署合作备忘录",
            "峰会为期两天，与会代表四百人。",
            "mou",
        ),
        ("首届绿色供应链论坛在广州开幕 多项合作同期签约", "论坛由省工信厅主办。", "summit"),
        # Genre words are not types: a notice announcing a training is a training.
        ("关于举办2019年供应链社会责任培训班的通知", "现将有关事项通知如下。", "training"),
        ("Notice on holding the 2019 Green Supply Chain Conference", "Notice is given.", "summit"),
        # Appointments, office openings, opinion, interviews, job ads, statements, reviews.
        (
            "Fair Labor Association opens an office in Dhaka",
            "The office will run training, workshops, training courses and projects.",
            "other",
        ),
        (
            "Opinion: audits are not enough",
            "We held summits, signed agreements, launched reports and trained auditors.",
            "other",
        ),
        (
            "Interview: 'Buyers must pay for change'",
            "She speaks about training, reports and projects.",
            "other",
        ),
        (
            "We are hiring: training officer",
            "The officer will design training and run projects and reports.",
            "other",
        ),
        (
            "Company statement on media reports about a supplier",
            "The report said workers were underpaid; our training and audits continue.",
            "other",
        ),
        (
            "Year in review: a busy year",
            "We held a summit, signed an MoU, published a report and trained 300 managers.",
            "other",
        ),
        (
            "年终回顾：我们最忙碌的一年",
            "我们举办了论坛，签署了备忘录，发布了报告，培训了三百人。",
            "other",
        ),
        ("集团设立可持续发展办公室 李华任负责人", "办公室将负责ESG报告编制和供应商培训。", "other"),
        # A top-10 entry is a top-10 item whatever its subject.
        (
            "2018 Top 10 CSR Events - No.4: Ministry issues guidelines on outbound investment",
            "The guidelines took effect in June and apply to all outbound investment.",
            "top10",
        ),
        (
            "2018年度十大事件之四：商务部印发对外投资合作指引",
            "指引自六月起正式实施。",
            "top10",
        ),
        # A ranking published as an index is a ranking.
        (
            "Transparency index ranks 150 brands",
            "The index, published by researchers, found that disclosure rose.",
            "top10",
        ),
        # Reporting rules are rules; a code revised is a standard.
        (
            "三大交易所发布上市公司可持续发展报告指引",
            "指引自2024年5月1日起实施，要求样本公司披露可持续发展报告。",
            "policy",
        ),
        (
            "Industry alliance releases version 8.0 of its Code of Conduct",
            "The revised code takes effect in January; training on it follows.",
            "policy",
        ),
    ],
)
def test_main_event(title: str, text: str, expected: str) -> None:
    assert enrich(title, text).category == expected


def test_evidence_names_the_deciding_words() -> None:
    result = enrich(*TRAINING_HEAVY_MOU)
    assert result.category == "mou"
    assert result.category_evidence[0].startswith("headline: ")
    assert {"headline: mou", "headline: sign"} <= {e.lower() for e in result.category_evidence}
    assert enrich("Weather", "It rained.").category_evidence == []


def test_ties_go_to_the_headline_then_the_lead_never_to_the_list_order() -> None:
    classifier: TypeClassifier = load_rules().types
    # "award" (5) and "training" (5) tie in the headline; the lead says training.
    tie = classifier.classify("Award and training", "Forty managers were trained in Suzhou.")
    assert tie.category == "training"
    swapped = classifier.classify("Training and award", "The award went to a supplier.")
    assert swapped.category == "award"


def test_runners_up_go_to_tags() -> None:
    result = enrich(
        "Forum on supply chains ends with MoU signing",
        "The two-day forum, a summit of 300 delegates with a keynote and a roundtable, closed "
        "as two associations signed an MoU.",
    )
    assert result.category == "mou"
    assert "Summit & forum" in result.tags


# --- organisations as spans ---------------------------------------------------------------


def test_bodies_inside_standard_names_are_not_actors() -> None:
    text = (
        "The report follows the GRI Standards and ISO 26000; its plant meets the IFC "
        "Performance Standards, its code the ILO core conventions and the RBA Code of Conduct."
    )
    result = enrich("", text)
    assert result.organisations == []
    assert result.standards == [
        "GRI Standards",
        "ISO 26000",
        "IFC Performance Standards",
        "ILO core conventions",
        "RBA Code of Conduct",
    ]
    acting = enrich("", "The RBA revised the RBA Code of Conduct; GRI issued GRI 14.")
    assert acting.organisations == ["RBA", "GRI"]
    assert acting.standards == ["RBA Code of Conduct", "GRI 14"]


def test_job_titles_never_become_organisations() -> None:
    text = (
        "Li Ming, Deputy Chief Engineer and Director of the Science and Technology Committee "
        "of China Electronics Technology Group Corporation, spoke. The Chairman of Lenovo's "
        "Sustainability Committee also spoke."
    )
    assert enrich("", text).organisations == ["CETC", "Lenovo"]
    zh = "由中国电子科技集团有限公司副总工程师兼科技委主任李明担任负责人。"
    assert enrich("", zh, "zh").organisations == ["CETC"]


def test_names_by_form_and_short_forms() -> None:
    text = (
        "The Jiangsu Provincial Department of Industry and Information Technology listed "
        "Taihu Weaving Co., Ltd. and Yixing Cable Technology Co., Ltd. Taihu Weaving cut "
        "water use. Inditex and IndustriALL Global Union renewed their agreement, witnessed by "
        "the Suzhou Municipal Bureau of Commerce."
    )
    assert enrich("", text).organisations == [
        "Jiangsu Provincial Department of Industry and Information Technology",
        "Taihu Weaving Co., Ltd.",
        "Yixing Cable Technology Co., Ltd.",
        "Inditex",
        "IndustriALL Global Union",
        "Suzhou Municipal Bureau of Commerce",
    ]
    zh = (
        "江苏省工业和信息化厅公布名单，无锡太湖纺织有限公司入选。太湖纺织表示将继续节水。"
        "与会嘉宾来自东莞市商务局和东莞市工商业联合会。各地行业协会和该公司代表也参加了会议。"
    )
    assert enrich("", zh, "zh").organisations == [
        "江苏省工业和信息化厅",
        "无锡太湖纺织有限公司",
        "东莞市商务局",
        "东莞市工商业联合会",
    ]


def test_venues_and_units_are_not_organisations() -> None:
    text = (
        "The meeting took place at the Suzhou International Expo Centre. The Lenovo Supplier "
        "Academy ran the sessions. 会议在上海国际会议中心举行，公司承诺设立可持续发展委员会。"
    )
    assert enrich("", text).organisations == ["Lenovo"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Emissions follow the GHG Protocol and IFRS S1 and IFRS S2.",
            ["GHG Protocol", "IFRS S1", "IFRS S2"],
        ),
        ("团体标准T/CESA 1288-2023与CSC9000T衔接。", ["T/CESA 1288-2023", "CSC9000T"]),
        (
            "The EU's CSDDD and the OECD Due Diligence Guidance.",
            ["Corporate Sustainability Due Diligence Directive", "OECD Due Diligence Guidance"],
        ),
        (
            "企业参照《中国负责任矿产供应链尽责管理指南》开展尽责管理。",
            ["Chinese Due Diligence Guidelines for Responsible Mineral Supply Chains"],
        ),
        ("GRI reported in 2021 on 300 companies.", []),
    ],
)
def test_standards_without_a_code(text: str, expected: list[str]) -> None:
    assert enrich("", text).standards == expected


def test_extract_json_says_which_words_decided(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    title, text = TRAINING_HEAVY_MOU
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    page.write_text(
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{paragraphs}{paragraphs}</article></body></html>",
        encoding="utf-8",
    )
    cli = Path(sys.executable).with_name("csrnews")
    out = subprocess.run(
        [str(cli), "extract", "--json", str(page)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    assert result["category"] == "mou"
    assert any(e.startswith("headline: ") for e in result["category_evidence"])
