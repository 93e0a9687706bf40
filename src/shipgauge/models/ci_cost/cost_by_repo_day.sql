-- cost_by_repo_day: CI cost of a repository's pushes per UTC day of the push.
-- grain: one row per (repo, mode, push_day). inputs: push_costs.
-- measuring_ci's daily totals bucketed by the group's earliest start and added up on every run
-- (quirk Q9); here the day is the push's and the sums are recomputed over all history. Costs
-- are NULL for a day with no priced run.
SELECT
    repo,
    mode,
    CAST(timezone('UTC', pushed_at) AS DATE) AS push_day,
    count(*) AS pushes,
    count(task_group_id) AS pushes_with_group,
    CAST(sum(tasks) AS BIGINT) AS tasks,
    CAST(sum(runs) AS BIGINT) AS runs,
    sum(run_seconds) AS run_seconds,
    sum(compute_seconds) AS compute_seconds,
    sum(total_cost) AS total_cost,
    sum(ideal_cost) AS ideal_cost,
    sum(unpriced_seconds) AS unpriced_seconds
FROM push_costs
GROUP BY repo, mode, CAST(timezone('UTC', pushed_at) AS DATE)
