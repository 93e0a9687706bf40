"""Nothing returns 5xx for bad input: property-based requests built from the OpenAPI spec.

The event body schema comes from the served `/openapi.json`; every field gets either a value
that fits its schema or any JSON at all, and fields come and go, so most requests are wrong in
some way. Seed bodies, CloudEvents and DORA query strings get the same treatment. A bounded
number of examples keeps this to seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipgauge.store import Store
from tests.integration.delivery.delivery_api import Api, make_api

EXAMPLES = 100
CHECK = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
any_json = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ASCII = st.characters(min_codepoint=33, max_codepoint=126)
times = st.datetimes().map(lambda d: d.isoformat() + "Z") | st.text(max_size=30)


def fitting(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that fit a (small) JSON Schema: enums, strings, booleans, arrays, objects."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if schema.get("format") == "date-time":
        return times
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(fitting(schema["items"]), max_size=5)
    if kind == "object":
        return st.dictionaries(st.text(max_size=10), any_json, max_size=4)
    return any_json


def events_from(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Event objects from the schema, each field fitting or not, plus stray fields."""
    fields = {name: fitting(prop) | any_json for name, prop in schema["properties"].items()}
    required = {name: fields[name] for name in schema["required"]}
    optional = {name: s for name, s in fields.items() if name not in required}
    event = st.fixed_dictionaries(required, optional=optional)
    stray = st.dictionaries(st.text(max_size=10), any_json, max_size=2)
    return st.one_of(event, st.tuples(event, stray).map(lambda p: {**p[1], **p[0]}))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Store.open(str(tmp_path_factory.mktemp("no5xx") / "s.duckdb")) as store:
        yield from make_api(store)


def _check(api: Api, response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"field", "message"}


def test_events_never_5xx(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    body_schema = spec["paths"]["/api/v1/events"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    event_schema, batch_schema = body_schema["oneOf"]
    event = events_from(event_schema)
    bodies = event | st.lists(event, max_size=batch_schema["maxItems"] // 100) | any_json

    @CHECK
    @given(body=bodies, key=st.none() | st.text(ASCII, max_size=20))
    def check(body: Any, key: str | None) -> None:
        headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
        _check(api, api.client.post("/api/v1/events", json=body, headers=headers))

    check()


def test_raw_bytes_never_5xx(api: Api) -> None:
    @CHECK
    @given(raw=st.binary(max_size=200))
    def check(raw: bytes) -> None:
        for path in ("/api/v1/events", "/api/v1/cdevents", "/process-event"):
            _check(api, api.client.post(path, content=raw, headers=api.auth))

    check()


def test_seed_bodies_never_5xx(api: Api) -> None:
    seed = st.fixed_dictionaries(
        {"Repo": st.text(max_size=20) | any_json, "Event": st.sampled_from(
            ["push", "deploy", "test_pass", "test_run", "calc_deploy_frequency"]) | any_json},
        optional={"Metadata": st.text(max_size=40) | any_json, "Time": times | any_json},
    )  # fmt: skip

    @CHECK
    @given(body=seed | any_json)
    def check(body: Any) -> None:
        _check(api, api.client.post("/process-event", json=body, headers={
            "X-Secret-Token": api.token}))  # fmt: skip

    check()


def test_cloudevents_never_5xx(api: Api) -> None:
    types = st.sampled_from([
        "dev.cdevents.service.deployed.0.2.0", "dev.cdevents.incident.detected.0.2.0",
        "dev.cdevents.change.merged.0.2.0", "dev.cdevents.testsuiterun.finished.0.2.0",
    ]) | st.text(max_size=30)  # fmt: skip
    context = st.fixed_dictionaries(
        {"type": types}, optional={"id": any_json, "timestamp": times, "source": any_json}
    )
    cdevent = st.fixed_dictionaries(
        {"context": context | any_json},
        optional={"subject": any_json, "customData": any_json},
    )
    headers = st.sampled_from([
        {"ce-specversion": "1.0"}, {"Content-Type": "application/cloudevents+json"},
        {"Content-Type": "application/cloudevents-batch+json"}, {},
    ])  # fmt: skip
    body = cdevent | st.fixed_dictionaries({"specversion": st.just("1.0"), "data": cdevent})

    @CHECK
    @given(body=body | st.lists(body, max_size=3) | any_json, extra=headers)
    def check(body: Any, extra: dict[str, str]) -> None:
        _check(api, api.client.post("/api/v1/cdevents", json=body, headers={**api.auth, **extra}))

    check()


def test_dora_query_strings_never_5xx(api: Api) -> None:
    dates = st.dates().map(str) | times | st.text(max_size=12)
    params = st.fixed_dictionaries({}, optional={
        "service": st.text(max_size=10), "environment": st.text(max_size=10) | st.just("*"),
        "start": dates, "end": dates, "benchmark": st.sampled_from(["2021", "2023", "x"]),
        "interval": st.sampled_from(["day", "week", "month", "all", "weekly", "x"]),
    })  # fmt: skip

    @settings(CHECK, max_examples=EXAMPLES // 3)  # each valid query runs the DORA models
    @given(query=params)
    def check(query: dict[str, str]) -> None:
        _check(api, api.client.get("/api/v1/dora", params=query))

    check()
