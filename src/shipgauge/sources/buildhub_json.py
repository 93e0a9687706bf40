"""Build records: the `buildhub.json` schema, validation, content hash and store rows.

A record is Buildhub2's document (`build`, `source`, `target`, `download`), whether a build
published it as `buildhub.json` or it was derived from an archive path plus legacy metadata.
Its identity is Buildhub2's `build_hash`: `v1:` + md5 of the JSON with sorted keys (upstream.md
§2.3); the v1 path-derived id is kept as a second key when there is one.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from shipgauge.errors import BadRequest, SourceError
from shipgauge.json_input import load_json
from shipgauge.sources.archive.paths import version_sort_key

__all__ = [
    "LEGACY_CHECKS",
    "RECORD_SCHEMA",
    "build_hash",
    "build_row",
    "check_legacy_record",
    "parse_buildhub_json",
    "records_to_store",
    "validate_record",
]

_STRING = {"type": "string"}
# Field → JSON type of each part of a record; `build` became required in Buildhub2.
_FIELDS: dict[str, dict[str, Any]] = {
    "build": {
        **{name: _STRING for name in ("id", "as", "ld", "cc", "cxx", "host", "target")},
        "date": {"type": "string", "format": "date-time"},
        "number": {"type": "integer"},
    },
    "target": {
        "platform": _STRING,
        "os": {"type": "string", "enum": ["linux", "win", "mac", "android", "maemo"]},
        "locale": _STRING,
        "version": _STRING,
        "channel": _STRING,
    },
    "source": {name: _STRING for name in ("product", "repository", "tree", "revision")},
    "download": {
        "url": _STRING,
        "mimetype": _STRING,
        "size": {"type": "integer"},
        "date": {"type": "string", "format": "date-time"},
    },
}
_REQUIRED = {
    "build": [],
    "target": ["platform", "locale", "version", "channel"],
    "source": ["product"],
    "download": ["url", "mimetype", "size", "date"],
}
RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["build", "source", "download", "target"],
    "properties": {
        part: {
            "type": "object",
            "additionalProperties": False,
            **({"required": _REQUIRED[part]} if _REQUIRED[part] else {}),
            "properties": fields,
        }
        for part, fields in _FIELDS.items()
    },
}
# Formats are not checked, as in Buildhub2 (jsonschema.validate without a format checker).
_VALIDATOR = jsonschema.Draft4Validator(RECORD_SCHEMA)
_BETA_COPY_PRODUCT = "firefox"
# v1's sanity checks on path-derived records (check_record, upstream.md §3.4).
LEGACY_CHECKS = (
    ("target.version", re.compile(r"(\d+|\.|-|esr|rc|b|a|pre|funnelcake|real|plugin)+")),
    ("target.channel", re.compile(r"(release|aurora|beta|esr|nightly)(-old-id)?")),
    ("target.platform", re.compile(r"(win|mac|linux|android|maemo|eabi).*")),
    ("target.locale", re.compile(r"multi|[a-zA-Z]{2,3}(-[a-zA-Z]{2,3}){0,2}")),
    ("build.id", re.compile(r".+")),
)


def build_hash(record: Mapping[str, Any]) -> str:
    """Buildhub2's identity of a record: `v1:` + md5 of its JSON with sorted keys.

    >>> build_hash({"build": {"id": "1"}})
    'v1:c0c93784cf4e0cc77990dd6ca47d0e02'
    """
    return _hash_of(json.dumps(record, sort_keys=True))


def _hash_of(sorted_json: str) -> str:
    return "v1:" + hashlib.md5(sorted_json.encode()).hexdigest()


def _conforms(record: Any) -> bool:
    # The schema's rules checked straight from its tables: ~50x faster than jsonschema,
    # which then only runs to word the error (inventories validate millions of records).
    if type(record) is not dict or record.keys() - _FIELDS.keys():
        return False
    for part in RECORD_SCHEMA["required"]:
        values = record.get(part)
        if type(values) is not dict or not _SHAPES[part](values):
            return False
    return True


def _shape(part: str) -> Callable[[dict[str, Any]], bool]:
    fields, required = _FIELDS[part], _REQUIRED[part]
    integers = {n for n, spec in fields.items() if spec["type"] == "integer"}
    enums = {n: spec["enum"] for n, spec in fields.items() if "enum" in spec}

    def conforms(values: dict[str, Any]) -> bool:
        if values.keys() - fields.keys() or any(n not in values for n in required):
            return False
        for name, value in values.items():
            if name in integers:
                if type(value) is not int:
                    return False
            elif type(value) is not str or (name in enums and value not in enums[name]):
                return False
        return True

    return conforms


_SHAPES = {part: _shape(part) for part in _FIELDS}


def validate_record(record: Mapping[str, Any], *, what: str = "record") -> None:
    """Raise SourceError with jsonschema's message if `record` breaks the schema."""
    if _conforms(record):
        return
    error = best_match(_VALIDATOR.iter_errors(record))
    if error is None:
        return
    where = ".".join(str(p) for p in error.absolute_path)
    raise SourceError(f"{what}: {error.message}" + (f" at {where}" if where else ""), field=where)


