-- push_costs: what the CI of each push cost, by the three measures of measuring_ci.
-- grain: one row per (repo, push_id, mode) of push_task_groups.
-- inputs: push_task_groups, pushes, push_task_runs.
-- total_cost: every run with started and resolved (failures and retries included); ideal_cost:
-- the last run of each task that completed; compute_seconds: every run of the tasks that
-- completed (upstream.md §A.9, quirk Q6: three different run filters).
-- Costs are NULL until a group is listed, and when every run they cover is unpriced;
-- unpriced_seconds are run seconds no cost source prices (counted, never priced as 0: quirk Q5).
-- A listed group without runs costs 0. Shares are of total_cost.
WITH run_sums AS (
    SELECT
        repo,
        push_id,
        mode,
        count(CASE WHEN is_last_run OR run_id IS NULL THEN 1 END) AS tasks,
        count(CASE WHEN in_total THEN 1 END) AS runs,
        count(CASE WHEN in_ideal THEN 1 END) AS ideal_runs,
        count(CASE WHEN in_total AND NOT is_last_run THEN 1 END) AS retried_runs,
        count(CASE WHEN in_total AND state IN ('failed', 'exception') THEN 1 END) AS failed_runs,
        sum(CASE WHEN in_total THEN run_seconds END) AS run_seconds,
        sum(CASE WHEN in_compute THEN run_seconds END) AS compute_seconds,
        sum(CASE WHEN in_total THEN cost END) AS total_cost,
        sum(CASE WHEN in_ideal THEN cost END) AS ideal_cost,
        sum(CASE WHEN in_total AND state IN ('failed', 'exception') THEN cost END) AS failed_cost,
        sum(CASE WHEN in_total AND NOT is_last_run THEN cost END) AS retried_cost,
        sum(CASE WHEN in_total AND cost IS NULL THEN run_seconds END) AS unpriced_seconds,
        bool_or(in_total AND pricing_method = 'instance_billing') AS by_instance,
        bool_or(in_total AND pricing_method = 'unpriced') AS by_none,
        bool_or(in_total AND pricing_method = 'worker_type_rate') AS by_rate
    FROM push_task_runs
    GROUP BY repo, push_id, mode
)
SELECT
    g.repo,
    g.push_id,
    g.mode,
    p.pushed_at,
    p.push_user,
    p.changeset_count,
    g.revision,
    g.task_group_id,
    g.state AS group_state,
    g.reason AS group_reason,
    coalesce(r.tasks, 0) AS tasks,
    coalesce(r.runs, 0) AS runs,
    coalesce(r.retried_runs, 0) AS retried_runs,
    coalesce(r.failed_runs, 0) AS failed_runs,
    coalesce(r.run_seconds, 0) AS run_seconds,
    coalesce(r.compute_seconds, 0) AS compute_seconds,
    CASE
        WHEN g.task_group_id IS NOT NULL AND coalesce(r.runs, 0) = 0 THEN 0
        ELSE r.total_cost
    END AS total_cost,
    CASE
        WHEN g.task_group_id IS NOT NULL AND coalesce(r.ideal_runs, 0) = 0 THEN 0
        ELSE r.ideal_cost
    END AS ideal_cost,
    coalesce(r.failed_cost, 0) / nullif(r.total_cost, 0) AS failed_cost_share,
    coalesce(r.retried_cost, 0) / nullif(r.total_cost, 0) AS retried_cost_share,
    coalesce(r.unpriced_seconds, 0) AS unpriced_seconds,
    nullif(
        concat_ws(
            ',',
            CASE WHEN r.by_instance THEN 'instance_billing' END,
            CASE WHEN r.by_none THEN 'unpriced' END,
            CASE WHEN r.by_rate THEN 'worker_type_rate' END
        ),
        ''
    ) AS pricing_methods
FROM push_task_groups AS g
JOIN pushes AS p ON p.repo = g.repo AND p.push_id = g.push_id
LEFT JOIN run_sums AS r ON r.repo = g.repo AND r.push_id = g.push_id AND r.mode = g.mode
