"""The `eng-workflow/hgpush` version 1 telemetry ping: build it, validate it, name it.

The schema is mozilla-pipeline-schemas' `hgpush.1.schema.json` @88a4adf, shipped verbatim
(MPL-2.0) in `sources/schemas/`. Submission is `PUT {base}/submit/{namespace}/{doctype}/{version}/
{docid}`; the document id is derived from the changeset so that a resend de-duplicates
(upstream.md §B.5, quirk C8).
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft4Validator

from shipgauge.errors import SourceError
from shipgauge.sources.diffstat import Diffstat
from shipgauge.sources.review import ReviewSystem

__all__ = [
    "DIFFSTAT_SYSTEMS",
    "IngestionLayout",
    "build_ping",
    "document_id",
    "ingestion_path",
    "validate_ping",
]

# Upstream computes a diffstat for these outcomes only (since 456d231); the rest send null.
DIFFSTAT_SYSTEMS = frozenset({ReviewSystem.PHABRICATOR, ReviewSystem.BMO})
IngestionLayout = Literal["current", "legacy"]
_HEX = re.compile(r"^[0-9a-fA-F]{32,40}$")


def build_ping(
    *,
    changeset: str,
    repository: str,
    push_date: int | None,
    review_system: ReviewSystem,
    landing_system: Any,
    diffstat: Diffstat | None,
) -> dict[str, Any]:
    """The ping payload, with `diffstat` only for the systems in DIFFSTAT_SYSTEMS (else null)."""
    ping: dict[str, Any] = {
        "changesetID": changeset,
        "diffstat": diffstat.as_ping() if diffstat and review_system in DIFFSTAT_SYSTEMS else None,
        "landingSystem": landing_system,
        "repository": repository,
        "reviewSystemUsed": str(review_system),
    }
    if push_date is not None:
        ping["pushDate"] = push_date
    return ping


@functools.cache
def _validator() -> Draft4Validator:
    schema = Path(__file__).with_name("schemas") / "hgpush.1.schema.json"
    return Draft4Validator(json.loads(schema.read_text(encoding="utf-8")))


def validate_ping(ping: Any) -> None:
    """Raise SourceError naming the first field that breaks `hgpush.1.schema.json`."""
    error = next(iter(sorted(_validator().iter_errors(ping), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.path) or "ping"
        raise SourceError(f"hgpush ping fails its schema at {where}: {error.message}", field=where)


def document_id(changeset: str, layout: IngestionLayout = "current") -> str:
    """The ingestion document id of a changeset's ping.

    `current` (GCP pipeline, since d0f081f): the first 32 hex digits as a UUID. `legacy` (the
    AWS-era pipeline): the changeset hash itself.

    >>> document_id("1234567812345678123456781234567812345678")
    '12345678-1234-5678-1234-567812345678'
    """
    if not _HEX.match(changeset):
        raise SourceError(f"changeset '{changeset}' is not hexadecimal", field="changesetID")
    return changeset if layout == "legacy" else str(uuid.UUID(changeset[:32]))


def ingestion_path(docid: str, *, namespace: str, doctype: str, version: int) -> str:
    """`/submit/<namespace>/<doctype>/<version>/<docid>` under the ingestion base URL."""
    return f"/submit/{namespace}/{doctype}/{version}/{docid}"
