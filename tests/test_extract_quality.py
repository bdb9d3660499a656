"""The extraction quality gate: F1 on labelled pages may rise, never drop below the pinned floor."""

from __future__ import annotations

import json
import os

from tests.fixtures.extraction.evaluate import BASELINE, evaluate, fixtures, score

ABSOLUTE_FLOOR = 0.90  # the minimum; the baseline may only be higher
TOLERANCE = 0.005  # rounding in the baseline file


def test_there_are_enough_varied_fixtures() -> None:
    items = fixtures()
    assert len(items) >= 20
    langs = {fx["lang"] for fx in items}
    assert langs == {"en", "zh"}
    ids = " ".join(fx["id"] for fx in items)
    for kind in ("blog", "news", "portal", "table", "list", "gbk", "big5", "gb2312"):
        assert kind in ids, kind


def test_the_score_is_word_and_character_level() -> None:
    assert score("the cat sat", "the cat sat").f1 == 1.0
    half = score("one two three four", "one two")
    assert half.precision == 1.0 and half.recall == 0.5
    assert score("企业社会责任", "企业责任").recall == 4 / 6


def test_extraction_f1_does_not_drop_below_the_baseline() -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert baseline["absolute_floor"] >= ABSOLUTE_FLOOR, "the floor may not be lowered"
    assert baseline["f1"] >= baseline["absolute_floor"]
    pages, mean = evaluate()
    worst = min(pages.items(), key=lambda item: item[1].f1)
    report = (
        f"mean P {mean.precision:.3f} R {mean.recall:.3f} F1 {mean.f1:.3f}; "
        f"worst page {worst[0]} F1 {worst[1].f1:.3f}"
    )
    assert mean.f1 >= baseline["f1"] - TOLERANCE, report
    assert mean.precision >= baseline["precision"] - TOLERANCE, report
    assert mean.recall >= baseline["recall"] - TOLERANCE, report
    assert worst[1].f1 >= baseline["page_f1"] - TOLERANCE, report
    if os.environ.get("CSRNEWS_RAISE_BASELINE"):
        # Raise the pinned floor to what extraction achieves now (never lower it).
        for key, value in (
            ("f1", mean.f1),
            ("precision", mean.precision),
            ("recall", mean.recall),
            ("page_f1", worst[1].f1),
        ):
            baseline[key] = max(baseline[key], round(value - TOLERANCE, 3))
        BASELINE.write_text(json.dumps(baseline, indent=2) + "\n", encoding="utf-8")


def test_titles_dates_and_languages_of_the_fixtures() -> None:
    from csrnews.crawler.extraction import extract_page

    from tests.fixtures.extraction.evaluate import FIXTURES

    for fx in fixtures():
        body = (FIXTURES / f"{fx['id']}.html").read_bytes()
        got = extract_page(body, fx["url"], content_type=fx.get("content_type"))
        assert got.title == fx["title"], fx["id"]
        assert (got.date or "")[:10] == fx["date"], fx["id"]
        assert got.lang == fx["lang"], fx["id"]
