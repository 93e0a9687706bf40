"""The dashboard in headless Chromium against a real `shipgauge serve`."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser

from shipgauge.store import Store


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


def test_every_page_renders_without_script_errors(
    browser: Browser, start_server: Callable[[str], str], duckdb_url: str
) -> None:
    base = start_server(duckdb_url)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/")
    page.wait_for_selector("main[data-ready=true]")
    links = page.locator("nav a")
    ids = [links.nth(i).get_attribute("data-page") for i in range(links.count())]
    assert "overview" in ids
    for page_id in ids:
        page.evaluate("document.getElementById('page').dataset.ready = ''")
        page.click(f"nav a[data-page={page_id}]")
        page.wait_for_selector(f"main[data-page={page_id}][data-ready=true]")
        assert page.locator("section.panel").count() >= 1
    assert errors == []
    page.close()
