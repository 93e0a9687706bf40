"""Build catalog: S3 inventories, S3 events and buildhub.json backfills → build records."""

from shipgauge.pipelines.builds.retry import RETRY_HANDLERS

__all__ = ["RETRY_HANDLERS"]
