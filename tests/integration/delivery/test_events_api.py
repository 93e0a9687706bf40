"""The event routes in process, on both engines: bad input gets its own 4xx and stores nothing;
the seed's endpoint and CDEvents work; a replay stores once; a failed commit is never a 2xx."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import psycopg
import pytest

from shipgauge.api import create_app
from shipgauge.config import Settings
from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.integration.delivery.delivery_api import Api
from tests.support.recorded_http import fixtures_dir

FIXTURES = fixtures_dir() / "taskcluster" / "devops-toolkit-metrics"
VECTORS = json.loads((FIXTURES / "devops_metrics_test_vectors.json").read_text())
PUSH = {"service": "web", "kind": "push", "commits": ["a1"]}


def _bad(api: Api, body: Any = None, *, headers: dict[str, str] | None = None, raw: bytes = b"",
         path: str = "/api/v1/events") -> tuple[int, dict[str, Any]]:  # fmt: skip
    sent = {**api.auth, **(headers or {})}
    response = (
        api.client.post(path, content=raw, headers=sent)
        if raw
        else api.client.post(path, json=body, headers=sent)
    )
    assert api.store.count("delivery_events") == 0, "bad input must store nothing"
    return response.status_code, response.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({**PUSH, "kind": "deployment"}, 400, "kind", "Did you mean deploy?"),
        ({"kind": "push"}, 400, "service", "service is required"),
        ({**PUSH, "time": "01/05/2024 10:00"}, 400, "time", "RFC 3339"),
        ({**PUSH, "time": "2999-01-01T00:00:00Z"}, 400, "time", "ahead of the server clock"),
        ({**PUSH, "metadata": ["x"]}, 400, "metadata", "JSON object"),
        ([{"kind": "x"}], 400, "[0].kind", "nothing stored"),
    ],
)  # fmt: skip
def test_bad_events_get_400_naming_the_field(
    api: Api, body: Any, status: int, field: str, words: str
) -> None:
    code, error = _bad(api, body)
    assert (code, error["field"]) == (status, field)
    assert words in error["message"]


def test_body_over_the_limit_gets_413(api: Api) -> None:
    big = [{**PUSH, "metadata": {"pad": "x" * 60_000}}] * 20
    code, error = _bad(api, raw=json.dumps(big).encode())
    assert (code, error["field"]) == (413, "body")


def test_invalid_json_gets_400(api: Api) -> None:
    assert _bad(api, raw=b'{"service": ')[0] == 400


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({"Authorization": ""}, 401, "missing bearer token"),
        ({"Authorization": "Bearer sg_abc_wrong"}, 401, "invalid or revoked token"),
    ],
)
def test_missing_or_wrong_token_gets_401(
    api: Api, headers: dict[str, str], status: int, message: str
) -> None:
    code, error = _bad(api, PUSH, headers=headers)
    assert (code, error["field"]) == (status, "Authorization")
    assert message in error["message"]


def test_token_for_another_service_gets_403(api: Api) -> None:
    other = {"Authorization": f"Bearer {api.token_for('api')}"}
    code, error = _bad(api, PUSH, headers=other)
    assert (code, error["field"]) == (403, "service")
    assert error["message"] == "this token writes events for service 'api', not 'web'"
    admin_only = {"Authorization": f"Bearer {api.token_for('*', ('admin',))}"}
    assert _bad(api, PUSH, headers=admin_only)[0] == 403


def test_batch_stores_the_valid_events_and_lists_the_others(api: Api) -> None:
    web_only = {"Authorization": f"Bearer {api.token_for('web')}"}
    batch = [PUSH, {**PUSH, "kind": "nope"}, {**PUSH, "service": "api"}]
    response = api.client.post("/api/v1/events", json=batch, headers=web_only)
    assert response.status_code == 207
    body = response.json()
    assert (body["stored"], body["rejected"]) == (1, 2)
    assert [i["status"] for i in body["items"]] == ["stored", "rejected", "rejected"]
    assert body["items"][1]["error"]["field"] == "kind"
    assert "not 'api'" in body["items"][2]["error"]["message"]
    assert api.store.count("delivery_events") == 1


def test_the_same_batch_twice_is_stored_once(api: Api) -> None:
    batch = [PUSH, {"service": "web", "kind": "deploy", "commits": ["a1"]}]
    key = {"Idempotency-Key": "gha-123-1"}
    for status in ("stored", "duplicate"):
        response = api.client.post("/api/v1/events", json=batch, headers={**api.auth, **key})
        assert response.status_code == 200
        body = response.json()
        assert [i["id"] for i in body["items"]] == ["gha-123-1-0", "gha-123-1-1"]
        assert [i["status"] for i in body["items"]] == [status, status]  # a replay says so
        assert (body["stored"], body["duplicate"]) == ((2, 0) if status == "stored" else (0, 2))
    assert (api.store.count("delivery_events"), api.store.count("delivery_event_commits")) == (2, 2)


def test_an_event_twice_in_one_batch_is_stored_then_a_duplicate(api: Api) -> None:
    event = {**PUSH, "event_id": "e-1"}
    response = api.client.post("/api/v1/events", json=[event, event, {**event, "event_id": "e-2"}],
                               headers=api.auth)  # fmt: skip
    statuses = [i["status"] for i in response.json()["items"]]
    assert (response.status_code, statuses) == (200, ["stored", "duplicate", "stored"])


@pytest.mark.parametrize("case", VECTORS["authenticator"], ids=lambda c: str(c["authorized"]))
def test_process_event_authenticates_like_the_seed(api: Api, case: dict[str, Any]) -> None:
    token = api.token if case["authorized"] else case["token"]
    body = {"Repo": "test_repo", "Event": "push", "Metadata": '{"commit_id": "abc"}'}
    response = api.client.post("/process-event", json=body, headers={"X-Secret-Token": token})
    if case["authorized"]:
        assert (response.status_code, response.json()) == (200, "Request processed successfully")
        assert api.store.count("delivery_event_commits") == 1
    else:
        assert response.status_code == 401
        assert api.store.count("delivery_events") == 0


def test_process_event_refuses_what_the_seed_swallowed(api: Api) -> None:
    for payload, field in [
        ({"Repo": "test_repo", "Event": "invalid", "Metadata": "test_metadata"}, "Event"),
        ({"Repo": "test_repo", "Metadata": "test_metadata"}, "Event"),
        ({"Repo": "test_repo", "Event": "calc_deploy_frequency"}, "Event"),
    ]:
        code, error = _bad(api, payload, path="/process-event")
        assert (code, error["field"]) == (400, field)


def test_cdevents_binary_and_structured_land_as_deployments(api: Api) -> None:
    cdevent: dict[str, Any] = {
        "context": {"specversion": "0.4.1", "id": "cd-1", "source": "/argo",
                    "type": "dev.cdevents.service.deployed.0.2.0",
                    "timestamp": "2024-05-01T10:00:00Z"},
        "subject": {"id": "web", "content": {"environment": {"id": "production"}}},
        "customData": {"commits": ["a1"]},
    }  # fmt: skip
    binary = {**api.auth, "ce-specversion": "1.0", "ce-id": "cd-1", "ce-type": "x"}
    assert api.client.post("/api/v1/cdevents", json=cdevent, headers=binary).status_code == 400
    binary["ce-type"] = cdevent["context"]["type"]
    assert api.client.post("/api/v1/cdevents", json=cdevent, headers=binary).status_code == 200
    structured = {**api.auth, "Content-Type": "application/cloudevents+json"}
    envelope = {"specversion": "1.0", "id": "cd-2", "source": "/argo",
                "type": cdevent["context"]["type"],
                "data": {**cdevent, "context": {**cdevent["context"], "id": "cd-2"}}}  # fmt: skip
    response = api.client.post("/api/v1/cdevents", content=json.dumps(envelope), headers=structured)
    assert response.status_code == 200, response.text
    rows = api.store.query(
        "SELECT event_id, origin FROM delivery_events WHERE kind = 'deploy' ORDER BY 1"
    ).rows
    assert rows == [("cd-1", "cdevents"), ("cd-2", "cdevents")]
    unknown = {**envelope, "data": {**cdevent, "context": {**cdevent["context"],
               "type": "dev.cdevents.artifact.packaged.0.2.0"}}}  # fmt: skip
    response = api.client.post("/api/v1/cdevents", content=json.dumps(unknown), headers=structured)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "context.type"
    assert "artifact.packaged" in response.json()["error"]["message"]


def test_dora_rejects_bad_parameters(api: Api) -> None:
    for params, field in [
        ({"interval": "hourly"}, "interval"),
        ({"benchmark": "2019"}, "benchmark"),
        ({"start": "last week"}, "start"),
        ({"start": "2024-05-02", "end": "2024-05-01"}, "end"),
        ({"end": "2024-05-01T00:00:00"}, "end"),
    ]:
        response = api.client.get("/api/v1/dora", params=params)
        assert (response.status_code, response.json()["error"]["field"]) == (400, field)


def test_a_failed_commit_is_never_a_2xx_and_spares_the_others(pg_schema_url: str) -> None:
    with Store.open(pg_schema_url) as store:
        token = create_token(store, service="*", scopes=["events:write"])
        with psycopg.connect(pg_schema_url, autocommit=True) as conn:
            conn.execute(
                "ALTER TABLE delivery_events ADD CONSTRAINT no_poison CHECK (service <> 'poison')"
            )
        app = create_app(Settings.model_construct(db=pg_schema_url), store=store)

        async def post_concurrently() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await asyncio.gather(*[
                    client.post("/api/v1/events", headers={"Authorization": f"Bearer {token}"},
                                json={"service": "poison" if n == 3 else f"s{n}", "kind": "push"})
                    for n in range(12)
                ])  # fmt: skip

        responses = asyncio.run(post_concurrently())
        statuses = [r.status_code for r in responses]
        assert statuses == [200] * 3 + [503] + [200] * 8
        assert "could not store 1 event" in responses[3].json()["error"]["message"]
        stored = store.query("SELECT service FROM delivery_events ORDER BY service").rows
        assert stored == sorted((f"s{n}",) for n in range(12) if n != 3)
