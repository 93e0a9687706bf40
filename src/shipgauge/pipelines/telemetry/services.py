"""The outside services commit telemetry talks to, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from shipgauge.config import Settings
from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import ConfigError
from shipgauge.pipelines.telemetry.bugzilla import BugzillaClient
from shipgauge.sources.hgpush_ping import IngestionLayout, document_id, ingestion_path

__all__ = ["PingTarget", "TelemetryServices"]

LAYOUTS: tuple[IngestionLayout, ...] = ("current", "legacy")


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
    """hg.mozilla.org, Bugzilla and telemetry ingestion, plus how many requests run at once."""

    hg: HttpConnector
    bugzilla: BugzillaClient
    ingestion: HttpConnector
    target: PingTarget
    concurrency: int

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

        def connector(url: str, name: str, headers: dict[str, str] | None = None) -> HttpConnector:
            return HttpConnector(
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
        return cls(
            hg=connector(settings.hg_url, "hg.mozilla.org"),
            bugzilla=BugzillaClient(bmo, ttl_s=settings.telemetry_bmo_cache_ttl_s),
            ingestion=connector(settings.telemetry_url, "telemetry ingestion"),
            target=PingTarget(
                namespace=settings.telemetry_ping_namespace,
                doctype=settings.telemetry_ping_doctype,
                version=settings.telemetry_ping_version,
                layout=layout,  # checked against LAYOUTS above
            ),
            concurrency=workers,
        )

    def close(self) -> None:
        for http in (self.hg, self.bugzilla.http, self.ingestion):
            http.close()

    def __enter__(self) -> TelemetryServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
