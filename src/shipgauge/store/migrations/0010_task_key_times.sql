-- duckdb only
-- Without a key index (migration 9), each write to tasks or task_runs joins its batch against
-- the table's key columns: ~155 ms a batch at 10,000,000 rows, and growing with the store. A
-- task's deadline and a run's scheduled time never change (Taskcluster sets them once), so the
-- rows of one key hold the same value there, or NULL where a source lacks it (fxci-etl's
-- tasks_v2 has no deadline). A write then reads only the rows whose value is NULL or within a
-- day of its batch's values, which DuckDB's zone maps skip to (engines/duckdb.py;
-- docs/taskcluster.md, Benchmark). A batch holding a NULL there still reads every row.
CREATE TABLE table_key_times (
    table_name VARCHAR PRIMARY KEY,
    column_name VARCHAR NOT NULL
);

INSERT INTO table_key_times VALUES ('tasks', 'deadline'), ('task_runs', 'scheduled');
