-- Core tables every capability uses: checkpoints, dead letters, API tokens, store metadata.

CREATE TABLE ingest_checkpoints (
    source VARCHAR PRIMARY KEY,
    position VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- id is derived from (source, payload) so replaying the same bad input keeps one row.
CREATE TABLE dead_letters (
    id BIGINT PRIMARY KEY,
    source VARCHAR NOT NULL,
    key VARCHAR,
    received_at TIMESTAMPTZ NOT NULL,
    error VARCHAR NOT NULL,
    payload BLOB NOT NULL
);

CREATE TABLE api_tokens (
    token_id VARCHAR PRIMARY KEY,
    service VARCHAR NOT NULL,
    scopes VARCHAR NOT NULL,
    token_hash VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE store_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
