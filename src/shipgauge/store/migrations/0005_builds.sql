-- Build catalog (Buildhub): build records and archives waiting for their metadata.

-- One row per build record. build_hash is Buildhub2's identity ('v1:' + md5 of the record's
-- JSON with sorted keys); record_id is Buildhub v1's path-derived id, kept unique by the
-- pipeline for path-derived records (first writer wins, as v1's create-if-not-exists).
CREATE TABLE builds (
    build_hash VARCHAR PRIMARY KEY,
    record_id VARCHAR,
    document JSON NOT NULL,
    product VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    version_key VARCHAR NOT NULL,
    platform VARCHAR NOT NULL,
    os VARCHAR,
    locale VARCHAR NOT NULL,
    build_id VARCHAR,
    build_date TIMESTAMPTZ,
    build_number INTEGER,
    revision VARCHAR,
    repository VARCHAR,
    tree VARCHAR,
    download_url VARCHAR NOT NULL,
    download_mimetype VARCHAR NOT NULL,
    download_size BIGINT NOT NULL,
    download_date TIMESTAMPTZ,
    origin VARCHAR NOT NULL,
    s3_object_key VARCHAR,
    s3_object_etag VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);

-- An archive seen (S3 event) before the metadata file it needs; completed and deleted when
-- an event for `waits_for` (a metadata URL, or a release's candidates folder pattern) lands.
CREATE TABLE builds_pending (
    download_url VARCHAR PRIMARY KEY,
    waits_for VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,
    record JSON NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL
);
