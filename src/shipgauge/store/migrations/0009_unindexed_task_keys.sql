-- duckdb only
-- tasks and task_runs hold a row per Taskcluster task and run: tens of millions of keys in a real
-- store. DuckDB holds a primary key's index (ART) in memory, about 60 bytes a key (1,000,000
-- random slugids: 59 MB), and a memory limit cannot evict it: the Taskcluster import peaked at
-- 1,037 MB at 10,000,000 runs. So on DuckDB these two tables carry no index. Their keys are
-- declared in `table_keys`, and every write de-duplicates each batch with an anti-join
-- (engines/duckdb.py; docs/taskcluster.md, Benchmark). PostgreSQL keeps its keys: its indexes live on disk.
CREATE TABLE table_keys (
    table_name VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    column_name VARCHAR NOT NULL,
    PRIMARY KEY (table_name, position)
);

INSERT INTO table_keys VALUES ('tasks', 1, 'task_id'), ('task_runs', 1, 'task_id'),
    ('task_runs', 2, 'run_id');

-- DuckDB drops no primary key in place: each table is copied into its new shape (a copy keeps
-- the column types, not the NOT NULLs).
CREATE TABLE tasks_v9 AS SELECT * FROM tasks;
DROP TABLE tasks CASCADE;
ALTER TABLE tasks_v9 RENAME TO tasks;
ALTER TABLE tasks ALTER COLUMN task_id SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN task_group_id SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN scheduler_id SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN task_queue_id SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN provisioner_id SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN worker_type SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN submission_date SET NOT NULL;

CREATE TABLE task_runs_v9 AS SELECT * FROM task_runs;
DROP TABLE task_runs CASCADE;
ALTER TABLE task_runs_v9 RENAME TO task_runs;
ALTER TABLE task_runs ALTER COLUMN task_id SET NOT NULL;
ALTER TABLE task_runs ALTER COLUMN run_id SET NOT NULL;
ALTER TABLE task_runs ALTER COLUMN state SET NOT NULL;
ALTER TABLE task_runs ALTER COLUMN submission_date SET NOT NULL;

-- The model views read both tables: the store loads them again.
DELETE FROM store_meta WHERE key = 'models';
