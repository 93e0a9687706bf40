-- cost_by_worker_pool: CI cost per worker pool (task queue id) and UTC day of run resolution.
-- grain: one row per (day, worker_pool). inputs: task_run_costs.
-- quirk: fallback_cost is the part priced by worker-type hourly rate, not instance billing.
-- cost and fallback_cost are NULL when no run of the row is priced, never 0; unpriced_runs and
-- unpriced_seconds count the finished runs no cost source prices.
SELECT
    run_date AS day,
    coalesce(worker_pool, 'unknown') AS worker_pool,
    count(*) AS runs,
    count(run_cost) AS priced_runs,
    CAST(sum(run_duration) AS BIGINT) AS run_seconds,
    sum(run_cost) AS cost,
    CASE
        WHEN count(run_cost) > 0
            THEN
                coalesce(
                    sum(CASE WHEN attribution_method = 'worker_type_hourly_rate' THEN run_cost END),
                    0
                )
    END AS fallback_cost,
    count(CASE WHEN attribution_method = 'unpriced' THEN 1 END) AS unpriced_runs,
    coalesce(sum(CASE WHEN attribution_method = 'unpriced' THEN run_duration END), 0)
        AS unpriced_seconds
FROM task_run_costs
WHERE run_date IS NOT NULL
GROUP BY run_date, coalesce(worker_pool, 'unknown')
