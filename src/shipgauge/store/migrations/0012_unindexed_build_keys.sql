-- duckdb only
-- `builds` holds a row per build archive: ~1.5 M in Buildhub's catalogue. Its key index (ART,
-- ~75 bytes a build, held in memory and never evicted) made every writer's memory grow with the
-- catalogue: the inventory of 10,000,000 rows peaked 33 % above that of 1,000,000, and a store
-- limit had to grow by 96 bytes a build to hold it. As tasks (migration 9), its key is declared
-- in `table_keys`: writers already look up each batch's hashes and record ids by a join
-- (pipelines/builds/records.py, new_rows), and a plain load is checked at commit. A lookup by
-- hash reads the key column instead of the index (docs/builds.md). builds_pending stays indexed.
INSERT INTO table_keys VALUES ('builds', 1, 'build_hash');

-- As in migration 9: the table is copied into its new shape (a copy keeps the column types,
-- not the NOT NULLs).
CREATE TABLE builds_v12 AS SELECT * FROM builds;
DROP TABLE builds CASCADE;
ALTER TABLE builds_v12 RENAME TO builds;
ALTER TABLE builds ALTER COLUMN build_hash SET NOT NULL;
ALTER TABLE builds ALTER COLUMN document SET NOT NULL;
ALTER TABLE builds ALTER COLUMN product SET NOT NULL;
ALTER TABLE builds ALTER COLUMN channel SET NOT NULL;
ALTER TABLE builds ALTER COLUMN version SET NOT NULL;
ALTER TABLE builds ALTER COLUMN version_key SET NOT NULL;
ALTER TABLE builds ALTER COLUMN platform SET NOT NULL;
ALTER TABLE builds ALTER COLUMN locale SET NOT NULL;
ALTER TABLE builds ALTER COLUMN download_url SET NOT NULL;
ALTER TABLE builds ALTER COLUMN download_mimetype SET NOT NULL;
ALTER TABLE builds ALTER COLUMN download_size SET NOT NULL;
ALTER TABLE builds ALTER COLUMN origin SET NOT NULL;
ALTER TABLE builds ALTER COLUMN created_at SET NOT NULL;

-- The model views read this table: the store loads them again.
DELETE FROM store_meta WHERE key = 'models';
