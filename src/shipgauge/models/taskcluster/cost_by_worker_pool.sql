-- cost_by_worker_pool: CI cost per worker pool (task queue id) and UTC day of run resolution.
-- grain: one row per (day, worker_pool). inputs: task_run_costs.
-- quirk: fallback_cost is the part priced by worker-type hourly rate, not instance billing.
SELECT
    run_date AS day,
    coalesce(worker_pool, 'unknown') AS worker_pool,
    count(*) AS runs,
    count(run_cost) AS priced_runs,
    CAST(sum(run_duration) AS BIGINT) AS run_seconds,
    coalesce(sum(run_cost), 0) AS cost,
    coalesce(sum(CASE WHEN attribution_method = 'worker_type_hourly_rate' THEN run_cost END), 0)
        AS fallback_cost
FROM task_run_costs
WHERE run_date IS NOT NULL
GROUP BY run_date, coalesce(worker_pool, 'unknown')
