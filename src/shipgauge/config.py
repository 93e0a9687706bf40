"""Settings: the only module that reads `SHIPGAUGE_*` environment variables or `shipgauge.toml`.

Precedence, highest first: keyword arguments, environment, the TOML file
(`SHIPGAUGE_CONFIG`, default `./shipgauge.toml`), then the defaults below.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shipgauge.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_FILE", "Settings", "load_settings", "masked_settings"]

DEFAULT_CONFIG_FILE = "shipgauge.toml"
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]+):([^@/]+)@")


class Settings(BaseSettings):
    """Every setting of shipgauge; env var = `SHIPGAUGE_` + the upper-cased name."""

    model_config = SettingsConfigDict(env_prefix="SHIPGAUGE_", extra="forbid")

    # store
    db: str = "./shipgauge.duckdb"
    # API server
    host: str = "127.0.0.1"
    port: int = 8000
    # outside HTTP services: every base URL is a setting so tests can point them at a local server
    http_timeout_s: float = 30.0
    http_retries: int = 4
    http_concurrency: int = 8
    hg_url: str = "https://hg.mozilla.org"
    taskcluster_root_url: str = "https://firefox-ci-tc.services.mozilla.com"
    bmo_url: str = "https://bugzilla.mozilla.org"
    bmo_api_key: SecretStr | None = None
    archive_url: str = "https://archive.mozilla.org"
    telemetry_url: str = "https://incoming.telemetry.mozilla.org"
    # message broker (Pulse or any AMQP 0-9-1 broker)
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    # S3 (inventories, backfill); empty endpoint means AWS
    s3_endpoint_url: str | None = None
    s3_bucket: str = "net-mozaws-prod-delivery-archive"
    s3_unsigned: bool = True
    # telemetry (commit telemetry: Pulse hgpushes → review system → hgpush pings; hg pushlog)
    telemetry_pulse_user: str = "shipgauge"
    telemetry_exchange: str = "exchange/hgpushes/v2"
    telemetry_queue_name: str = "commit-telemetry"
    telemetry_routing_key: str = "#"
    telemetry_declare_exchange: bool = False
    telemetry_batch_size: int = 200
    telemetry_ping_namespace: str = "eng-workflow"
    telemetry_ping_doctype: str = "hgpush"
    telemetry_ping_version: int = 1
    telemetry_ingestion_layout: str = "current"
    telemetry_concurrency: int = 32
    telemetry_bmo_cache_ttl_s: float = 3600.0
    telemetry_serve_consumer: bool = False
    pushlog_page_size: int = 200
    # buildhub (build catalog: S3 inventories, S3 events, archive metadata, Buildhub search API)
    buildhub_s3_region: str = "us-east-1"
    buildhub_s3_access_key_id: str | None = None
    buildhub_s3_secret_access_key: SecretStr | None = None
    buildhub_inventory_bucket: str = "net-mozaws-prod-delivery-inventory-us-east-1"
    buildhub_products: str = "firefox thunderbird mobile devedition"
    buildhub_max_age_hours: float = 0.0
    buildhub_retries: int = 9
    buildhub_timeout_s: float = 300.0
    buildhub_concurrency: int = 32
    buildhub_cache_dir: str = "./.shipgauge-cache/buildhub"
    buildhub_sqs_queue_url: str | None = None
    buildhub_amqp_exchange: str = "buildhub.s3-events"
    buildhub_amqp_routing_key: str = "#"
    buildhub_amqp_queue: str = "shipgauge.buildhub.s3-events"
    buildhub_max_search_size: int = 1000
    # taskcluster (Taskcluster ETL: Pulse task messages, worker uptime and costs)
    taskcluster_pulse_user: str = "shipgauge"
    taskcluster_queue_name: str = "taskcluster-tasks"
    taskcluster_exchange_prefix: str = "exchange/taskcluster-queue/v1/"
    taskcluster_exchanges: list[str] = [
        "task-completed",
        "task-failed",
        "task-exception",
        "task-defined",
    ]
    taskcluster_routing_key: str = "#"
    taskcluster_declare_exchanges: bool = False
    taskcluster_prefetch: int = 10000
    taskcluster_batch_size: int = 5000
    taskcluster_drain_threshold: int = 100
    taskcluster_listen: bool = False
    taskcluster_fetch_definitions: bool = False
    taskcluster_monitoring_url: str = "https://monitoring.googleapis.com"
    taskcluster_monitoring_token: SecretStr | None = None
    taskcluster_gcp_projects: list[str] = [
        "fxci-production-level1-workers",
        "fxci-production-level3-workers",
    ]
    # delivery (delivery events API, reporters, DORA metrics)
    delivery_max_body_bytes: int = 1_048_576
    """Largest event request body the API reads, in bytes; a larger one gets 413."""
    delivery_max_batch: int = 1000
    """Most events one request may carry."""
    delivery_max_future_s: float = 300.0
    """How far ahead of the server clock an event time may be (clock skew), in seconds."""
    delivery_group_rows: int = 5000
    """Most events the API commits in one transaction (group commit)."""
    delivery_benchmark: str = "2023"
    """DORA report whose tiers the report shows by default: 2021, 2023 or 2024."""
    # ci_cost (CI cost: pushlog → decision task → task group → priced runs)
    ci_cost_repos: list[str] = ["integration/autoland", "mozilla-central"]
    """Repositories `ci-cost scan` walks by default, as hg paths (`integration/autoland`)."""
    ci_cost_decision_route: str = "gecko.v2.{project}.revision.{revision}.taskgraph.decision"
    """Index path of a push's decision task; {project} is the repo's last path part."""
    ci_cost_nightly_route: str = (
        "gecko.v2.{project}.nightly.revision.{revision}.{product}.linux64-opt"
    )
    """Index path used by `--mode nightly`: a nightly build task, whose group is costed."""
    ci_cost_product: str = "firefox"
    """The {product} of the route templates."""
    ci_cost_concurrency: int = 16
    """Pushes whose decision task and task group are fetched at the same time."""
    ci_cost_first_scan_pushes: int = 100
    """On a repository's first scan (no checkpoint, no --since), start this many pushes back."""
    ci_cost_lookup_give_up_hours: float = 24.0
    """A push whose decision task is not indexed yet is retried until it is this old, then
    recorded as `never`."""
    ci_cost_group_final_after_hours: float = 168.0
    """A task group with unfinished tasks is re-listed on every scan until its push is this old."""
    ci_cost_group_page_size: int = 1000
    """Tasks per `listTaskGroup` page (the Queue's maximum is 1000)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads `shipgauge.toml`; unknown keys are an error, not silently ignored."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ below returns the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("SHIPGAUGE_CONFIG", DEFAULT_CONFIG_FILE))
        if not path.is_file():
            if "SHIPGAUGE_CONFIG" in os.environ:
                raise ConfigError(f"config file {path} does not exist", field="SHIPGAUGE_CONFIG")
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        table = data.get("shipgauge", data)
        unknown = sorted(set(table) - set(self.settings_cls.model_fields))
        if unknown:
            raise ConfigError(f"{path}: unknown setting '{unknown[0]}'", field=unknown[0])
        return dict(table)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once, at the edge (CLI callback, API startup)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"setting '{key}' (env SHIPGAUGE_{key.upper()}): {first['msg']}", field=key
        ) from None


def masked_settings(settings: Settings) -> Mapping[str, Any]:
    """The effective settings with secrets and URL passwords replaced by `***`."""
    out: dict[str, Any] = {}
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            out[name] = "***" if value.get_secret_value() else ""
        elif isinstance(value, str):
            out[name] = _URL_PASSWORD.sub(r"\1:***@", value)
        else:
            out[name] = value
    return out
