-- Mercurial pushlog (shared with CI cost) and commit telemetry (hgpush pings, Bugzilla cache).

-- One row per push of a repository; repo is the full path, e.g. 'integration/autoland'.
-- tip_node is the tip-most visible changeset (NULL when every changeset is hidden).
CREATE TABLE pushes (
    repo VARCHAR NOT NULL,
    push_id BIGINT NOT NULL,
    pushed_at TIMESTAMPTZ NOT NULL,
    push_user VARCHAR,
    changeset_count INTEGER NOT NULL,
    tip_node VARCHAR,
    PRIMARY KEY (repo, push_id)
);

-- One row per changeset; position_in_push is its index in the push (DAG order, tip-most last).
-- author/description/branch/parents/files are NULL when the pushlog was read without full=1.
CREATE TABLE changesets (
    repo VARCHAR NOT NULL,
    node VARCHAR NOT NULL,
    push_id BIGINT NOT NULL,
    position_in_push INTEGER NOT NULL,
    author VARCHAR,
    description VARCHAR,
    branch VARCHAR,
    parents JSON,
    files JSON,
    PRIMARY KEY (repo, node)
);

-- One hgpush v1 ping per changeset. status: pending (stored, not sent yet), sent, failed
-- (kept for `shipgauge telemetry resend`). payload is the exact JSON sent.
CREATE TABLE hgpush_pings (
    repo VARCHAR NOT NULL,
    changeset VARCHAR NOT NULL,
    push_id BIGINT,
    repository VARCHAR NOT NULL,
    document_id VARCHAR NOT NULL,
    pushed_at TIMESTAMPTZ,
    review_system VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    bug_id BIGINT,
    landing_system VARCHAR,
    changed_files INTEGER,
    additions INTEGER,
    deletions INTEGER,
    payload JSON NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    http_status INTEGER,
    last_error VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    PRIMARY KEY (repo, changeset)
);

-- What Bugzilla said about a bug's reviews, reused for fetched_at + telemetry_bmo_cache_ttl_s.
-- status: ok, inaccessible (401 or an `error` body: classified no_bug).
CREATE TABLE bugzilla_bug_reviews (
    bug_id BIGINT PRIMARY KEY,
    status VARCHAR NOT NULL,
    phabricator BOOLEAN NOT NULL,
    raw_patch BOOLEAN NOT NULL,
    review_granted BOOLEAN,
    fetched_at TIMESTAMPTZ NOT NULL
);
