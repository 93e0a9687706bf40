-- task_costs: each task with its known tags, how many runs it had and what they cost in all.
-- grain: one row per task_id. inputs: tasks, task_run_costs.
-- quirk: total_cost sums priced runs only; unpriced_runs says how many runs have no price.
WITH run_totals AS (
    SELECT
        task_id,
        count(*) AS runs,
        count(run_cost) AS priced_runs,
        CAST(sum(run_duration) AS BIGINT) AS run_seconds,
        sum(run_cost) AS total_cost
    FROM task_run_costs
    GROUP BY task_id
)
SELECT
    t.task_id,
    t.task_group_id,
    t.scheduler_id,
    t.task_queue_id AS worker_pool,
    t.provisioner_id,
    t.worker_type,
    t.project_id,
    coalesce(t.project, t.project_id) AS project,
    t.kind,
    t.label,
    t.os,
    t.created_for_user,
    t.owned_by,
    t.trust_domain,
    t.worker_implementation,
    t.test_suite,
    t.test_platform,
    t.test_variant,
    t.tags,
    t.deadline,
    t.expires,
    t.submission_date,
    coalesce(r.runs, 0) AS runs,
    coalesce(r.priced_runs, 0) AS priced_runs,
    coalesce(r.runs, 0) - coalesce(r.priced_runs, 0) AS unpriced_runs,
    r.run_seconds,
    r.total_cost
FROM tasks AS t
LEFT JOIN run_totals AS r ON r.task_id = t.task_id
