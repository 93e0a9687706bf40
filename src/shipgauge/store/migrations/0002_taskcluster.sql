-- Taskcluster ETL: tasks and runs from Pulse, task definitions, worker uptime, worker costs.
-- Column names follow fxci_derived (tasks_v2, task_runs_v1, task_definitions_v1,
-- worker_metrics_v1, worker_costs_v1); docs/taskcluster.md maps every column.

-- One row per task, from any message about it. Known tags as tasks_v2's columns, all tags in
-- `tags` (NULL when no message carried them yet). submission_date: UTC day first ingested.
CREATE TABLE tasks (
    task_id VARCHAR PRIMARY KEY,
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

-- One row per run; state only moves forward (pipelines/taskcluster/tasks.py holds the rule).
CREATE TABLE task_runs (
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
    submission_date DATE NOT NULL,
    PRIMARY KEY (task_id, run_id)
);

-- Full definitions fetched from the Queue (POST /api/queue/v1/tasks); also the fetch cache.
CREATE TABLE task_definitions (
    task_id VARCHAR PRIMARY KEY,
    task_group_id VARCHAR,
    scheduler_id VARCHAR,
    task_queue_id VARCHAR,
    provisioner_id VARCHAR,
    worker_type VARCHAR,
    project_id VARCHAR,
    priority VARCHAR,
    retries INTEGER,
    requires VARCHAR,
    created TIMESTAMPTZ,
    deadline TIMESTAMPTZ,
    expires TIMESTAMPTZ,
    dependencies JSON,
    routes JSON,
    scopes JSON,
    tags JSON,
    metadata JSON,
    payload JSON,
    extra JSON,
    submission_date DATE NOT NULL
);

-- Seconds each worker instance was up in an interval. method says where the figure came from:
-- gcp_monitoring_instance_uptime, azure_billing_vm_quantity or uptime_file. submission_date is
-- the day the row belongs to; a re-import replaces (method, submission_date).
CREATE TABLE worker_metrics (
    project VARCHAR NOT NULL,
    zone VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    interval_start_time TIMESTAMPTZ NOT NULL,
    interval_end_time TIMESTAMPTZ NOT NULL,
    uptime DOUBLE NOT NULL,
    cloud_provider VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    submission_date DATE NOT NULL,
    PRIMARY KEY (project, zone, instance_id, interval_start_time)
);

-- Net cost of each cloud instance per day, from billing exports (upstream.md A.10).
-- total_cost = cost + credits (credits are negative). zone is '' when billing names none.
CREATE TABLE worker_costs (
    cloud_provider VARCHAR NOT NULL,
    project VARCHAR NOT NULL,
    zone VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    usage_start_date DATE NOT NULL,
    cost DOUBLE NOT NULL,
    credits DOUBLE NOT NULL,
    total_cost DOUBLE NOT NULL,
    PRIMARY KEY (cloud_provider, project, zone, instance_id, name, usage_start_date)
);

-- Monthly cost per worker type (measuring_ci's CSVs): the fallback hourly rate for runs whose
-- instance has no billing. month is the first day of the month the figures cover.
CREATE TABLE worker_type_costs (
    provider VARCHAR NOT NULL,
    provisioner VARCHAR NOT NULL,
    worker_type VARCHAR NOT NULL,
    month DATE NOT NULL,
    usage_hours DOUBLE NOT NULL,
    cost DOUBLE NOT NULL,
    modified TIMESTAMPTZ,
    PRIMARY KEY (provider, provisioner, worker_type, month)
);
