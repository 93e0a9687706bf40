-- cost_by_project: CI cost per project and UTC day of run resolution.
-- grain: one row per (day, project). inputs: task_run_costs, tasks.
-- project: the task's `project` tag (the repository, e.g. autoland), else its Taskcluster
-- projectId, else 'unknown'. fallback_cost: the part priced by worker-type hourly rate.
SELECT
    c.run_date AS day,
    coalesce(t.project, t.project_id, 'unknown') AS project,
    count(*) AS runs,
    count(c.run_cost) AS priced_runs,
    CAST(sum(c.run_duration) AS BIGINT) AS run_seconds,
    coalesce(sum(c.run_cost), 0) AS cost,
    coalesce(sum(CASE WHEN c.attribution_method = 'worker_type_hourly_rate' THEN c.run_cost END), 0)
        AS fallback_cost
FROM task_run_costs AS c
LEFT JOIN tasks AS t ON t.task_id = c.task_id
WHERE c.run_date IS NOT NULL
GROUP BY c.run_date, coalesce(t.project, t.project_id, 'unknown')
