-- push_task_runs: every run of every task in a push's task group, priced, with the flags the
-- three CI cost measures filter on.
-- grain: one row per (repo, push_id, mode, task_id, run_id), plus one row with run_id NULL for
-- each task that has no run yet (unscheduled).
-- inputs: push_task_groups, tasks, task_runs, worker_instance_costs, worker_type_rates.
-- Measures (upstream.md §A.9): in_total = the run has started and
-- resolved, whatever its state; in_ideal = the last run of a task whose last run completed;
-- in_compute = any run of such a task. Prices are task_run_costs' (instance billing, else the
-- pool's hourly rate of the run's month or the nearest one: rate_month), read from the same
-- models (worker_instance_costs, worker_type_rates) so that this view joins the runs to their
-- tasks once; they apply to the exact run seconds, where task_run_costs floors them.
-- pricing_method: instance_billing, worker_type_rate, unpriced (no cost source knows the pool),
-- unfinished (no started or resolved time), or NULL for a task without runs;
-- attribution_method is task_run_costs' own label for the same run.
WITH group_tasks AS (
    SELECT
        g.repo,
        g.push_id,
        g.mode,
        t.task_id,
        t.task_queue_id AS worker_pool,
        t.provisioner_id,
        t.worker_type,
        t.label,
        t.kind
    FROM push_task_groups AS g
    JOIN tasks AS t ON t.task_group_id = g.task_group_id
),
-- The last run of a task is its highest run_id. Only retried tasks have a run_id above 0, so
-- their last runs are found among those few rows and every other run is its task's last: a
-- window over all runs costs more than the rest of this view (bench_ci_cost_models.py).
last_retries AS (
    SELECT task_id, run_id, state
    FROM (
        SELECT
            task_id,
            run_id,
            state,
            row_number() OVER (PARTITION BY task_id ORDER BY run_id DESC) AS newest
        FROM task_runs
        WHERE run_id > 0
    ) AS retried
    WHERE newest = 1
),
runs AS (
    SELECT
        t.*,
        r.run_id,
        r.state,
        r.started,
        r.resolved,
        r.worker_group,
        r.worker_id,
        epoch(r.resolved) - epoch(r.started) AS run_seconds,
        -- the UTC day by arithmetic: a time-zone-aware cast costs 4 times as much per row
        DATE '1970-01-01' + CAST(floor(epoch(r.resolved) / 86400) AS INTEGER) AS run_date,
        CASE WHEN r.run_id IS NOT NULL THEN l.run_id IS NULL OR l.run_id = r.run_id END
            AS is_last_run,
        coalesce(l.state, r.state) AS task_state
    FROM group_tasks AS t
    LEFT JOIN task_runs AS r ON r.task_id = t.task_id
    LEFT JOIN last_retries AS l ON l.task_id = t.task_id
),
priced AS (
    SELECT
        r.*,
        p.worker_cost,
        p.worker_uptime,
        p.attribution_method AS instance_method,
        f.hourly_rate,
        f.rate_month,
        CASE
            WHEN r.run_seconds IS NULL THEN 'unfinished'
            WHEN p.worker_cost IS NOT NULL THEN 'instance_billing'
            WHEN f.hourly_rate IS NOT NULL THEN 'worker_type_rate'
            ELSE 'unpriced'
        END AS pricing_method
    FROM runs AS r
    LEFT JOIN worker_instance_costs AS p
        ON p.worker_group = r.worker_group
        AND p.worker_id = r.worker_id
        AND p.day = r.run_date
        AND p.worker_uptime >= floor(r.run_seconds)
    LEFT JOIN worker_type_rates AS f
        ON f.provisioner = r.provisioner_id
        AND f.worker_type = r.worker_type
        AND f.month = CAST(date_trunc('month', r.run_date) AS DATE)
)
SELECT
    repo,
    push_id,
    mode,
    task_id,
    run_id,
    worker_pool,
    provisioner_id,
    worker_type,
    label,
    kind,
    state,
    task_state,
    is_last_run,
    started,
    resolved,
    run_seconds,
    CASE pricing_method
        WHEN 'worker_type_rate' THEN hourly_rate * run_seconds / 3600.0
        WHEN 'instance_billing' THEN run_seconds / worker_uptime * worker_cost
    END AS cost,
    CASE WHEN pricing_method = 'worker_type_rate' THEN rate_month END AS rate_month,
    CASE WHEN run_id IS NOT NULL THEN pricing_method END AS pricing_method,
    CASE
        WHEN run_id IS NULL THEN NULL
        WHEN pricing_method = 'instance_billing' THEN instance_method
        WHEN pricing_method = 'worker_type_rate' THEN 'worker_type_hourly_rate'
        ELSE pricing_method
    END AS attribution_method,
    coalesce(run_seconds IS NOT NULL, FALSE) AS in_total,
    coalesce(run_seconds IS NOT NULL AND is_last_run AND task_state = 'completed', FALSE)
        AS in_ideal,
    coalesce(run_seconds IS NOT NULL AND task_state = 'completed', FALSE) AS in_compute
FROM priced
