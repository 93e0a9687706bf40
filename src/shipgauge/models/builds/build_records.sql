-- build_records: every build record with the columns the search API filters and sorts on.
-- grain: one row per build_hash (a Firefox release build also appears as its `beta` copy).
-- inputs: builds. quirk: versions sort by version_key, not text (upstream.md §3.4).
SELECT
    build_hash,
    record_id,
    document,
    product,
    channel,
    version,
    version_key,
    platform,
    os,
    locale,
    build_id,
    build_date,
    build_number,
    revision,
    repository,
    tree,
    download_url,
    download_mimetype,
    download_size,
    download_date,
    origin,
    s3_object_key,
    s3_object_etag,
    created_at
FROM builds
