"""Cloud Monitoring requests and responses, and uptime files (fxci-etl metric export cases)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from shipgauge.errors import BadRequest, SourceError
from shipgauge.sources.monitoring import (
    GROUP_BY_FIELDS,
    UPTIME_METRIC,
    day_interval,
    time_series_params,
    time_series_rows,
    uptime_file_rows,
)
from tests.support.recorded_http import fixtures_dir

CASES = json.loads(
    (fixtures_dir() / "taskcluster" / "pulse-messages" / "fxci_etl_test_cases.json").read_text()
)["metric_export"]


def test_day_interval_upstream_cases() -> None:
    ok, too_soon = CASES["get_time_interval"]
    start, end = day_interval(date.fromisoformat(ok["date"]), now=datetime.fromisoformat(ok["now"]))
    assert (start, end) == (
        datetime(2024, 8, 1, tzinfo=UTC),
        datetime(2024, 8, 1, 23, 59, 59, tzinfo=UTC),
    )
    with pytest.raises(BadRequest, match="from 2024-08-02 00:09 UTC"):
        day_interval(
            date.fromisoformat(too_soon["date"]), now=datetime.fromisoformat(too_soon["now"])
        )


def test_time_series_params_match_upstream_request() -> None:
    request = CASES["get_timeseries_request"]
    start, end = datetime(2024, 8, 1, tzinfo=UTC), datetime(2024, 8, 1, 1, tzinfo=UTC)
    params = time_series_params(start, end, page_token="p2")
    single = dict(params)
    assert single["filter"] == request["filter"] == f'metric.type="{UPTIME_METRIC}"'
    assert single["view"] == request["view"]
    assert single["aggregation.alignmentPeriod"] == "3600s"  # end - start, as in the test
    assert single["aggregation.perSeriesAligner"] == request["aggregation"]["per_series_aligner"]
    assert single["aggregation.crossSeriesReducer"] == "REDUCE_SUM"
    groups = [v for k, v in params if k == "aggregation.groupByFields"]
    assert groups == request["aggregation"]["group_by_fields"] == list(GROUP_BY_FIELDS)
    assert (single["interval.startTime"], single["pageToken"]) == ("2024-08-01T00:00:00Z", "p2")


def test_time_series_rows_upstream_record() -> None:
    point = CASES["export_metrics"]["timeseries_point"]
    expected = CASES["export_metrics"]["expect_record"]
    page = {
        "timeSeries": [
            {
                "resource": {"type": "gce_instance", "labels": point["resource.labels"]},
                "points": [
                    {
                        "interval": {
                            "startTime": point["interval.start_time"],
                            "endTime": point["interval.end_time"],
                        },
                        "value": {"doubleValue": point["value.double_value"]},
                    }
                ],
            }
        ]
    }
    (row,) = time_series_rows(page, project="proj", day=date(2024, 8, 1))
    assert {k: row[k] for k in ("project", "zone", "instance_id", "uptime")} == {
        k: expected[k] for k in ("project", "zone", "instance_id", "uptime")
    }
    assert row["interval_start_time"] == datetime.fromtimestamp(123, UTC)
    assert row["interval_end_time"] == datetime.fromtimestamp(456, UTC)
    assert row["submission_date"].isoformat() == expected["submission_date"]
    assert row["method"] == "gcp_monitoring_instance_uptime"


def test_time_series_rows_without_points_is_a_source_error() -> None:
    page = {"timeSeries": [{"resource": {"labels": {"zone": "z", "instance_id": "1"}}}]}
    with pytest.raises(SourceError, match="time series of p lacks"):
        time_series_rows(page, project="p", day=date(2024, 8, 1))


def test_uptime_file_rows_keep_the_day_and_name_bad_lines() -> None:
    records = [
        ("line 2", {"project": "hw", "zone": "mdc2", "instance_id": "t-mojave-1", "uptime": "600",
                    "interval_start_time": "2026-05-10T00:00:00Z",
                    "interval_end_time": "2026-05-10T23:59:59Z"}),
        ("line 3", {"project": "hw", "zone": "mdc2", "instance_id": "t-mojave-1", "uptime": "9",
                    "interval_start_time": "2026-05-11T00:00:00Z",
                    "interval_end_time": "2026-05-11T23:59:59Z"}),
    ]  # fmt: skip
    rows, skipped = uptime_file_rows(records, day=date(2026, 5, 10))
    # no cloud_provider column: NULL, which the models read as gcp (fxci's cost query does)
    assert ([(r["instance_id"], r["uptime"], r["cloud_provider"]) for r in rows], skipped) == (
        [("t-mojave-1", 600.0, None)],
        1,
    )
    named = [(w, {**r, "cloud_provider": "azure"}) for w, r in records[:1]]
    assert uptime_file_rows(named, day=date(2026, 5, 10))[0][0]["cloud_provider"] == "azure"
    bad = [("line 4", {**records[0][1], "uptime": "lots"})]
    with pytest.raises(SourceError, match="line 4: column 'uptime': 'lots' is not a number"):
        uptime_file_rows(bad, day=date(2026, 5, 10))
