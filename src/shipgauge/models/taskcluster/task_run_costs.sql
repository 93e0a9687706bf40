-- task_run_costs: what each task run cost, and from which inputs.
-- grain: one row per (task_id, run_id) of task_runs.
-- inputs: task_runs, tasks, worker_instance_costs, worker_type_rates.
-- method (upstream.md A.11): run_cost = run_duration / instance uptime × instance
-- cost over the 30 days up to the run's day (worker_instance_costs), kept only where uptime >=
-- run_duration; attribution_method is then the worker_usage method. Fallback where no instance
-- price applies: run hours × the pool's hourly rate ('worker_type_hourly_rate', worker_type_rates):
-- the rate of the month the run resolved in, else of the nearest month; rate_month says which.
-- Otherwise run_cost is NULL: 'unfinished' (no started or resolved time) or 'unpriced'.
-- run_duration is floored to whole seconds, as fxci's INTEGER column is.
WITH runs AS (
    SELECT
        r.task_id,
        r.run_id,
        r.state,
        r.worker_group,
        r.worker_id,
        r.started,
        r.resolved,
        r.submission_date,
        CAST(r.resolved AS DATE) AS run_date,
        CAST(floor(epoch(r.resolved) - epoch(r.started)) AS BIGINT) AS run_duration,
        t.task_queue_id AS worker_pool,
        t.provisioner_id,
        t.worker_type
    FROM task_runs AS r
    LEFT JOIN tasks AS t ON t.task_id = r.task_id
),
priced AS (
    SELECT
        r.*,
        p.cloud_provider,
        p.worker_project,
        p.worker_zone,
        p.worker_instance_id,
        p.worker_cost,
        p.worker_uptime,
        p.attribution_method AS instance_method,
        f.hourly_rate,
        f.rate_month
    FROM runs AS r
    LEFT JOIN worker_instance_costs AS p
        ON p.worker_group = r.worker_group
        AND p.worker_id = r.worker_id
        AND p.day = r.run_date
        AND p.worker_uptime >= r.run_duration
    LEFT JOIN worker_type_rates AS f
        ON f.provisioner = r.provisioner_id
        AND f.worker_type = r.worker_type
        AND f.month = CAST(date_trunc('month', r.run_date) AS DATE)
)
SELECT
    task_id,
    run_id,
    submission_date,
    run_date,
    state,
    worker_pool,
    worker_group,
    worker_id,
    started,
    resolved,
    run_duration,
    CASE
        WHEN worker_cost IS NOT NULL THEN run_duration / worker_uptime * worker_cost
        ELSE hourly_rate * run_duration / 3600.0
    END AS run_cost,
    cloud_provider,
    worker_project,
    worker_zone,
    worker_instance_id,
    worker_cost AS attribution_worker_cost,
    worker_uptime AS attribution_worker_uptime,
    CASE WHEN worker_cost IS NULL AND run_duration IS NOT NULL THEN hourly_rate END
        AS attribution_hourly_rate,
    CASE WHEN worker_cost IS NULL AND run_duration IS NOT NULL THEN rate_month END AS rate_month,
    CASE
        WHEN run_duration IS NULL THEN 'unfinished'
        WHEN worker_cost IS NOT NULL THEN instance_method
        WHEN hourly_rate IS NOT NULL THEN 'worker_type_hourly_rate'
        ELSE 'unpriced'
    END AS attribution_method
FROM priced
