"""`shipgauge events send|import` and `shipgauge dora report`, run as the real console script."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from shipgauge.demo.delivery import load_demo
from shipgauge.queries.delivery import HEADLINE_METRICS
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.delivery.delivery_api import make_api
from tests.support.recorded_http import DELIVERY_SEED_CSV


def test_events_send_validates_and_stores(duckdb_url: str) -> None:
    args = ("web", "deploy", "--commit", "a1", "--commit", "a2", "--hotfix", "--event-id", "d-1")
    sent = run_cli("events", "send", *args, "--metadata", '{"pr": 7}', db=duckdb_url)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "stored deploy event d-1 for web"
    bad = run_cli("events", "send", "web", "deploy", "--time", "tomorrow", db=duckdb_url)
    assert bad.returncode == 1
    assert "error: time 'tomorrow' is not an RFC 3339 time" in bad.stderr
    assert "Traceback" not in bad.stderr
    with Store.open(duckdb_url) as store:
        assert store.query("SELECT event_id, is_hotfix, origin FROM delivery_events").rows == [
            ("d-1", True, "cli")
        ]
        assert store.count("delivery_event_commits") == 2


def test_events_import_reads_the_seed_csv_and_keeps_rejects(duckdb_url: str) -> None:
    done = run_cli("events", "import", str(DELIVERY_SEED_CSV), "--json", db=duckdb_url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["stored"], result["rejected"]) == (373, 146)
    assert result["rejects"][0]["error"].startswith("Event 'calc_deploy_frequency' is computed")
    again = run_cli("events", "import", str(DELIVERY_SEED_CSV), db=duckdb_url)  # idempotent
    assert "stored 373 events, rejected 146" in again.stdout
    with Store.open(duckdb_url) as store:
        assert store.count("delivery_events") == 237  # identical rows are one event
        assert (
            store.query(
                "SELECT count(*) FROM dead_letters WHERE source = 'delivery.import'"
            ).scalar()
            == 146
        )
    retried = run_cli("dead-letters", "retry", "--source", "delivery.import", db=duckdb_url)
    assert retried.returncode == 1  # the calc_* rows stay refused
    assert "still failing 146" in retried.stdout


def test_dora_report_after_the_demo_shows_five_metrics_with_tiers(duckdb_url: str) -> None:
    with Store.open(duckdb_url) as store:
        load_demo(store)
        events = store.count("delivery_events")
        load_demo(store)  # idempotent
        assert store.count("delivery_events") == events > 2000
        assert store.count("api_tokens") == 0  # the loader's token is gone
    table = run_cli("dora", "report", db=duckdb_url)
    assert table.returncode == 0, table.stderr
    for service in ("billing", "checkout-api", "mobile-backend", "search", "web-frontend"):
        assert service in table.stdout
    done = run_cli("dora", "report", "--json", "--interval", "month", db=duckdb_url)
    report = json.loads(done.stdout)
    assert len(report["services"]) == 5
    for group in report["services"]:
        for metric in HEADLINE_METRICS:
            assert group["metrics"][metric]["tier"] in ("elite", "high", "medium", "low"), (
                group["service"],
                metric,
            )
            assert 0 <= group["metrics"][metric]["score"] <= 10
        assert group["metrics"]["change_lead_time"]["series"]


def test_dora_report_json_is_the_apis(duckdb_url: str) -> None:
    today = datetime.now(UTC).date()  # the demo history ends this week
    START, END = f"{today - timedelta(days=120)}T00:00:00Z", f"{today}T23:59:59Z"  # noqa: N806
    with Store.open(duckdb_url) as store:
        load_demo(store)
        for client in make_api(store):
            api = client.client.get(
                "/api/v1/dora",
                params={"start": START, "end": END, "interval": "month", "environment": "*"},
            )
    assert api.status_code == 200 and api.headers["content-type"] == "application/json"
    window = ("--since", START, "--until", END)
    cli = run_cli("dora", "report", "--json", *window, "--interval", "month",
                  "--environment", "*", db=duckdb_url)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    # the same serialisation: compact, keys in the same order, times with `Z`; the values agree
    # to the last bits a parallel sum may change between two runs of the same query
    assert cli.stdout.endswith("}\n") and '": ' not in cli.stdout and '", "' not in cli.stdout
    assert f'"start":"{START}"' in cli.stdout and "+00:00" not in cli.stdout
    assert _rounded(json.loads(cli.stdout)) == _rounded(api.json())
    assert _keys(json.loads(cli.stdout)) == _keys(api.json())


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return [_rounded(v) for v in value] if isinstance(value, list) else value


def _keys(value: Any) -> Any:
    """The keys in their order, all the way down."""
    if isinstance(value, dict):
        return [(k, _keys(v)) for k, v in value.items()]
    return [_keys(v) for v in value] if isinstance(value, list) else None


def test_dora_report_rejects_bad_options(duckdb_url: str) -> None:
    bad = run_cli("dora", "report", "--since", "soon", db=duckdb_url)
    assert bad.returncode == 2
    assert "--since 'soon' is not a date" in bad.stderr
    wide = {"COLUMNS": "200"}  # Typer's error box wraps at the terminal's width
    bad = run_cli("dora", "report", "--benchmark", "2019", db=duckdb_url, env=wide)
    assert "'2019' is not one of '2021', '2023', '2024'" in bad.stderr
