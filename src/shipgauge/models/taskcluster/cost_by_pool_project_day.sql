-- cost_by_pool_project_day: CI cost of task runs per UTC day of run resolution, worker pool and
-- project, split by what priced it (the rollup the dashboard's CI cost page cuts).
-- grain: one row per (day, worker_pool, project). inputs: task_run_costs, tasks.
-- worker_pool as in cost_by_worker_pool, project as in cost_by_project. cost is NULL when no run
-- of the row is priced: an unpriced pool is never counted as free; unpriced_seconds is the run
-- time no cost source prices. instance_cost is the part priced by instance billing, rate_cost
-- the part priced by the worker type's hourly rate. Unfinished runs have no day and are left out.
SELECT
    c.run_date AS day,
    coalesce(c.worker_pool, 'unknown') AS worker_pool,
    coalesce(t.project, t.project_id, 'unknown') AS project,
    count(*) AS runs,
    count(c.run_cost) AS priced_runs,
    CAST(sum(c.run_duration) AS BIGINT) AS run_seconds,
    CAST(coalesce(sum(CASE WHEN c.run_cost IS NULL THEN c.run_duration END), 0) AS BIGINT)
        AS unpriced_seconds,
    sum(c.run_cost) AS cost,
    sum(CASE WHEN c.attribution_method <> 'worker_type_hourly_rate' THEN c.run_cost END)
        AS instance_cost,
    sum(CASE WHEN c.attribution_method = 'worker_type_hourly_rate' THEN c.run_cost END)
        AS rate_cost
FROM task_run_costs AS c
LEFT JOIN tasks AS t ON t.task_id = c.task_id
WHERE c.run_date IS NOT NULL
GROUP BY c.run_date, coalesce(c.worker_pool, 'unknown'), coalesce(t.project, t.project_id, 'unknown')
