"""The published demo top-10 list in a real browser: ranks in order, each with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csrnews.serve.wsgi import make_app
from csrnews.top10 import load_lists
from tests.conftest import DemoSite, wsgi_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site_url(demo_site: DemoSite) -> Iterator[str]:
    with wsgi_server(make_app(demo_site.output, demo_site.index)) as url:
        yield url


def test_the_list_shows_ranks_in_order_with_reasons(
    browser, site_url: str, demo_site: DemoSite, artifacts_dir: Path
) -> None:
    published = [lst for lst in load_lists(demo_site.content) if lst.published]
    assert published
    lst = published[0]
    page = browser.new_page()
    page.goto(f"{site_url}/top10/")
    page.click(f"a[href$='/top10/{lst.year}/']")
    page.wait_for_selector(".top10-rank")
    ranks = page.locator(".top10-rank").all_inner_texts()
    assert ranks == [f"No. {n}" for n in range(1, len(lst.entries) + 1)]
    reasons = page.locator(".top10-reason").all_inner_texts()
    expected = [e.reason for e in sorted(lst.entries, key=lambda e: e.rank)]
    assert len(reasons) == len(expected)
    for shown, reason in zip(reasons, expected, strict=True):
        assert " ".join(reason.split()) in " ".join(shown.split())
    page.screenshot(path=str(artifacts_dir / "top10-list.png"), full_page=True)

    # a listed story links back with its badge
    linked = page.locator("ol a[href*='/news/']").first
    linked.click()
    badge = page.locator(".top10-badge").first
    assert badge.inner_text().startswith("No. ")
    badge.click()
    page.wait_for_selector(".top10-rank")
    assert page.url.endswith(f"/top10/{lst.year}/")
