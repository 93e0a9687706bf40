"""Delivery events: idempotent ingest of events and their per-commit facts."""

from shipgauge.pipelines.delivery.events import RETRY_HANDLERS

__all__ = ["RETRY_HANDLERS"]
