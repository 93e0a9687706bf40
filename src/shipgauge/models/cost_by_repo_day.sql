-- cost_by_repo_day: CI cost of a repository's pushes per UTC day of the push.
-- grain: one row per (repo, mode, push_day). inputs: push_costs.
-- measuring_ci's daily totals bucketed by the group's earliest start and added up on every run
-- (quirk Q9); here the day is the push's and the sums are recomputed over all history.
SELECT
    repo,
    mode,
    CAST(timezone('UTC', pushed_at) AS DATE) AS push_day,
    count(*) AS pushes,
    count(task_group_id) AS pushes_with_group,
    sum(tasks) AS tasks,
    sum(runs) AS runs,
    sum(run_seconds) AS run_seconds,
    sum(compute_seconds) AS compute_seconds,
    coalesce(sum(total_cost), 0) AS total_cost,
    coalesce(sum(ideal_cost), 0) AS ideal_cost,
    sum(unpriced_seconds) AS unpriced_seconds
FROM push_costs
GROUP BY repo, mode, CAST(timezone('UTC', pushed_at) AS DATE)
