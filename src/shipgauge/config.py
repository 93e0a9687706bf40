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
from shipgauge.json_input import DEFAULT_MAX_JSON_DEPTH

__all__ = ["DEFAULT_CONFIG_FILE", "Settings", "load_settings", "masked_settings"]

DEFAULT_CONFIG_FILE = "shipgauge.toml"
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]+):([^@/]+)@")


class Settings(BaseSettings):
    """Every setting of shipgauge; env var = `SHIPGAUGE_` + the upper-cased name."""

    model_config = SettingsConfigDict(
        env_prefix="SHIPGAUGE_", extra="forbid", use_attribute_docstrings=True
    )

    # store
    db: str = "./shipgauge.duckdb"
    """Store: a DuckDB file path (embedded default) or a postgresql:// URL (several processes)."""
    db_wait_s: float = 30.0
    """Seconds a process waits for its turn on a DuckDB file another process has open."""
    # API server
    host: str = "127.0.0.1"
    """Interface `shipgauge serve` binds."""
    port: int = 8000
    """Port `shipgauge serve` listens on."""
    access_log: bool = True
    """`shipgauge serve` prints one line per request (time, client, request, status) on stdout."""
    cost_currency: str = "USD"
    """Currency of the cost sources (billing exports, worker-type cost tables): the unit the
    dashboard and API give every cost in (ISO 4217 code)."""
    # limits on outside input, the same on every route and command (docs/security.md)
    max_body_bytes: int = 1_048_576
    """Largest request body the API reads, in bytes, on every route; a larger one gets 413."""
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    """Deepest nesting of arrays and objects accepted in a JSON body, message or input file."""
    max_query_string_chars: int = 8192
    """Longest query string accepted: a URL's (414 past it) and a search's `query_string`."""
    max_page_size: int = 10_000
    """Most rows one request or command may ask for at once (`limit`, `size`)."""
    # outside HTTP services: every base URL is a setting so tests can point them at a local server
    http_timeout_s: float = 30.0
    """Seconds before an outside HTTP request times out."""
    http_retries: int = 4
    """Retries of an outside HTTP request on connection errors, timeouts, 429 and 5xx."""
    http_concurrency: int = 8
    """Outside HTTP requests in flight at once, per service."""
    hg_url: str = "https://hg.mozilla.org"
    """Mercurial server (json-pushes, json-rev, raw-rev)."""
    taskcluster_root_url: str = "https://firefox-ci-tc.services.mozilla.com"
    """Taskcluster deployment (Queue, Index)."""
    bmo_url: str = "https://bugzilla.mozilla.org"
    """Bugzilla (REST API) that the review classifier asks."""
    bmo_api_key: SecretStr | None = None
    """Bugzilla API key, for bugs that are not public (secret)."""
    archive_url: str = "https://archive.mozilla.org"
    """Release archive the build catalog fetches metadata files from."""
    archive_public_url: str | None = None
    """Archive URL in records' `download.url` when `archive_url` is a mirror; empty: archive_url."""
    telemetry_url: str = "https://incoming.telemetry.mozilla.org"
    """Telemetry ingestion endpoint the hgpush pings are sent to (`/submit/…` appended)."""
    # message broker (Pulse or any AMQP 0-9-1 broker)
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    """AMQP 0-9-1 broker (Pulse: amqps://user:password@pulse.mozilla.org:5671)."""
    amqp_connect_deadline_s: float = 120.0
    """Seconds every AMQP consumer tries to reach an unreachable broker before it gives up."""
    # S3 (inventories, backfill); empty endpoint means AWS
    s3_endpoint_url: str | None = None
    """S3-compatible endpoint; empty means AWS."""
    s3_bucket: str = "net-mozaws-prod-delivery-archive"
    """Bucket of the release archive (backfill, S3 events)."""
    s3_unsigned: bool = True
    """Read S3 without credentials (the public archive bucket)."""
    # telemetry (commit telemetry: Pulse hgpushes → review system → hgpush pings; hg pushlog)
    telemetry_pulse_user: str = "shipgauge"
    """Pulse user: the queue is `queue/<user>/<queue name>` (seed: PULSE_USERNAME)."""
    telemetry_exchange: str = "exchange/hgpushes/v2"
    """Exchange of hg push messages (seed: PULSE_EXCHANGE)."""
    telemetry_queue_name: str = "commit-telemetry"
    """Durable queue name (seed: PULSE_QUEUE_NAME)."""
    telemetry_routing_key: str = "#"
    """Binding, e.g. integration/mozilla-inbound (seed: PULSE_QUEUE_ROUTING_KEY)."""
    telemetry_declare_exchange: bool = False
    """Declare the exchange (a local broker); Pulse's exists and must be used passively."""
    telemetry_batch_size: int = 200
    """Push messages per transaction and ack."""
    telemetry_ping_namespace: str = "eng-workflow"
    """Ping namespace in the ingestion URL (seed: TMO_PING_NAMESPACE)."""
    telemetry_ping_doctype: str = "hgpush"
    """Ping document type (seed: TMO_PING_DOCTYPE)."""
    telemetry_ping_version: int = 1
    """Ping document version (seed: TMO_PING_DOCVERSION)."""
    telemetry_ingestion_layout: str = "current"
    """Document id layout: `current` (UUID from the changeset) or `legacy` (the changeset)."""
    telemetry_concurrency: int = 32
    """Changesets classified and sent at once (also the connection pool size)."""
    telemetry_bmo_cache_ttl_s: float = 3600.0
    """Seconds a bug's review facts from Bugzilla are reused."""
    telemetry_serve_consumer: bool = False
    """`shipgauge serve` also consumes the hg push queue."""
    pushlog_page_size: int = 200
    """Pushes per json-pushes request."""
    # buildhub (build catalog: S3 inventories, S3 events, archive metadata, Buildhub search API)
    buildhub_s3_region: str = "us-east-1"
    """S3/SQS region (an AWS SQS URL's region wins)."""
    buildhub_s3_access_key_id: str | None = None
    """Credentials for signed S3 access."""
    buildhub_s3_secret_access_key: SecretStr | None = None
    """Secret for signed S3 access (secret)."""
    buildhub_inventory_bucket: str = "net-mozaws-prod-delivery-inventory-us-east-1"
    """Bucket of the S3 inventories, for bare inventory keys and prefixes."""
    buildhub_products: str = "firefox thunderbird mobile devedition"
    """Archive folders cataloged, space-separated."""
    buildhub_max_age_hours: float = 0.0
    """Skip inventory rows last modified longer ago than this; 0 is off."""
    buildhub_retries: int = 9
    """HTTP and S3 retries of the build catalog."""
    buildhub_timeout_s: float = 300.0
    """Seconds per archive request."""
    buildhub_concurrency: int = 32
    """Archive metadata files fetched at once."""
    buildhub_cache_dir: str = "./.shipgauge-cache/buildhub"
    """Folder of downloaded inventory data files and the URL + ETag cache."""
    buildhub_sqs_queue_url: str | None = None
    """SQS queue for `builds consume --from sqs`."""
    buildhub_amqp_exchange: str = "buildhub.s3-events"
    """Exchange an S3-compatible store publishes bucket notifications to."""
    buildhub_amqp_routing_key: str = "#"
    """Binding of the bucket-notification queue."""
    buildhub_amqp_queue: str = "shipgauge.buildhub.s3-events"
    """Durable queue of bucket notifications."""
    buildhub_max_search_size: int = 1000
    """Largest `size` a search may ask for (Buildhub2's MAX_SEARCH_SIZE)."""
    sns_cert_host_pattern: str = r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
    """Regex an SNS message's SigningCertURL host must match (SubscribeURL must be on that host)."""
    # taskcluster (Taskcluster ETL: Pulse task messages, worker uptime and costs)
    taskcluster_pulse_user: str = "shipgauge"
    """Pulse user: the queue is `queue/<user>/<queue name>`."""
    taskcluster_queue_name: str = "taskcluster-tasks"
    """Durable queue bound to every task exchange."""
    taskcluster_exchange_prefix: str = "exchange/taskcluster-queue/v1/"
    """Prefix of the Queue's task exchanges."""
    taskcluster_exchanges: list[str] = [
        "task-completed",
        "task-failed",
        "task-exception",
        "task-defined",
    ]
    """Task exchanges consumed (JSON list)."""
    taskcluster_routing_key: str = "#"
    """Binding of each exchange."""
    taskcluster_declare_exchanges: bool = False
    """Declare the exchanges (a local broker); Pulse's exist already."""
    taskcluster_prefetch: int = 10000
    """Unacked messages the broker may send; keep at least the batch size."""
    taskcluster_batch_size: int = 5000
    """Messages per transaction and per ack."""
    taskcluster_drain_threshold: int = 100
    """`taskcluster drain` stops when fewer messages than this are ready."""
    taskcluster_listen: bool = False
    """`shipgauge serve` also runs the Pulse listener."""
    taskcluster_fetch_definitions: bool = False
    """`taskcluster drain` fetches definitions of tasks without tags."""
    taskcluster_monitoring_url: str = "https://monitoring.googleapis.com"
    """Cloud Monitoring API base URL (worker uptime)."""
    taskcluster_monitoring_token: SecretStr | None = None
    """OAuth bearer token for Cloud Monitoring (secret)."""
    taskcluster_gcp_projects: list[str] = [
        "fxci-production-level1-workers",
        "fxci-production-level3-workers",
    ]
    """GCP projects for `metrics` and the GCP billing filter (JSON list)."""
    # delivery (delivery events API, reporters, DORA metrics)
    delivery_max_batch: int = 1000
    """Most events one request may carry."""
    delivery_max_future_s: float = 300.0
    """How far ahead of the server clock an event time may be (clock skew), in seconds."""
    delivery_group_rows: int = 5000
    """Most events the API commits in one transaction (group commit)."""
    delivery_benchmark: str = "2023"
    """DORA report whose tiers the report shows by default: 2021, 2023 or 2024."""
    # delivery webhooks (docs/webhooks.md): each sender's secret, service renames, deploy names
    github_webhook_secret: SecretStr | None = None
    """Secret of the GitHub webhook; X-Hub-Signature-256 is checked with it (secret)."""
    github_services: dict[str, str] = {}
    """GitHub repository full name → service, where they differ (JSON object)."""
    github_deploy_workflows: list[str] = []
    """Workflows whose completed runs are deployments: name, path or file name (JSON list)."""
    gitlab_webhook_token: SecretStr | None = None
    """Secret token of the GitLab webhook, compared with X-Gitlab-Token (secret)."""
    gitlab_services: dict[str, str] = {}
    """GitLab project path with namespace → service, where they differ (JSON object)."""
    gitlab_deploy_pipelines: list[str] = []
    """Pipelines that deploy when they finish: pipeline name or ref (JSON list)."""
    pagerduty_webhook_secret: SecretStr | None = None
    """Secret of the PagerDuty v3 webhook subscription; X-PagerDuty-Signature is checked with
    it (secret)."""
    pagerduty_services: dict[str, str] = {}
    """PagerDuty service name or id → service, where they differ (JSON object)."""
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
    """Requests to Taskcluster in flight at once (each push makes its own one after another)."""
    ci_cost_write_batch_pushes: int = 1000
    """Pushes written per transaction (with their tasks, runs and the checkpoint): larger
    batches cost less CPU per push, smaller ones less memory and less to redo after a kill."""
    ci_cost_first_scan_pushes: int = 100
    """On a repository's first scan (no checkpoint, no --since), start this many pushes back."""
    ci_cost_lookup_give_up_hours: float = 24.0
    """A push whose decision task is not indexed yet is retried until it is this old, then
    recorded as `never`."""
    ci_cost_group_final_after_hours: float = 168.0
    """A task group with unfinished tasks is re-listed on every scan until its push is this old."""
    ci_cost_group_page_size: int = 1000
    """Tasks per `listTaskGroup` page (the Queue's maximum is 1000)."""
    # the Parquet lake on Apache Spark (`shipgauge lake run --engine spark`; docs/scale.md)
    spark_master: str = "local[*]"
    """Spark master URL `lake run` connects to: `local[*]`, `spark://host:7077`, `yarn`, `k8s://…`."""
    spark_conf: dict[str, str] = {}
    """Spark configuration for `lake run`, e.g. {"spark.executor.memory" = "8g"}; the session time
    zone (UTC) and non-ANSI SQL are fixed, as the models need them."""

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
        path = _config_path()
        if not path.is_file():
            if "SHIPGAUGE_CONFIG" in os.environ:
                raise ConfigError(f"config file {path} does not exist", field="SHIPGAUGE_CONFIG")
            return {}
        table = _read_toml(path)
        unknown = sorted(set(table) - set(self.settings_cls.model_fields))
        if unknown:
            raise ConfigError(f"{path}: unknown setting '{unknown[0]}'", field=unknown[0])
        return table


def _config_path() -> Path:
    return Path(os.environ.get("SHIPGAUGE_CONFIG", DEFAULT_CONFIG_FILE))


def _read_toml(path: Path) -> dict[str, Any]:
    """The settings table of a TOML file: `[shipgauge]`, or else the top level."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return dict(data.get("shipgauge", data))


def _origin(name: str, overrides: Mapping[str, Any]) -> str:
    """Where the value of setting `name` came from, by the sources' precedence."""
    env = f"SHIPGAUGE_{name.upper()}"
    if name in overrides:
        return f"setting '{name}' (given as an option)"
    if any(key.upper() == env for key in os.environ):
        return f"setting '{name}' (env {env})"
    path = _config_path()
    if path.is_file() and name in _read_toml(path):
        return f"{path}: setting '{name}'"
    return f"setting '{name}'"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once, at the edge (CLI callback, API startup)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "settings"
        origin = _origin(str(first["loc"][0]), overrides) if first["loc"] else "settings"
        raise ConfigError(f"{origin}: {first['msg']}", field=key) from None


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
