"""`shipgauge demo` for Taskcluster: recorded Pulse messages, synthetic billing and uptime.

The bundled files (`demo_data/taskcluster/`, see PROVENANCE.md there) go through the same parse
and import paths as `drain`, `costs` and `metrics --file`. Loading twice changes nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from shipgauge.demo.ci_cost import moved_rate_months
from shipgauge.demo.recorded_times import (
    month_offset,
    move_iso_times,
    moved_cost_table,
    recording_shift,
)
from shipgauge.pipelines.taskcluster.pulse import store_messages
from shipgauge.pipelines.taskcluster.workers import load_costs, load_uptime_file
from shipgauge.sources.taskcluster.pulse import recorded_messages
from shipgauge.store import Store

__all__ = ["MESSAGE_FILES", "load_demo"]

# message file → the recording's name in the `demo.moved:` checkpoints
MESSAGE_FILES = {
    "treeherder_taskcluster_pulse_messages_2019.json": "treeherder",
    "fuzzmanager_community_tc_pulse_messages_2021_2022.json": "fuzzmanager",
    "code_review_task_completed_messages_2019.json": "code-review",
}
# What was recorded with the runs of a month: billing and uptime of a day, rates of a month.
BILLING_DAY, BILLING_RECORDING = date(2021, 4, 20), "taskcluster/fuzzmanager/2021-04"
RATES_DAY, RATES_RECORDING = date(2019, 6, 26), "taskcluster/treeherder/2019-06"
_RUN_TIME = re.compile(r'"(?:scheduled|started|resolved)": "([^"]+)"')


def load_demo(store: Store, *, move: bool = False) -> None:
    """Load the recorded messages, then the synthetic costs and uptime for their workers; with
    `move`, each file's tasks of one month moved into the present as one recording, with the
    billing, uptime and rates recorded for them (`demo.recorded_times`)."""
    shifts: dict[str, timedelta] = {}
    with (
        resources.as_file(resources.files("shipgauge") / "demo_data" / "taskcluster") as folder,
        tempfile.TemporaryDirectory() as tmp,
    ):
        messages = []
        for name, recording in MESSAGE_FILES.items():
            data = _read_json(folder / name)
            if move:
                data = _moved_messages(store, recording, data, shifts)
            messages += [(body, exchange) for exchange, _, body in recorded_messages(data)]
        with store.transaction() as tx:
            store_messages(tx, messages)
        billing, rates = (
            shifts.get(BILLING_RECORDING, timedelta()),
            shifts.get(RATES_RECORDING, timedelta()),
        )
        moved = Path(tmp)
        load_costs(
            store=store,
            paths=[_moved_file(folder / "gcp_billing_2021-04-20.jsonl", moved, billing)],
            day=BILLING_DAY + billing,
            gcp_projects=(),
        )
        load_uptime_file(
            store=store,
            path=_moved_file(folder / "uptime_2021-04-20.csv", moved, billing),
            day=BILLING_DAY + billing,
        )
        load_costs(
            store=store,
            paths=[_moved_rates(folder / "worker_type_costs_2019-06.csv", moved, rates)],
            day=RATES_DAY + rates,
            gcp_projects=(),
        )


def _moved_messages(store: Store, recording: str, data: Any, shifts: dict[str, timedelta]) -> Any:
    """The entries of a recorded-messages file with each month's tasks moved as one recording."""
    keyed = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
    months: dict[str, list[datetime]] = {}
    month_of: dict[Any, str] = {}
    for key, entry in keyed:
        times = [datetime.fromisoformat(t) for t in _RUN_TIME.findall(json.dumps(entry))]
        month_of[key] = f"{recording}/{max(times):%Y-%m}"
        months.setdefault(month_of[key], []).extend(times)
    for name, times in months.items():
        recording = f"taskcluster/{name}"
        if recording == RATES_RECORDING:  # its rates must not land on the CI cost demo's months
            shift = recording_shift(
                store,
                recording,
                max(times),
                rates_day=RATES_DAY,
                taken_months=moved_rate_months(store),
            )
        else:
            shift = recording_shift(store, recording, max(times))
        shifts[recording] = shift
    moved = [
        (key, json.loads(move_iso_times(json.dumps(entry), shifts[f"taskcluster/{month_of[key]}"])))
        for key, entry in keyed
    ]
    return dict(moved) if isinstance(data, dict) else [entry for _, entry in moved]


def _moved_file(path: Path, folder: Path, shift: timedelta) -> Path:
    target = folder / path.name
    target.write_text(move_iso_times(path.read_text(encoding="utf-8"), shift), encoding="utf-8")
    return target


def _moved_rates(path: Path, folder: Path, shift: timedelta) -> Path:
    """The cost table with its months moved as far as the runs they price."""
    months = month_offset(datetime.combine(RATES_DAY, datetime.min.time(), UTC), shift)
    return moved_cost_table(path, folder / path.name, shift, months)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
