"""HTTP connector: one httpx client per outside service, with retries, backoff and concurrency.

Retries cover what a later try can fix (connection errors, timeouts, 429 and 5xx); a 4xx is
the caller's answer and comes back at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from shipgauge.errors import UpstreamError

__all__ = ["DEFAULT_HTTP_TIMEOUT_S", "RETRY_STATUSES", "HttpConnector"]

DEFAULT_HTTP_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF_S = 0.5
# What a later try can fix; any other 4xx is the caller's answer.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")
R = TypeVar("R")


class HttpConnector:
    """Requests to one base URL; `name` appears in errors ("hg pushlog: HTTP 503 from …")."""

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
        self.retries = retries
        self.backoff_s = backoff_s
        self.concurrency = concurrency
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers={"User-Agent": "shipgauge", **(headers or {})},
            limits=httpx.Limits(max_connections=max(concurrency, 1) * 2),
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
        outcome, tries = "", 0
        while tries <= self.retries:
            if tries:
                time.sleep(self.backoff_s * 2 ** (tries - 1))
            tries += 1
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                outcome = type(exc).__name__
                continue
            if response.is_success or response.status_code in allowed:
                return response
            outcome = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                break
        raise UpstreamError(
            f"{self.name}: {outcome} from {self.base_url}{path} after {tries} "
            f"{'try' if tries == 1 else 'tries'}; retry later or check the base URL setting"
        )

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
        with ThreadPoolExecutor(max_workers=max(self.concurrency, 1)) as pool:
            yield from pool.map(fn, items)
