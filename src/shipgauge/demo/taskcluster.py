"""`shipgauge demo` for Taskcluster: recorded Pulse messages, synthetic billing and uptime.

The bundled files (`demo_data/taskcluster/`, see PROVENANCE.md there) go through the same parse
and import paths as `drain`, `costs` and `metrics --file`. Loading twice changes nothing.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from shipgauge.pipelines.taskcluster.pulse import store_messages
from shipgauge.pipelines.taskcluster.workers import load_costs, load_uptime_file
from shipgauge.sources.taskcluster.pulse import recorded_messages
from shipgauge.store import Store

__all__ = ["MESSAGE_FILES", "load_demo"]

MESSAGE_FILES = (
    "treeherder_taskcluster_pulse_messages_2019.json",
    "fuzzmanager_community_tc_pulse_messages_2021_2022.json",
    "code_review_task_completed_messages_2019.json",
)


def load_demo(store: Store) -> None:
    """Load the recorded messages, then the synthetic costs and uptime for their workers."""
    with resources.as_file(resources.files("shipgauge") / "demo_data" / "taskcluster") as folder:
        messages = [
            (body, exchange)
            for name in MESSAGE_FILES
            for exchange, _, body in recorded_messages(_read_json(folder / name))
        ]
        with store.transaction() as tx:
            store_messages(tx, messages)
        day = date(2021, 4, 20)
        load_costs(
            store=store, paths=[folder / "gcp_billing_2021-04-20.jsonl"], day=day, gcp_projects=()
        )
        load_uptime_file(store=store, path=folder / "uptime_2021-04-20.csv", day=day)
        load_costs(
            store=store,
            paths=[folder / "worker_type_costs_2019-06.csv"],
            day=date(2019, 6, 26),
            gcp_projects=(),
        )


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
