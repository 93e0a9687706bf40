-- task_run_costs: what each task run cost, and from which inputs.
-- grain: one row per (task_id, run_id) of task_runs.
-- inputs: task_runs, tasks, worker_costs, worker_usage, worker_type_costs.
-- method (research/seed-fxci-devops.md A.11): run_cost = run_duration / instance uptime × instance
-- cost, both summed over the 30 days up to the run's day and aggregated per instance before the
-- join (bigquery-etl #6374); worker_group/zone and worker_id/instance_id match case-insensitively;
-- kept only where uptime > 0 and uptime >= run_duration. attribution_method is then the
-- worker_usage method. Fallback where no instance price applies: run hours × cost / usage_hours
-- of the task's worker type in the nearest month ('worker_type_hourly_rate'). Otherwise run_cost
-- is NULL: 'unpriced' (finished, no price) or 'unfinished' (no started or resolved time).
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
        lower(r.worker_group) AS zone_key,
        lower(r.worker_id) AS instance_key,
        t.task_queue_id AS worker_pool,
        t.provisioner_id,
        t.worker_type
    FROM task_runs AS r
    LEFT JOIN tasks AS t ON t.task_id = r.task_id
),
instance_days AS (
    SELECT DISTINCT zone_key, instance_key, run_date
    FROM runs
    WHERE run_duration IS NOT NULL
),
instance_costs AS (
    SELECT
        d.zone_key,
        d.instance_key,
        d.run_date,
        coalesce(c.cloud_provider, 'gcp') AS cloud_provider,
        min(c.project) AS worker_project,
        min(c.zone) AS worker_zone,
        min(c.instance_id) AS worker_instance_id,
        sum(c.total_cost) AS worker_cost
    FROM instance_days AS d
    JOIN worker_costs AS c
        ON lower(c.zone) = d.zone_key
        AND lower(c.instance_id) = d.instance_key
        AND c.usage_start_date BETWEEN d.run_date - INTERVAL 30 DAY AND d.run_date
    GROUP BY d.zone_key, d.instance_key, d.run_date, coalesce(c.cloud_provider, 'gcp')
),
instance_uptimes AS (
    SELECT
        d.zone_key,
        d.instance_key,
        d.run_date,
        u.cloud_provider,
        sum(u.uptime) AS worker_uptime,
        min(u.attribution_method) AS attribution_method
    FROM instance_days AS d
    JOIN worker_usage AS u
        ON lower(u.zone) = d.zone_key
        AND lower(u.instance_id) = d.instance_key
        AND u.usage_start_date BETWEEN d.run_date - INTERVAL 30 DAY AND d.run_date
    GROUP BY d.zone_key, d.instance_key, d.run_date, u.cloud_provider
),
instance_priced AS (
    SELECT
        r.task_id,
        r.run_id,
        c.cloud_provider,
        c.worker_project,
        c.worker_zone,
        c.worker_instance_id,
        c.worker_cost,
        u.worker_uptime,
        u.attribution_method,
        r.run_duration / u.worker_uptime * c.worker_cost AS run_cost
    FROM runs AS r
    JOIN instance_costs AS c
        ON c.zone_key = r.zone_key AND c.instance_key = r.instance_key AND c.run_date = r.run_date
    JOIN instance_uptimes AS u
        ON u.zone_key = c.zone_key
        AND u.instance_key = c.instance_key
        AND u.run_date = c.run_date
        AND u.cloud_provider = c.cloud_provider
    WHERE u.worker_uptime > 0 AND u.worker_uptime >= r.run_duration
),
hourly_rates AS (
    SELECT provisioner, worker_type, month, cost / usage_hours AS hourly_rate
    FROM worker_type_costs
    WHERE usage_hours > 0
),
rate_priced AS (
    SELECT
        r.task_id,
        r.run_id,
        w.hourly_rate,
        row_number() OVER (
            PARTITION BY r.task_id, r.run_id
            ORDER BY
                CASE WHEN w.provisioner = r.provisioner_id THEN 0 ELSE 1 END,
                abs(w.month - r.run_date),
                w.month DESC
        ) AS preference
    FROM runs AS r
    JOIN hourly_rates AS w ON w.worker_type = r.worker_type
    LEFT JOIN instance_priced AS p ON p.task_id = r.task_id AND p.run_id = r.run_id
    WHERE r.run_duration IS NOT NULL AND p.task_id IS NULL
)
SELECT
    r.task_id,
    r.run_id,
    r.submission_date,
    r.run_date,
    r.state,
    r.worker_pool,
    r.worker_group,
    r.worker_id,
    r.started,
    r.resolved,
    r.run_duration,
    coalesce(p.run_cost, f.hourly_rate * r.run_duration / 3600.0) AS run_cost,
    p.cloud_provider,
    p.worker_project,
    p.worker_zone,
    p.worker_instance_id,
    p.worker_cost AS attribution_worker_cost,
    p.worker_uptime AS attribution_worker_uptime,
    f.hourly_rate AS attribution_hourly_rate,
    CASE
        WHEN p.task_id IS NOT NULL THEN p.attribution_method
        WHEN f.task_id IS NOT NULL THEN 'worker_type_hourly_rate'
        WHEN r.run_duration IS NULL THEN 'unfinished'
        ELSE 'unpriced'
    END AS attribution_method
FROM runs AS r
LEFT JOIN instance_priced AS p ON p.task_id = r.task_id AND p.run_id = r.run_id
LEFT JOIN rate_priced AS f ON f.task_id = r.task_id AND f.run_id = r.run_id AND f.preference = 1
