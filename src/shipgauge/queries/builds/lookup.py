"""Reading the build catalog's models: one build by any of its keys, the latest builds."""

from __future__ import annotations

import json
from typing import Any

from shipgauge.errors import NotFound
from shipgauge.store import Store

__all__ = ["find_builds", "latest_builds"]


def find_builds(store: Store, key: str) -> list[dict[str, Any]]:
    """Records whose build hash, v1 record id or build id is `key`; NotFound if none.

    A build id usually names several records (one per platform and locale).
    """
    rows = store.query(
        "SELECT build_hash, record_id, origin, document FROM build_records "
        "WHERE build_hash = ? OR record_id = ? OR build_id = ? "
        "ORDER BY product, channel, platform, locale, build_hash",
        [key, key, key],
    ).dicts()
    if not rows:
        raise NotFound(f"no build record with hash, record id or build id '{key}'", field="build")
    for row in rows:
        if isinstance(row["document"], str):
            row["document"] = json.loads(row["document"])
    return rows


def latest_builds(
    store: Store, *, product: str | None = None, channel: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Rows of `builds_latest`, optionally for one product and channel."""
    filters = [(c, v) for c, v in (("product", product), ("channel", channel)) if v is not None]
    where = " AND ".join(f"{column} = ?" for column, _ in filters) or "TRUE"
    return store.query(
        f"SELECT * FROM builds_latest WHERE {where} "
        "ORDER BY product, channel, platform, locale LIMIT ?",
        [*(v for _, v in filters), limit],
    ).dicts()
