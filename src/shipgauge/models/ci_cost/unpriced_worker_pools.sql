-- unpriced_worker_pools: worker pools whose runs in push task groups no cost source prices.
-- grain: one row per worker_pool. inputs: push_task_runs.
-- Neither instance billing (worker_costs + worker_usage) nor a worker_type_costs row of any
-- month covers them; measuring_ci counted them as 0 without a word (quirk Q5).
SELECT
    worker_pool,
    provisioner_id,
    worker_type,
    count(*) AS runs,
    sum(run_seconds) AS run_seconds,
    count(DISTINCT repo) AS repos,
    count(DISTINCT CAST(push_id AS VARCHAR) || ' ' || repo) AS pushes,
    min(started) AS first_run_started,
    max(started) AS last_run_started
FROM push_task_runs
WHERE pricing_method = 'unpriced'
GROUP BY worker_pool, provisioner_id, worker_type