def check_legacy_record(record: Mapping[str, Any]) -> str | None:
    """Why v1 would refuse a path-derived record, or None when it passes (upstream.md §3.4)."""
    for path, _ in LEGACY_CHECKS:
        part, name = path.split(".")
        value = record.get(part, {}).get(name)
        if not isinstance(value, str) or not _legacy_value_passes(path, value):
            return f"{path} {value!r} fails v1's record check"
    return None


@functools.lru_cache(maxsize=8192)
def _legacy_value_passes(path: str, value: str) -> bool:
    return dict(LEGACY_CHECKS)[path].fullmatch(value) is not None


def parse_buildhub_json(body: bytes, *, key: str = "buildhub.json") -> dict[str, Any]:
    """A downloaded `buildhub.json` → its validated record; SourceError if not JSON or invalid."""
    try:
        record = load_json(body, what=key)  # bounded: a hostile file costs no RecursionError
    except BadRequest as exc:
        raise SourceError(exc.message, field="body") from None
    if not isinstance(record, dict):
        raise SourceError(f"{key}: a buildhub.json must be a JSON object", field="body")
    validate_record(record, what=key)
    return record


def records_to_store(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record, plus a `beta` copy of Firefox `release` builds (Bugzilla 1470948).

    Socorro looks release candidates up as (product, build id, channel=beta); Buildhub2
    stores a second record for them, with its own hash. Fennec is not copied.
    """
    target = record.get("target", {})
    if record.get("source", {}).get("product") != _BETA_COPY_PRODUCT:
        return [record]
    if target.get("channel") != "release":
        return [record]
    beta = copy.deepcopy(record)
    beta["target"]["channel"] = "beta"
    return [record, beta]


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_row(
    record: Mapping[str, Any],
    *,
    origin: str,
    record_id: str | None = None,
    s3_object_key: str | None = None,
    s3_object_etag: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The `builds` row of a validated record: the document plus the columns search reads."""
    text = json.dumps(record, sort_keys=True)  # hashed, and stored as the document
    build, source = record.get("build", {}), record["source"]
    target, download = record["target"], record["download"]
    return {
        "build_hash": _hash_of(text),
        "record_id": record_id,
        "document": text,
        "product": source["product"],
        "channel": target["channel"],
        "version": target["version"],
        "version_key": version_sort_key(target["version"]),
        "platform": target["platform"],
        "os": target.get("os"),
        "locale": target["locale"],
        "build_id": build.get("id"),
        "build_date": _timestamp(build.get("date")),
        "build_number": build.get("number"),
        "revision": source.get("revision"),
        "repository": source.get("repository"),
        "tree": source.get("tree"),
        "download_url": download["url"],
        "download_mimetype": download["mimetype"],
        "download_size": download["size"],
        "download_date": _timestamp(download["date"]),
        "origin": origin,
        "s3_object_key": s3_object_key,
        "s3_object_etag": s3_object_etag,
        "created_at": created_at or datetime.now(UTC),
    }
