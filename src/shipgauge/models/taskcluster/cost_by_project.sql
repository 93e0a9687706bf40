-- cost_by_project: CI cost per project and UTC day of run resolution.
-- grain: one row per (day, project). inputs: task_run_costs, tasks.
-- project: the task's `project` tag (the repository, e.g. autoland), else its Taskcluster
-- projectId, else 'unknown'. fallback_cost: the part priced by worker-type hourly rate.
-- cost and fallback_cost are NULL when no run of the row is priced, never 0; unpriced_runs and
-- unpriced_seconds count the finished runs no cost source prices.
SELECT
    c.run_date AS day,
    coalesce(t.project, t.project_id, 'unknown') AS project,
    count(*) AS runs,
    count(c.run_cost) AS priced_runs,
    CAST(sum(c.run_duration) AS BIGINT) AS run_seconds,
    sum(c.run_cost) AS cost,
    CASE
        WHEN count(c.run_cost) > 0
            THEN
                coalesce(
                    sum(
                        CASE WHEN c.attribution_method = 'worker_type_hourly_rate' THEN c.run_cost END
                    ),
                    0
                )
    END AS fallback_cost,
    count(CASE WHEN c.attribution_method = 'unpriced' THEN 1 END) AS unpriced_runs,
    coalesce(sum(CASE WHEN c.attribution_method = 'unpriced' THEN c.run_duration END), 0)
        AS unpriced_seconds
FROM task_run_costs AS c
LEFT JOIN tasks AS t ON t.task_id = c.task_id
WHERE c.run_date IS NOT NULL
GROUP BY c.run_date, coalesce(t.project, t.project_id, 'unknown')
