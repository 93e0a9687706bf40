"""The dashboard in headless Chromium against a real `shipgauge serve`."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser

from shipgauge.store import Store
from tests.conftest import run_cli


def test_overview_draws_models_from_the_api(
    browser: Browser, start_server: Callable[[str], str], duckdb_url: str
) -> None:
    with Store.open(duckdb_url) as store, store.transaction() as tx:
        tx.set_checkpoint("hg:integration/autoland", 1234)
        for n in range(3):
            tx.dead_letter("pulse:tasks", f"m{n}", "not JSON", f"bad {n}".encode())
        tx.dead_letter("hg:integration/autoland", "p1", "bad push", b"{}")
    base = start_server(duckdb_url)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/")
    page.wait_for_selector("main[data-ready=true]")

    status = page.locator("section[data-model=ingest_status]")
    assert status.locator("tbody tr").count() == 2
    assert "1234" in status.inner_text()
    bars = page.locator("section[data-model=dead_letter_summary] rect")
    heights = {
        bars.nth(i).get_attribute("data-x"): bars.nth(i).get_attribute("data-y")
        for i in range(bars.count())
    }
    assert heights == {"pulse:tasks": "3", "hg:integration/autoland": "1"}
    assert errors == []
    page.close()


def test_every_page_draws_the_demo_data(
    browser: Browser, start_server: Callable[[str], str], duckdb_url: str
) -> None:
    assert run_cli("demo", db=duckdb_url).returncode == 0
    with Store.open(duckdb_url) as store:
        pushes = store.query("SELECT count(*) FROM push_costs").scalar()
    base = start_server(duckdb_url)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Opened on #overview: clicking the page already shown changes no hash, so nothing redraws
    # after the wait below (from "/", the click's hashchange cleared the page after the wait).
    page.goto(f"{base}/#overview")
    page.wait_for_selector("main[data-ready=true]")
    links = page.locator("nav a")
    ids = [links.nth(i).get_attribute("data-page") for i in range(links.count())]
    assert ids == ["overview", "ci-cost", "reviews", "builds", "dora"]
    for page_id in ids:
        page.click(f"nav a[data-page={page_id}]")
        page.wait_for_selector(f"main[data-page={page_id}][data-ready=true]")
        panels = page.locator("section.panel")
        empty = [
            panels.nth(i).get_attribute("data-model")
            for i in range(panels.count())
            if "empty" in (panels.nth(i).get_attribute("class") or "")
        ]
        assert panels.count() >= 2
        assert empty == [], f"{page_id}: panels without data: {empty}"
    page.click("nav a[data-page=ci-cost]")
    page.wait_for_selector("main[data-page=ci-cost][data-ready=true]")
    bars = page.locator("section[data-model=push_costs] rect")
    assert bars.count() == pushes
    assert errors == []
    page.close()
