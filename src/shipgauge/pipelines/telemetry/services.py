"""The outside services commit telemetry talks to, built once from the settings.

The pushlog is read page by page through the synchronous `HttpConnector` that `pipelines.pushlog`
uses. The per-changeset requests (json-rev, raw-rev, Bugzilla, ingestion) go through
`AsyncHttpConnector`s on the services' own event loop thread, `concurrency` at a time each.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from shipgauge.config import Settings
from shipgauge.connectors.async_http import AsyncHttpConnector, EventLoopThread
from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import ConfigError
from shipgauge.pipelines.telemetry.bugzilla import BugzillaClient
from shipgauge.sources.hgpush_ping import IngestionLayout, document_id, ingestion_path

__all__ = ["PingTarget", "TelemetryServices"]

LAYOUTS: tuple[IngestionLayout, ...] = ("current", "legacy")
# Pushlog pages fetched at once (and twice that held ahead): each holds up to page_size pushes.
PUSHLOG_CONCURRENCY = 4
T = TypeVar("T")


@dataclass(frozen=True)
class PingTarget:
    """Where pings go: `{telemetry_url}/submit/{namespace}/{doctype}/{version}/{docid}`."""

    namespace: str = "eng-workflow"
    doctype: str = "hgpush"
    version: int = 1
    layout: IngestionLayout = "current"

    def docid(self, changeset: str) -> str:
        return document_id(changeset, self.layout)

    def path(self, docid: str) -> str:
        return ingestion_path(
            docid, namespace=self.namespace, doctype=self.doctype, version=self.version
        )


@dataclass
class TelemetryServices:
    """hg.mozilla.org (pushlog pages, then changesets), Bugzilla and telemetry ingestion.

    `concurrency` bounds the changesets in flight; `loop` runs the async connectors.
    """

    pushlog: HttpConnector
    hg: AsyncHttpConnector
    bugzilla: BugzillaClient
    ingestion: AsyncHttpConnector
    target: PingTarget
    concurrency: int
    loop: EventLoopThread

    @classmethod
    def from_settings(
        cls, settings: Settings, *, concurrency: int | None = None
    ) -> TelemetryServices:
        """Connectors at the configured base URLs; `concurrency` overrides the setting."""
        layout = settings.telemetry_ingestion_layout
        if layout not in LAYOUTS:
            raise ConfigError(
                f"telemetry_ingestion_layout '{layout}' is not one of {', '.join(LAYOUTS)}",
                field="telemetry_ingestion_layout",
            )
        workers = max(concurrency or settings.telemetry_concurrency, 1)

        def connector(
            url: str, name: str, headers: dict[str, str] | None = None
        ) -> AsyncHttpConnector:
            return AsyncHttpConnector(
                url,
                name=name,
                timeout_s=settings.http_timeout_s,
                retries=settings.http_retries,
                concurrency=workers,
                headers=headers,
            )

        key = settings.bmo_api_key.get_secret_value() if settings.bmo_api_key else ""
        bmo = connector(
            f"{settings.bmo_url.rstrip('/')}/rest",
            "Bugzilla",
            {"X-BUGZILLA-API-KEY": key} if key else None,
        )
        hg = connector(settings.hg_url, "hg.mozilla.org")
        ingestion = connector(settings.telemetry_url, "telemetry ingestion")
        pushlog = HttpConnector(
            settings.hg_url,
            name="hg.mozilla.org",
            timeout_s=settings.http_timeout_s,
            retries=settings.http_retries,
            concurrency=min(workers, PUSHLOG_CONCURRENCY),
        )
        return cls(
            pushlog=pushlog,
            hg=hg,
            bugzilla=BugzillaClient(bmo, ttl_s=settings.telemetry_bmo_cache_ttl_s),
            ingestion=ingestion,
            target=PingTarget(
                namespace=settings.telemetry_ping_namespace,
                doctype=settings.telemetry_ping_doctype,
                version=settings.telemetry_ping_version,
                layout=layout,  # checked against LAYOUTS above
            ),
            concurrency=workers,
            loop=EventLoopThread("telemetry-http"),
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of these services on their loop; wait here for its result."""
        return self.loop.run(coro)

    def close(self) -> None:
        self.pushlog.close()
        if not self.loop.loop.is_closed():
            self.run(self._aclose())
            self.loop.close()

    async def _aclose(self) -> None:
        for http in (self.hg, self.bugzilla.http, self.ingestion):
            await http.aclose()

    def __enter__(self) -> TelemetryServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
