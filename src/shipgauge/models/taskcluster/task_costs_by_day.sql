-- task_costs_by_day: CI cost per UTC day of run resolution, with how much was a fallback estimate.
-- grain: one row per day. inputs: task_run_costs.
-- quirk: unfinished runs have no day and are left out; fallback_cost is the part priced by
-- worker-type hourly rate rather than instance billing.
SELECT
    run_date AS day,
    count(DISTINCT task_id) AS tasks,
    count(*) AS runs,
    count(run_cost) AS priced_runs,
    CAST(sum(run_duration) AS BIGINT) AS run_seconds,
    coalesce(sum(run_cost), 0) AS cost,
    coalesce(sum(CASE WHEN attribution_method = 'worker_type_hourly_rate' THEN run_cost END), 0)
        AS fallback_cost
FROM task_run_costs
WHERE run_date IS NOT NULL
GROUP BY run_date
