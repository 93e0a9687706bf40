-- worker_instance_costs: what a worker instance cost and how long it was up, over the 30 days up
-- to each day it resolved a run: the instance-billing price of task_run_costs and push_task_runs.
-- grain: one row per (worker_group, worker_id, day, cloud_provider) of a run's instance whose
-- billing (worker_costs) and uptime (worker_usage) both cover it, with uptime > 0.
-- inputs: task_runs, worker_costs, worker_usage.
-- method (upstream.md A.11): cost and uptime are each summed per instance over
-- the 30 days up to the day, before any join to runs (bigquery-etl #6374); worker_group/zone and
-- worker_id/instance_id match case-insensitively; keys are taken once per distinct instance-day
-- of task_runs, as the runs name them, so the runs join back on their own values.
WITH instance_days AS (
    SELECT DISTINCT worker_group, worker_id, CAST(resolved AS DATE) AS day
    FROM task_runs
    WHERE worker_group IS NOT NULL AND worker_id IS NOT NULL AND started IS NOT NULL
        AND resolved IS NOT NULL
),
costs AS (
    SELECT
        d.worker_group,
        d.worker_id,
        d.day,
        coalesce(c.cloud_provider, 'gcp') AS cloud_provider,
        min(c.project) AS worker_project,
        min(c.zone) AS worker_zone,
        min(c.instance_id) AS worker_instance_id,
        sum(c.total_cost) AS worker_cost
    FROM instance_days AS d
    JOIN worker_costs AS c
        ON lower(c.zone) = lower(d.worker_group)
        AND lower(c.instance_id) = lower(d.worker_id)
        AND c.usage_start_date BETWEEN d.day - INTERVAL 30 DAY AND d.day
    GROUP BY d.worker_group, d.worker_id, d.day, coalesce(c.cloud_provider, 'gcp')
),
uptimes AS (
    SELECT
        d.worker_group,
        d.worker_id,
        d.day,
        u.cloud_provider,
        sum(u.uptime) AS worker_uptime,
        min(u.attribution_method) AS attribution_method
    FROM instance_days AS d
    JOIN worker_usage AS u
        ON lower(u.zone) = lower(d.worker_group)
        AND lower(u.instance_id) = lower(d.worker_id)
        AND u.usage_start_date BETWEEN d.day - INTERVAL 30 DAY AND d.day
    GROUP BY d.worker_group, d.worker_id, d.day, u.cloud_provider
)
SELECT
    c.worker_group,
    c.worker_id,
    c.day,
    c.cloud_provider,
    c.worker_project,
    c.worker_zone,
    c.worker_instance_id,
    c.worker_cost,
    u.worker_uptime,
    u.attribution_method
FROM costs AS c
JOIN uptimes AS u
    ON u.worker_group = c.worker_group
    AND u.worker_id = c.worker_id
    AND u.day = c.day
    AND u.cloud_provider = c.cloud_provider
WHERE u.worker_uptime > 0
