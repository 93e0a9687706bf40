-- push_task_runs: every run of every task in a push's task group, priced, with the flags the
-- three CI cost measures filter on.
-- grain: one row per (repo, push_id, mode, task_id, run_id), plus one row with run_id NULL for
-- each task that has no run yet (unscheduled). inputs: push_task_groups, tasks, task_run_costs.
-- Measures (research/seed-hgpush-measuring-ci.md §A.9): in_total = the run has started and
-- resolved, whatever its state; in_ideal = the last run of a task whose last run completed;
-- in_compute = any run of such a task. The price is task_run_costs' (instance billing, else the
-- worker type's hourly rate of the nearest month), applied to the exact run seconds: its
-- run_duration is floored to whole seconds, as fxci's INTEGER column is.
-- pricing_method: instance_billing, worker_type_rate, unpriced (no cost source knows the pool),
-- unfinished (no started or resolved time), or NULL for a task without runs;
-- attribution_method keeps task_run_costs' own label.
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
runs AS (
    SELECT
        c.task_id,
        c.run_id,
        c.state,
        c.started,
        c.resolved,
        epoch(c.resolved) - epoch(c.started) AS run_seconds,
        c.attribution_method,
        c.attribution_hourly_rate,
        c.attribution_worker_cost,
        c.attribution_worker_uptime,
        row_number() OVER (PARTITION BY c.task_id ORDER BY c.run_id DESC) = 1 AS is_last_run,
        first_value(c.state) OVER (PARTITION BY c.task_id ORDER BY c.run_id DESC) AS task_state
    FROM task_run_costs AS c
    WHERE c.task_id IN (SELECT task_id FROM group_tasks)
),
priced AS (
    SELECT
        *,
        CASE
            WHEN run_seconds IS NULL THEN 'unfinished'
            WHEN attribution_method = 'worker_type_hourly_rate' THEN 'worker_type_rate'
            WHEN attribution_worker_uptime > 0 THEN 'instance_billing'
            ELSE 'unpriced'
        END AS pricing_method
    FROM runs
)
SELECT
    t.repo,
    t.push_id,
    t.mode,
    t.task_id,
    r.run_id,
    t.worker_pool,
    t.provisioner_id,
    t.worker_type,
    t.label,
    t.kind,
    r.state,
    r.task_state,
    r.is_last_run,
    r.started,
    r.resolved,
    r.run_seconds,
    CASE r.pricing_method
        WHEN 'worker_type_rate' THEN r.attribution_hourly_rate * r.run_seconds / 3600.0
        WHEN 'instance_billing'
            THEN r.run_seconds / r.attribution_worker_uptime * r.attribution_worker_cost
    END AS cost,
    r.pricing_method,
    r.attribution_method,
    coalesce(r.run_seconds IS NOT NULL, FALSE) AS in_total,
    coalesce(r.run_seconds IS NOT NULL AND r.is_last_run AND r.task_state = 'completed', FALSE)
        AS in_ideal,
    coalesce(r.run_seconds IS NOT NULL AND r.task_state = 'completed', FALSE) AS in_compute
FROM group_tasks AS t
LEFT JOIN priced AS r ON r.task_id = t.task_id
