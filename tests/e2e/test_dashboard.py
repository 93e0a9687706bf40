"""The dashboard in headless Chromium against a real `shipgauge demo` + `shipgauge serve`.

Every page at 1440x900: it fills (every panel has data under the default range), logs no console
error, asks nothing of any host but the server, passes axe-core without a serious violation,
and leaves a screenshot. Then the filters (URL and data), the drill-downs, the units.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import record_screenshot

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PAGES = {
    "overview": "/",
    "dora": "/dora",
    "dora-checkout": "/dora?service=checkout-api&environment=production&range=90d",
    "ci-cost": "/ci-cost",
    "ci-cost-push": "/ci-cost/pushes/mozilla-central/33270",
    "reviews": "/reviews",
    "builds": "/builds?q=firefox",
}


class Watched:
    """A page with what it logged and requested."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        page.on("request", lambda r: None if r.url.startswith(base) else self.outside.append(r.url))

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base}{path}")
        return self.ready()

    def ready(self) -> Page:
        self.page.wait_for_selector("main[data-ready=true]", timeout=60_000)
        return self.page

    def clean(self) -> None:
        assert self.errors == []
        assert self.outside == []


@pytest.fixture
def watched(browser: Browser, demo_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    yield Watched(page, demo_url)
    context.close()


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    return found


@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fills_cleanly_and_accessibly(
    name: str, watched: Watched, screenshot_dir: Path, request: pytest.FixtureRequest
) -> None:
    page = watched.open(PAGES[name])
    panels = page.locator("section.panel")
    states = {
        panels.nth(i).get_attribute("id") or str(i): panels.nth(i).get_attribute("data-state")
        for i in range(panels.count())
    }
    if name == "overview":
        assert page.locator("article.card").count() == 5
        values = page.locator(".card-value").all_inner_texts()
        assert all(re.search(r"\d", v) for v in values), values  # every card has a number
    else:
        assert states, f"{name}: no panel"
        unfilled = {k: v for k, v in states.items() if v not in ("ready", "idle")}
        assert unfilled == {}, f"{name}: panels without data under the default range"
    shot = screenshot_dir / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    record_screenshot(request.config, shot)
    serious = [v for v in _axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert serious == []
    watched.clean()


@pytest.mark.browser
def test_dora_shows_five_tiles_with_units_tiers_and_weekly_trends(watched: Watched) -> None:
    page = watched.open(PAGES["dora-checkout"])
    tiles = page.locator("button.tile")
    assert tiles.count() == 5
    expected_units = {
        "deployment_frequency": r"per (day|week|month)",
        "change_lead_time": r"(min|hours|days)",
        "change_fail_rate": r"%",
        "failed_deployment_recovery_time": r"(min|hours|days)",
        "deployment_rework_rate": r"%",
    }
    for metric, unit in expected_units.items():
        tile = page.locator(f"button.tile[data-metric={metric}]")
        assert re.search(rf"\d[\d.,]*\s*{unit}", tile.locator(".tile-value").inner_text())
        assert tile.locator(".tier").get_attribute("class") in {
            f"tier tier-{t}" for t in ("elite", "high", "medium", "low")
        }
        assert "previous 90 days" in tile.locator(".delta").inner_text()
        weeks = page.evaluate(
            f"document.querySelector('#trend-{metric} canvas').chart.data.datasets[0].data.length"
        )
        assert weeks >= 12  # 90 days by week
    for kind in ("deployments", "changes", "incidents"):
        headers = page.locator(f"#rows-{kind} th").all_inner_texts()
        assert "Link method" in headers
        assert page.locator(f"#rows-{kind} tbody tr").count() > 0
    watched.clean()


@pytest.mark.browser
def test_a_tile_and_a_trend_point_show_the_rows_behind_them(
    watched: Watched, demo_url: str
) -> None:
    page = watched.open(PAGES["dora-checkout"])
    api = httpx.get(
        f"{demo_url}/api/v1/dora/metrics",
        params={"service": "checkout-api", "environment": "production", "range": "90d"},
    ).json()
    samples = api["metrics"]["change_fail_rate"]["samples"]
    page.click("button.tile[data-metric=change_fail_rate]")
    page.wait_for_selector("#drill[data-state=ready]")
    assert (
        f"{samples:,} rows from dora_change_failures" in page.locator("#drill .note").inner_text()
    )
    assert page.locator("#drill tbody tr.flagged").count() > 0  # the failures, listed first
    # A point of the weekly deployment-frequency trend: the week's successful deployments.
    page.locator("#trend-deployment_frequency").scroll_into_view_if_needed()
    point = page.evaluate(
        """() => {
            const canvas = document.querySelector('#trend-deployment_frequency canvas');
            const data = canvas.chart.data.datasets[0].data;
            const points = canvas.chart.getDatasetMeta(0).data;
            const area = canvas.chart.chartArea;
            const i = data.findIndex((p, n) => p.samples > 0 && points[n].y > area.top + 4);
            const at = points[i];
            const box = canvas.getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y, samples: data[i].samples};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#drill[data-state=ready][data-metric=deployment_frequency]")
    assert "week of" in page.locator("#drill h2").inner_text()
    assert f"{point['samples']:,} rows" in page.locator("#drill .note").inner_text()
    watched.clean()


@pytest.mark.browser
def test_filters_rewrite_the_url_and_every_panel(watched: Watched) -> None:
    page = watched.open(PAGES["dora-checkout"])
    before = page.locator("button.tile[data-metric=deployment_frequency] .tile-value").inner_text()
    page.select_option("#f-service", "billing")
    watched.ready()
    assert "service=billing" in page.url
    after = page.locator("button.tile[data-metric=deployment_frequency] .tile-value").inner_text()
    assert after != before
    assert "billing · production" in page.locator(".lede").inner_text()
    page.select_option("#f-range", "30d")
    watched.ready()
    assert "range=30d" in page.url and "service=billing" in page.url
    assert "(30 days)" in page.locator(".lede").inner_text()
    page.go_back()
    watched.ready()
    assert "(90 days)" in page.locator(".lede").inner_text()
    # CI cost: a pool filter keeps only that pool, in the URL and in the table.
    page = watched.open("/ci-cost")
    pool = "proj-fuzzing/linux-pool10"
    page.select_option("#f-pool", pool)
    watched.ready()
    assert "pool=proj-fuzzing%2Flinux-pool10" in page.url
    assert page.locator("#groups tbody tr").all_inner_texts()[0].startswith(pool)
    assert page.locator("#groups tbody tr").count() == 1
    # A link reproduces the view.
    page = watched.open(page.url.removeprefix(watched.base))
    assert page.locator("#f-pool").input_value() == pool
    watched.clean()


@pytest.mark.browser
def test_ci_cost_shows_unpriced_pools_as_unpriced_and_opens_a_push(watched: Watched) -> None:
    page = watched.open("/ci-cost")
    unpriced = page.locator("#groups tbody tr[data-unpriced=true]")
    names = [unpriced.nth(i).locator("td").first.inner_text() for i in range(unpriced.count())]
    assert "scriptworker-prov-v1/signing-linux-v1" in names
    for i in range(unpriced.count()):
        cells = unpriced.nth(i).locator("td").all_inner_texts()
        assert cells[1] == "unpriced" and "$" not in cells[1]
        assert re.fullmatch(r"[\d.,]+ (min|h)", cells[4])  # its unpriced run time, with a unit
    assert "USD" in page.locator("#groups th").all_inner_texts()[1]
    labels = page.evaluate(
        "document.querySelector('#cost-chart canvas').chart.data.datasets.map(d => d.label)"
    )
    page.reload()
    watched.ready()
    assert labels == page.evaluate(
        "document.querySelector('#cost-chart canvas').chart.data.datasets.map(d => d.label)"
    )  # the same order on every load
    page.click("#pushes tbody tr:first-child a")
    watched.ready()
    assert re.search(r"/ci-cost/pushes/mozilla-central/\d+", page.url)
    assert page.locator("#push-tasks tbody tr.run").count() > 0
    assert "Priced by" in page.locator("#push-tasks th").all_inner_texts()
    watched.clean()


@pytest.mark.browser
def test_builds_search_speaks_the_query_string(watched: Watched) -> None:
    page = watched.open("/builds")
    page.fill("#q", "firefox AND target.channel:release")
    page.press("#q", "Enter")
    watched.ready()
    assert "q=firefox+AND+target.channel%3Arelease" in page.url
    rows = page.locator("#search-results tbody tr")
    assert rows.count() >= 1
    assert all("release" in t for t in rows.all_inner_texts())
    link = rows.first.locator("a").get_attribute("href") or ""
    assert link.startswith("https://archive.mozilla.org/")
    watched.clean()


@pytest.mark.browser
def test_chart_text_is_readable(watched: Watched) -> None:
    page = watched.open("/ci-cost")
    assert page.evaluate("Chart.defaults.font.size") >= 11
    sizes = page.evaluate(
        "[...document.querySelectorAll('.legend-item, th, td')]"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(sizes) >= 11
    # A long pool name is whole on hover (the legend item's title).
    titles = page.locator("#cost-chart .legend-item").evaluate_all(
        "items => items.map(i => i.title)"
    )
    assert "aws-provisioner-v1/gecko-t-win10-64" in titles
    watched.clean()
