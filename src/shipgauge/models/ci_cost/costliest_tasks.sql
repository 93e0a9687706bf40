-- costliest_tasks: CI cost per task label and UTC day of the push, to rank over any window.
-- grain: one row per (repo, mode, label, push_day). inputs: push_task_runs, pushes.
-- Sum over the days of a window and order by total_cost (`ci-cost report --by task` does).
-- label is the task's `label` tag; tasks without one are grouped under '(no label)'. Costs are
-- NULL when no run they cover is priced (unpriced_seconds counts those runs).
SELECT
    r.repo,
    r.mode,
    coalesce(r.label, '(no label)') AS label,
    CAST(timezone('UTC', p.pushed_at) AS DATE) AS push_day,
    count(DISTINCT r.task_id) AS tasks,
    count(CASE WHEN r.in_total THEN 1 END) AS runs,
    count(CASE WHEN r.in_total AND r.state IN ('failed', 'exception') THEN 1 END) AS failed_runs,
    coalesce(sum(CASE WHEN r.in_total THEN r.run_seconds END), 0) AS run_seconds,
    sum(CASE WHEN r.in_total THEN r.cost END) AS total_cost,
    sum(CASE WHEN r.in_ideal THEN r.cost END) AS ideal_cost,
    coalesce(sum(CASE WHEN r.in_total AND r.cost IS NULL THEN r.run_seconds END), 0)
        AS unpriced_seconds
FROM push_task_runs AS r
JOIN pushes AS p ON p.repo = r.repo AND p.push_id = r.push_id
GROUP BY r.repo, r.mode, coalesce(r.label, '(no label)'), CAST(timezone('UTC', p.pushed_at) AS DATE)
