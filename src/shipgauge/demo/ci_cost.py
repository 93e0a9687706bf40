"""The CI-cost part of `shipgauge demo`: recorded pushlog and task group, scanned and priced.

A local HTTP server, started for the demo and stopped after it, plays hg.mozilla.org and the
Taskcluster index and queue from the files in `shipgauge/demo_data/ci_cost/` (PROVENANCE.md
there says how each answer is composed). The real `scan_repo` reads it, and a synthetic 8-column
cost table prices the runs. Re-running the demo changes nothing.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, unquote, urlsplit

from shipgauge.config import load_settings
from shipgauge.demo.loopback import serve_on_loopback
from shipgauge.demo.recorded_times import add_months, month_offset, moved_cost_table
from shipgauge.demo.telemetry import moved_pushlog, pushlog_shift, recorded_pushlog
from shipgauge.pipelines.ci_cost.prices import load_prices
from shipgauge.pipelines.ci_cost.scan import scan_ci_cost
from shipgauge.store import Store

__all__ = ["DEMO_REPO", "load_demo", "moved_rate_months"]

DEMO_REPO: Final = "mozilla-central"
_PAGES: Final = ("completed", "continuation1", "continuation2", "failed", "unscheduled")
_RECORDED_GROUP: Final = "eShtp2faQgy4iZZOIhXvhw"
_RECORDED_START: Final = datetime(2017, 10, 26, 1, 3, 58, 641000, UTC)  # first task scheduled
_NOT_INDEXED: Final = frozenset({33272, 33275})  # made up: these pushes never get a decision task
_ISO: Final = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z"')


def _folder() -> Path:
    return Path(str(resources.files("shipgauge") / "demo_data" / "ci_cost"))


class _DemoHandler(BaseHTTPRequestHandler):
    pushlog: ClassVar[dict[str, Any]]
    pages: ClassVar[dict[str, str]]
    task_ids: ClassVar[list[str]]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, body: Any) -> None:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = unquote(url.path)
        if path == f"/{DEMO_REPO}/json-pushes":
            start, end = int(query["startID"]), int(query["endID"])
            pushes = {k: v for k, v in self.pushlog["pushes"].items() if start < int(k) <= end}
            self._answer(200, {"lastpushid": self.pushlog["lastpushid"], "pushes": pushes})
        elif path.startswith("/api/index/v1/task/"):
            push_id = self._indexed_push(path.rpartition("/")[2])
            if push_id is None:
                self._answer(404, {"code": "ResourceNotFound"})
            else:
                self._answer(200, {"taskId": f"demo-{push_id}"})
        elif path.startswith("/api/queue/v1/task/"):
            self._answer(200, {"taskGroupId": path.rpartition("/")[2]})
        elif path.startswith("/api/queue/v1/task-group/"):
            group = path.split("/")[5]
            self._group_page(int(group.removeprefix("demo-")), query.get("continuationToken"))
        else:
            self._answer(404, {"code": "ResourceNotFound"})

    def _indexed_push(self, index_path: str) -> int | None:
        for push_id, push in self.pushlog["pushes"].items():
            tip = push["changesets"][-1]["node"]
            if tip in index_path and int(push_id) not in _NOT_INDEXED:
                return int(push_id)
        return None

    def _group_page(self, push_id: int, token: str | None) -> None:
        # The recorded group, moved to this push: its ids renamed, its times shifted to just
        # after the push, and cut after 2 to 5 pages so that pushes cost different amounts.
        kept = 2 + push_id % 4
        index = 0 if token is None else _PAGES.index(token)
        text = self.pages[_PAGES[index]].replace(_RECORDED_GROUP, f"demo-{push_id}")
        for task_id in self.task_ids:
            text = text.replace(task_id, f"{task_id[:16]}{push_id}")
        pushed = datetime.fromtimestamp(self.pushlog["pushes"][str(push_id)]["date"], UTC)
        shift = pushed + timedelta(minutes=5) - _RECORDED_START

        def moved(match: re.Match[str]) -> str:
            when = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) + shift
            return f'"{when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}Z"'

        page = json.loads(_ISO.sub(moved, text))
        if index + 1 >= kept:
            page.pop("continuationToken", None)
        self._answer(200, page)


@contextmanager
def demo_server(shift: timedelta = timedelta()) -> Iterator[str]:
    """The demo's stand-in for hg.mozilla.org and Taskcluster (pushes moved by `shift`, and
    their groups with them); yields its base URL."""
    folder = _folder()
    pages = {name: (folder / f"listTaskGroup.{name}.json").read_text() for name in _PAGES}

    class Handler(_DemoHandler):
        pass

    Handler.pushlog = moved_pushlog(
        json.loads((folder / "hg_pushlog.v2-full.json").read_text()), shift
    )
    Handler.pages = pages
    Handler.task_ids = [
        t["status"]["taskId"] for text in pages.values() for t in json.loads(text)["tasks"]
    ]
    with serve_on_loopback(Handler) as url:
        yield url


def load_demo(store: Store, *, move: bool = False) -> None:
    """Scan the bundled mozilla-central pushes 33268-33277 and load the synthetic cost table;
    with `move`, the pushes (as the telemetry demo moves them) and the table's months with them."""
    shift = pushlog_shift(store) if move else timedelta()
    with tempfile.TemporaryDirectory() as tmp:
        prices = _folder() / "worker_type_costs.csv"
        if shift:
            pushed = max(p["date"] for p in recorded_pushlog()["pushes"].values())
            months = month_offset(datetime.fromtimestamp(pushed, UTC), shift)
            prices = moved_cost_table(prices, Path(tmp) / prices.name, shift, months)
        load_prices(store, prices)
    with demo_server(shift) as url:
        settings = load_settings(
            hg_url=url, taskcluster_root_url=url, ci_cost_repos=[DEMO_REPO], http_retries=1
        )
        scan_ci_cost(store=store, settings=settings, since=33267)


def moved_rate_months(store: Store) -> set[date]:
    """The months of the demo's cost table once moved with the pushes (`load_demo(move=True)`)."""
    pushed = max(p["date"] for p in recorded_pushlog()["pushes"].values())
    months = month_offset(datetime.fromtimestamp(pushed, UTC), pushlog_shift(store))
    with (_folder() / "worker_type_costs.csv").open(newline="") as table:
        rows = csv.DictReader(table)
        return {add_months(date(int(r["year"]), int(r["month"]), 1), months) for r in rows}
