-- worker_type_rates: the hourly rate that prices a worker pool's runs resolved in a month, where
-- no instance billing does (the fallback of task_run_costs and push_task_runs).
-- grain: one row per (provisioner, worker_type, month) for each pool of `tasks` whose worker type
-- has a usable row in worker_type_costs, and each month from the first to the last run
-- resolution in task_runs. inputs: tasks, task_runs, worker_type_costs.
-- rate: cost / usage_hours (a row with usage_hours = 0 gives no rate, not infinity) of the same
-- month when there is one, else of the nearest month (ties: the later one), rows of the pool's
-- own provisioner first, then those of the same worker type under another provisioner
-- (measuring_ci ignored the provisioner, docs/upstream.md Q5). rate_month
-- is the month the rate came from. Picked once per (pool, month), never per run.
WITH pools AS (
    SELECT DISTINCT provisioner_id, worker_type
    FROM tasks
),
span AS (
    SELECT
        CAST(date_trunc('month', CAST(min(resolved) AS DATE)) AS DATE) AS first_month,
        CAST(date_trunc('month', CAST(max(resolved) AS DATE)) AS DATE) AS last_month
    FROM task_runs
),
months AS (
    SELECT CAST(m AS DATE) AS month
    FROM span, generate_series(span.first_month, span.last_month, INTERVAL 1 MONTH) AS s(m)
),
ranked AS (
    SELECT
        p.provisioner_id AS provisioner,
        p.worker_type,
        m.month,
        w.month AS rate_month,
        w.provisioner AS rate_provisioner,
        w.cost / w.usage_hours AS hourly_rate,
        row_number() OVER (
            PARTITION BY p.provisioner_id, p.worker_type, m.month
            ORDER BY
                CASE WHEN w.provisioner = p.provisioner_id THEN 0 ELSE 1 END,
                abs((year(w.month) - year(m.month)) * 12 + month(w.month) - month(m.month)),
                w.month DESC,
                w.provisioner,
                w.provider
        ) AS preference
    FROM pools AS p
    CROSS JOIN months AS m
    JOIN worker_type_costs AS w ON w.worker_type = p.worker_type AND w.usage_hours > 0
)
SELECT provisioner, worker_type, month, rate_month, rate_provisioner, hourly_rate
FROM ranked
WHERE preference = 1
