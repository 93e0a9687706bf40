-- builds_latest: the newest build of each product, channel, platform and locale.
-- grain: one row per (product, channel, platform, locale). inputs: builds.
-- order: build date, then numeric version (version_key), then publication date.
SELECT
    product,
    channel,
    platform,
    locale,
    version,
    build_id,
    build_date,
    revision,
    download_url,
    download_size,
    download_date,
    build_hash
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY product, channel, platform, locale
            ORDER BY build_date DESC NULLS LAST, version_key DESC, download_date DESC NULLS LAST,
                build_hash
        ) AS rank_in_group
    FROM builds
) AS ranked
WHERE rank_in_group = 1
