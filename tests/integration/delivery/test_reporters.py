"""The reporter scripts (Python, Node, bash) for real, against a real `shipgauge serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.conftest import free_port
from tests.support.recorded_http import RecordedHttpServer, Response

REPORTERS = Path(__file__).resolve().parents[3] / "reporters"
COMMANDS = {
    "python": [sys.executable, str(REPORTERS / "report_event.py")],
    "node": ["node", str(REPORTERS / "report_event.js")],
    "bash": ["bash", str(REPORTERS / "report_event.sh")],
}
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/web", "GITHUB_RUN_ID": "77",
          "GITHUB_JOB": "ship"}  # fmt: skip


def report(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A clean environment: the CI running these tests must not leak its own run ids in.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [*COMMANDS[name], *args], capture_output=True, text=True, env={**base, **env},
        timeout=60, check=False,
    )  # fmt: skip


def test_reporters_store_refuse_and_fail_alike(
    start_server: Callable[[str], str], duckdb_url: str
) -> None:
    with Store.open(duckdb_url) as store:
        token = create_token(store, service="web", scopes=["events:write"])
    base = start_server(duckdb_url)  # one server for the three reporters
    for run, name in enumerate(COMMANDS):
        env = {"SHIPGAUGE_URL": base, "SHIPGAUGE_TOKEN": token, "SHIPGAUGE_RETRIES": "1",
               **GITHUB, "GITHUB_RUN_ID": str(run)}  # fmt: skip
        _check_reporter(name, base, token, env)


def _check_reporter(name: str, base: str, token: str, env: dict[str, str]) -> None:
    deploy = ("web", "deploy", "--commit", f"{name}1", "--commit", f"{name}2",
              "--environment", "production", "--metadata", '{"pr": 5}')  # fmt: skip
    event_id = f"gha-o/web-{env['GITHUB_RUN_ID']}-1-ship-deploy-production"
    for _ in range(2):  # a re-run CI step reports the same event id: stored once
        done = report(name, *deploy, env=env)
        assert done.returncode == 0, (name, done.stderr)
        assert done.stdout == f"stored deploy event {event_id} for web\n"
    rows = httpx.get(f"{base}/api/v1/models/dora_deployment_commits",
                     params={"service": "web", "event_id": event_id}).json()["rows"]  # fmt: skip
    assert sorted(r["commit_sha"] for r in rows) == [f"{name}1", f"{name}2"]

    seed_env = {"API_DEVOPS_EVENT_CATCHER": f"{base}/process-event",
                "DEVOPS_EVENTS_SECRET_TOKEN": token}  # fmt: skip
    assert report(name, "web", "push", "--commit", "a3", env=seed_env).returncode == 0

    unauthorised = report(name, "web", "push", env={**env, "SHIPGAUGE_TOKEN": "sg_nope_nope"})
    assert unauthorised.returncode == 1, name
    assert "HTTP 401: invalid or revoked token (field Authorization)" in unauthorised.stderr

    typo = report(name, "web", "deplyo", env=env)
    assert typo.returncode == 1, name
    assert "HTTP 400: kind 'deplyo' is not one of" in typo.stderr
    assert "Did you mean deploy? (field kind)" in typo.stderr

    other_service = report(name, "api", "push", env=env)
    assert other_service.returncode == 1, name
    assert "HTTP 403: this token writes events for service 'web', not 'api'" in other_service.stderr

    down = report(
        name, "web", "push", env={**env, "SHIPGAUGE_URL": f"http://127.0.0.1:{free_port()}"}
    )
    assert down.returncode == 1, name
    assert "(after 2 tries)" in down.stderr

    usage = report(name, "web", env=env)
    assert usage.returncode == 2, name
    assert "usage: report_event" in usage.stderr


@pytest.mark.parametrize("name", COMMANDS)
def test_reporter_retries_5xx_but_not_4xx(name: str, recorded_http: RecordedHttpServer) -> None:
    recorded_http.sequence(
        "POST", "/api/v1/events",
        [Response(status=503, body={"error": {"field": None, "message": "store busy"}}),
         Response(status=200, body={"stored": 1}),
         Response(status=422, body={"error": {"field": "x", "message": "nope"}})],
    )  # fmt: skip
    env = {"SHIPGAUGE_URL": recorded_http.url, "SHIPGAUGE_TOKEN": "t", "SHIPGAUGE_RETRIES": "2"}
    assert report(name, "web", "push", "--event-id", "e1", env=env).returncode == 0
    refused = report(name, "web", "push", "--event-id", "e1", env=env)
    assert refused.returncode == 1
    assert "HTTP 422: nope (field x)" in refused.stderr
    posted = recorded_http.requests_to("/api/v1/events")
    assert len(posted) == 3  # 503, retried to 200; then one 422, not retried
    assert posted[0].header("Authorization") == "Bearer t"
    assert json.loads(posted[0].body)["event_id"] == "e1"


def test_reporters_build_the_same_event() -> None:
    args = ("web", "deploy", "--environment", "staging", "--commit", "a1", "--result", "failure",
            "--rollback", "--hotfix", "--metadata", '{"k": [1, "two"]}', "--dry-run")  # fmt: skip
    events = {}
    for name in COMMANDS:
        done = report(name, *args, env={"TASK_ID": "abc", "RUN_ID": "2"})
        assert done.returncode == 0, done.stderr
        event = json.loads(done.stdout)
        assert event.pop("time").endswith("Z")
        events[name] = event
    assert events["python"] == events["node"] == events["bash"] == {
        "service": "web", "kind": "deploy", "environment": "staging", "commits": ["a1"],
        "result": "failure", "rollback": True, "hotfix": True, "metadata": {"k": [1, "two"]},
        "event_id": "taskcluster-abc-2-deploy-staging",
    }  # fmt: skip
