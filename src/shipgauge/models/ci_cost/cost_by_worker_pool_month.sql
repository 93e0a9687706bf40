-- cost_by_worker_pool_month: CI cost of push task groups per worker pool and UTC month of the run.
-- grain: one row per (repo, mode, worker_pool, month). inputs: push_task_runs.
-- Only runs that started and resolved; runs of pools no cost source prices are counted in
-- unpriced_runs / unpriced_seconds, never priced as 0: a pool-month with no priced run has
-- NULL costs.
SELECT
    repo,
    mode,
    worker_pool,
    CAST(date_trunc('month', timezone('UTC', started)) AS DATE) AS month,
    count(*) AS runs,
    sum(run_seconds) AS run_seconds,
    sum(cost) AS total_cost,
    CASE WHEN count(cost) > 0 THEN coalesce(sum(CASE WHEN in_ideal THEN cost END), 0) END
        AS ideal_cost,
    count(CASE WHEN pricing_method = 'instance_billing' THEN 1 END) AS instance_billed_runs,
    count(CASE WHEN pricing_method = 'worker_type_rate' THEN 1 END) AS rate_priced_runs,
    count(CASE WHEN pricing_method = 'unpriced' THEN 1 END) AS unpriced_runs,
    coalesce(sum(CASE WHEN pricing_method = 'unpriced' THEN run_seconds END), 0)
        AS unpriced_seconds
FROM push_task_runs
WHERE in_total
GROUP BY repo, mode, worker_pool, CAST(date_trunc('month', timezone('UTC', started)) AS DATE)
