"""The REST API (FastAPI): `/api/v1/…`, OpenAPI at `/docs`, Prometheus at `/metrics`."""

from shipgauge.api.app import create_app

__all__ = ["create_app"]
