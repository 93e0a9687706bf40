"""What the build catalog talks to (S3 or a folder, the archive over HTTP), built from settings.

Interfaces ask here for their connectors instead of building them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipgauge.config import Settings
from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.connectors.s3 import S3Connector

__all__ = ["BuildhubConnectors", "connectors_from_settings"]


@dataclass
class BuildhubConnectors:
    """What the build catalog talks to: S3 (or a folder) and the archive over HTTP."""

    s3: S3Connector
    archive: ArchiveConnector
    bucket: str
    inventory_bucket: str
    products: tuple[str, ...]

    def close(self) -> None:
        self.archive.close()


def connectors_from_settings(
    settings: Settings,
    *,
    retries: int | None = None,
    timeout_s: float | None = None,
    cache_dir: Path | None = None,
    local_root: Path | None = None,
) -> BuildhubConnectors:
    """Connectors built from the settings (CLI options override retries, timeout, cache)."""
    secret = settings.buildhub_s3_secret_access_key
    s3 = S3Connector(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.buildhub_s3_region,
        unsigned=settings.s3_unsigned,
        access_key_id=settings.buildhub_s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        local_root=local_root,
        retries=settings.buildhub_retries if retries is None else retries,
    )
    http = HttpConnector(
        settings.archive_url,
        name="archive",
        timeout_s=settings.buildhub_timeout_s if timeout_s is None else timeout_s,
        retries=settings.buildhub_retries if retries is None else retries,
        concurrency=settings.buildhub_concurrency,
    )
    folder = cache_dir if cache_dir is not None else Path(settings.buildhub_cache_dir)
    return BuildhubConnectors(
        s3=s3,
        archive=ArchiveConnector(
            http, cache_dir=folder / "archive", public_url=settings.archive_public_url
        ),
        bucket=settings.s3_bucket,
        inventory_bucket=settings.buildhub_inventory_bucket,
        products=tuple(settings.buildhub_products.split()),
    )
