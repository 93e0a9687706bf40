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
