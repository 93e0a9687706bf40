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

-- DuckDB drops no primary key in place: each table is copied into its new shape.
CREATE TABLE tasks_v9 (
    task_id VARCHAR NOT NULL,
    task_group_id VARCHAR NOT NULL,
    scheduler_id VARCHAR NOT NULL,
    task_queue_id VARCHAR NOT NULL,
    provisioner_id VARCHAR NOT NULL,
    worker_type VARCHAR NOT NULL,
    project_id VARCHAR,
    priority VARCHAR,
    deadline TIMESTAMPTZ,
    expires TIMESTAMPTZ,
    created_for_user VARCHAR,
    kind VARCHAR,
    label VARCHAR,
    os VARCHAR,
    owned_by VARCHAR,
    project VARCHAR,
    trust_domain VARCHAR,
    worker_implementation VARCHAR,
    test_suite VARCHAR,
    test_platform VARCHAR,
    test_variant VARCHAR,
    tags JSON,
    submission_date DATE NOT NULL
);

INSERT INTO tasks_v9 SELECT * FROM tasks;
DROP TABLE tasks CASCADE;
ALTER TABLE tasks_v9 RENAME TO tasks;

CREATE TABLE task_runs_v9 (
    task_id VARCHAR NOT NULL,
    run_id INTEGER NOT NULL,
    state VARCHAR NOT NULL,
    reason_created VARCHAR,
    reason_resolved VARCHAR,
    worker_group VARCHAR,
    worker_id VARCHAR,
    scheduled TIMESTAMPTZ,
    started TIMESTAMPTZ,
    resolved TIMESTAMPTZ,
    taken_until TIMESTAMPTZ,
    submission_date DATE NOT NULL
);

INSERT INTO task_runs_v9 SELECT * FROM task_runs;
DROP TABLE task_runs CASCADE;
ALTER TABLE task_runs_v9 RENAME TO task_runs;

-- The model views read both tables: the store loads them again.
DELETE FROM store_meta WHERE key = 'models';
