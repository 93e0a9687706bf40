"""What the dashboard's builds page reads: builds published per day, the newest build of each
product, channel and platform, and the values its filters offer (models only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipgauge.store import Store

__all__ = ["build_filters", "builds_per_day", "latest_per_platform"]


def _where(product: str | None, channel: str | None, platform: str | None) -> tuple[str, list[Any]]:
    given = [
        (c, v) for c, v in (("product", product), ("channel", channel), ("platform", platform))
    ]
    kept = [(c, v) for c, v in given if v is not None]
    return " AND ".join([f"{c} = ?" for c, _ in kept] or ["TRUE"]), [v for _, v in kept]


def builds_per_day(
    store: Store,
    *,
    start: datetime,
    end: datetime,
    product: str | None = None,
    channel: str | None = None,
    platform: str | None = None,
) -> list[dict[str, Any]]:
    """Records published (download.date) per UTC day and channel in [start, end)."""
    where, params = _where(product, channel, platform)
    return store.query(
        "SELECT CAST(download_date AS DATE) AS day, channel, count(*) AS records,"
        " count(DISTINCT build_id) AS build_ids FROM build_records"
        f" WHERE download_date >= ? AND download_date < ? AND {where}"
        " GROUP BY CAST(download_date AS DATE), channel ORDER BY day, channel",
        [start, end, *params],
    ).dicts()


def latest_per_platform(
    store: Store,
    *,
    product: str | None = None,
    channel: str | None = None,
    platform: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The newest build of each product, channel and platform (of any locale; en-US first on a
    tie), from `builds_latest`, with how many locales have a build there."""
    where, params = _where(product, channel, platform)
    return store.query(
        "SELECT product, channel, platform, locale, version, build_id, build_date, revision,"
        " download_url, download_size, download_date, build_hash, locales FROM ("
        "  SELECT *, count(*) OVER (PARTITION BY product, channel, platform) AS locales,"
        "   row_number() OVER (PARTITION BY product, channel, platform"
        "    ORDER BY build_date DESC NULLS LAST, locale = 'en-US' DESC, locale) AS newest"
        f"  FROM builds_latest WHERE {where}) AS ranked"
        " WHERE newest = 1 ORDER BY product, channel, platform LIMIT ?",
        [*params, limit],
    ).dicts()


def build_filters(store: Store) -> dict[str, list[str]]:
    """The products, channels and platforms that have builds."""
    return {
        f"{column}s": [
            r[0]
            for r in store.query(
                f"SELECT DISTINCT {column} FROM builds_latest WHERE {column} IS NOT NULL"
                f" ORDER BY {column}"
            ).rows
        ]
        for column in ("product", "channel", "platform")
    }
