"""archive.mozilla.org over HTTP: files and JSON directory listings, cached by URL + ETag.

A cached file is re-asked with `If-None-Match`; a 304 costs no body, so a re-run of an
inventory fetches nothing new. A 404 is an answer (None), retried only when asked: S3 events
arrive before the archive's front end shows the object (upstream.md §4.3, §5).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from shipgauge.connectors.http import HttpConnector

__all__ = ["ArchiveConnector"]

_HEADERS = {"Accept": "application/json", "Cache-Control": "no-cache"}


class ArchiveConnector:
    """GETs under the archive's base URL through `http`, with an optional on-disk ETag cache.

    `public_url` is the URL records are written with when files are fetched from a mirror
    (the demo's local server); it defaults to the HTTP base URL.
    """

    def __init__(
        self,
        http: HttpConnector,
        *,
        cache_dir: Path | None = None,
        notfound_retries: int = 3,
        notfound_backoff_s: float = 1.0,
        public_url: str | None = None,
    ) -> None:
        self.http = http
        self.public_url = (public_url or http.base_url).rstrip("/")
        self.cache_dir = cache_dir
        self.notfound_retries = notfound_retries
        self.notfound_backoff_s = notfound_backoff_s
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        """The archive URL that records and metadata URLs start with."""
        return self.public_url

    def close(self) -> None:
        self.http.close()

    def _entry(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / (hashlib.sha1(url.encode()).hexdigest() + ".json")

    def get(self, url: str, *, retry_on_notfound: bool = False) -> bytes | None:
        """The body at `url` (absolute, under the base URL), or None on 404."""
        tries = 1 + (self.notfound_retries if retry_on_notfound else 0)
        for attempt in range(tries):
            if attempt:
                time.sleep(self.notfound_backoff_s * 2 ** (attempt - 1))
            body = self._get_once(url)
            if body is not None:
                return body
        return None

    def _get_once(self, url: str) -> bytes | None:
        entry = self._entry(url)
        cached: dict[str, Any] | None = None
        if entry is not None and entry.is_file():
            cached = json.loads(entry.read_text(encoding="utf-8"))
        headers = dict(_HEADERS)
        if cached and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        path = url.removeprefix(self.public_url) if url.startswith(self.public_url) else url
        response = self.http.request("GET", path, ok_statuses=(304, 404), headers=headers)
        with self._lock:
            self.stats[str(response.status_code)] += 1
        if response.status_code == 404:
            return None
        if response.status_code == 304 and cached is not None:
            return bytes(cached["body"], "latin-1")
        etag = response.headers.get("ETag")
        if entry is not None and etag:
            partial = entry.with_suffix(".part")
            partial.write_text(
                json.dumps({"url": url, "etag": etag, "body": response.content.decode("latin-1")}),
                encoding="utf-8",
            )
            partial.replace(entry)
        return response.content
