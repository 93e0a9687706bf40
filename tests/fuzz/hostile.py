"""Hostile requests for every route of the API, built from its OpenAPI document.

Shared by the fuzz tests (`tests/fuzz/`) and the fuzz benchmark (`bench/bench_api_fuzz.py`).
Each request keeps the route's shape (method, path, its own parameter names) and puts in it
what a hostile client would: values of every type and size, the dates and windows at the edges
of the calendar, stray and empty parameter names, and bodies that are not JSON, nest without
end, hold numbers no column holds or lone surrogates, or are well-formed JSON of another kind.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from shipgauge.api.app import create_app
from shipgauge.config import Settings

# The edges that broke routes before (issue 15), among ordinary values.
EDGE_VALUES = [
    "", "-", "--", "0", "-5", "1e400", "NaN", "99999999999999999999999", str(2**63),
    "0001-01-01", "9999-12-31", "0000-00-00", "2024-02-30", "99999999d", "0d", "-1d",
    "1970-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00",
    "*", "%", "'", '"', "\\", "' OR 1=1 --", "build_records", "\x00", "\ud800", "é" * 3,
    "(" * 5000, "a" * 2000,
]  # fmt: skip
BUILDHUB_ROUTES = ("/api/search", "/api/records", "/v1/buckets/")
"""Buildhub-compatible routes keep Buildhub's error bodies (the documented exception)."""


@dataclass(frozen=True)
class HostileRequest:
    """One request: what the fuzzer sends, printable when it finds a 5xx."""

    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    authorized: bool = True
    template: str = ""  # the route's path with its {parameters}, when drawn for a route

    @property
    def route(self) -> str:
        return f"{self.method} {self.template or self.path}"

    @property
    def keeps_error_shape(self) -> bool:
        return not self.path.startswith(BUILDHUB_ROUTES)

    def url(self, base: str) -> str:
        """The URL as raw bytes would send it: a lone surrogate goes as its UTF-8-like bytes."""
        query = "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in self.params)
        return f"{base}{_quoted(self.path, safe='/')}" + (f"?{query}" if query else "")

    def send(self, client: httpx.Client, base: str, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if self.authorized else {}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        return client.request(self.method, self.url(base), content=self.body, headers=headers)


def _quoted(text: str, safe: str = "") -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


def api_routes() -> list[tuple[str, str, list[str]]]:
    """`(method, path template, query parameter names)` of every route in the OpenAPI document."""
    spec = create_app(Settings(db=":memory:")).openapi()
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            routes.append((method.upper(), path, names))
    return sorted(routes)


_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def _edge_or_text() -> st.SearchStrategy[str]:
    return st.sampled_from(EDGE_VALUES) | st.text(max_size=40) | st.integers().map(str)


json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
any_json = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return (opener * depth + closer * depth).encode()


# Bodies well-formed for one route and hostile for the others.
SAMPLE_BODIES = [
    b'{"service":"web","kind":"deploy"}',
    b'[{"service":"web","kind":"push","time":"0001-01-01T00:00:00Z"}]',
    b'{"Records":[{"eventTime":"not a time","s3":{"object":{"key":"pub/x"}}}]}',
    b'{"Records":"x"}',
    b'{"Type":"SubscriptionConfirmation","SubscribeURL":"https://127.0.0.1:1/x"}',
    b'{"Type":"Notification","Message":"123"}',
    b'{"Repo":"web","Event":"deploy","Time":"99999-01-01","Metadata":"{"}',
    b'{"specversion":"1.0","type":"dev.cdevents.service.deployed.0.1.1","data":5}',
    b'{"service":"\\ud800","kind":"push"}',
    b'{"Records":[{"eventTime":"\\ud800","s3":{"object":{"key":"pub/x"}}}]}',
    b'{"Records":[{"eventTime":"\\u0000","s3":{"object":{"key":"pub/x"}}}]}',
    b'{"size":1e400}',
    b'{"n":' + b"1" * 61 + b"}",
    b"123", b"null", b'"x"', b"", b"not json", b"\xff\xfe\x00", b'{"a":NaN}',
]  # fmt: skip

bodies = st.one_of(
    st.sampled_from(SAMPLE_BODIES),
    st.integers(min_value=1, max_value=100_000).flatmap(
        lambda depth: st.sampled_from(["[", "{"]).map(lambda o: _nested(depth, o))
    ),
    any_json.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)


@st.composite
def hostile_requests(draw: st.DrawFn, routes: list[tuple[str, str, list[str]]]) -> HostileRequest:
    """A request to one of `routes`, with hostile path values, parameters and body."""
    method, template, names = draw(st.sampled_from(routes))
    segments = _edge_or_text().filter(lambda v: v and "/" not in v)
    path = _PATH_PARAMETER.sub(lambda _: draw(segments), template)
    params = [(n, draw(_edge_or_text())) for n in names if draw(st.booleans())]
    params += draw(
        st.lists(st.tuples(st.sampled_from(["", "-", "x", "limit"]), _edge_or_text()), max_size=2)
    )
    body = draw(bodies) if method in ("POST", "PUT", "PATCH") else None
    return HostileRequest(method, path, params, body, draw(st.booleans()), template)
