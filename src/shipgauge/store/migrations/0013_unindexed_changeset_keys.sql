-- duckdb only
-- `changesets` and `hgpush_pings` hold a row per changeset: about a million a year for
-- autoland and mozilla-central together. Their key indexes (ART, ~100 bytes a key: repo and a
-- 40-hex node) stay in memory, and a write loads the part it touches: under the CI-cost scan's
-- 64 MB store limit, one commit of 50,000 new changesets into a store of 1,500,000 failed
-- ("could not allocate block"; 20,000 passed), and a pushlog page of 200 merge pushes holds
-- that many. As tasks (migration 9), their keys are declared in `table_keys`, and each write
-- de-duplicates its batch with an anti-join (docs/telemetry.md). `pushes`, a row per push, and
-- `bugzilla_bug_reviews`, a row per bug, keep their indexes.
INSERT INTO table_keys VALUES
    ('changesets', 1, 'repo'), ('changesets', 2, 'node'),
    ('hgpush_pings', 1, 'repo'), ('hgpush_pings', 2, 'changeset');

-- As in migration 9: each table is copied into its new shape (a copy keeps the column types,
-- not the NOT NULLs).
CREATE TABLE changesets_v13 AS SELECT * FROM changesets;
DROP TABLE changesets CASCADE;
ALTER TABLE changesets_v13 RENAME TO changesets;
ALTER TABLE changesets ALTER COLUMN repo SET NOT NULL;
ALTER TABLE changesets ALTER COLUMN node SET NOT NULL;
ALTER TABLE changesets ALTER COLUMN push_id SET NOT NULL;
ALTER TABLE changesets ALTER COLUMN position_in_push SET NOT NULL;

CREATE TABLE hgpush_pings_v13 AS SELECT * FROM hgpush_pings;
DROP TABLE hgpush_pings CASCADE;
ALTER TABLE hgpush_pings_v13 RENAME TO hgpush_pings;
ALTER TABLE hgpush_pings ALTER COLUMN repo SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN changeset SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN repository SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN document_id SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN review_system SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN rule SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN payload SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN status SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN attempts SET NOT NULL;
ALTER TABLE hgpush_pings ALTER COLUMN created_at SET NOT NULL;

-- The model views read these tables: the store loads them again.
DELETE FROM store_meta WHERE key = 'models';
