-- dora_summary: the five DORA metrics (with legacy time to restore, the lead-time parts and the
-- Quick Check overall score) per service and environment over a report window, each with its
-- benchmark tier and Quick Check score (0-10).
-- grain: one row per (service, environment, bucket, bucket_start, metric).
-- inputs: dora_metric_samples, dora_deployments, dora_benchmarks.
-- window: report_window below, the last 90 days as one bucket with 2023 tiers. `shipgauge dora
-- report` and GET /api/v1/dora run this same SELECT with their own window (queries/delivery.py
-- replaces report_window; bucket is all, day, week or month). report_window may hold one row per
-- bucket kind over the same bounds (all and week, say): the samples are read once for all of them.
-- value: deployment_frequency in successful deployments per day of the bucket; change_lead_time,
-- the recovery times and the parts as medians in seconds (p75, p90 beside); change_fail_rate and
-- deployment_rework_rate as ratios; deployment_days counts days with a deployment;
-- deploy_days_per_week_median is the DevOps Toolkit's deployment frequency, the median over the
-- window's Monday-Sunday weeks of weekdays with a deployment (docs/upstream.md B.3).
-- tiers: a metric missing from the chosen report takes the newest report that has it
-- (time_to_restore: 2021; deployment_rework_rate: 2024 with shipgauge's bounds).
WITH report_window AS (
    SELECT
        current_timestamp - INTERVAL 90 DAY AS start_at,
        current_timestamp AS end_at,
        'all' AS bucket,
        '2023' AS benchmark
),
buckets AS (
    SELECT
        bucket,
        start_at AS bucket_start
    FROM report_window
    WHERE bucket = 'all'
    UNION ALL
    SELECT
        w.bucket,
        g.bucket_start
    FROM report_window AS w,
        generate_series(
            CASE w.bucket
                WHEN 'day' THEN date_trunc('day', w.start_at)
                WHEN 'week' THEN date_trunc('week', w.start_at)
                ELSE date_trunc('month', w.start_at)
            END,
            w.end_at - INTERVAL 1 MICROSECOND,
            CASE w.bucket
                WHEN 'day' THEN INTERVAL 1 DAY
                WHEN 'week' THEN INTERVAL 7 DAY
                ELSE INTERVAL 1 MONTH
            END
        ) AS g(bucket_start)
    WHERE w.bucket <> 'all'
),
bounded_buckets AS (
    SELECT
        b.bucket,
        b.bucket_start,
        (
            epoch(
                least(
                    w.end_at,
                    CASE w.bucket
                        WHEN 'day' THEN b.bucket_start + INTERVAL 1 DAY
                        WHEN 'week' THEN b.bucket_start + INTERVAL 7 DAY
                        WHEN 'month' THEN b.bucket_start + INTERVAL 1 MONTH
                        ELSE w.end_at
                    END
                )
            )
            - epoch(greatest(w.start_at, b.bucket_start))
        ) / 86400 AS days
    FROM buckets AS b
    JOIN report_window AS w ON w.bucket = b.bucket
),
windowed AS (
    SELECT
        s.service,
        s.environment,
        s.metric,
        s.sampled_at,
        s.value,
        s.link_method,
        w.bucket,
        CASE w.bucket
            WHEN 'day' THEN date_trunc('day', s.sampled_at)
            WHEN 'week' THEN date_trunc('week', s.sampled_at)
            WHEN 'month' THEN date_trunc('month', s.sampled_at)
            ELSE w.start_at
        END AS bucket_start
    FROM dora_metric_samples AS s
    CROSS JOIN report_window AS w
    WHERE s.sampled_at >= w.start_at AND s.sampled_at < w.end_at
),
aggregated AS (
    SELECT
        service,
        environment,
        bucket,
        bucket_start,
        metric,
        count(*) AS samples,
        avg(value) AS mean,
        quantile_cont(value, [0.5, 0.75, 0.9]) AS quantiles,
        count(*) FILTER (WHERE link_method = 'explicit_id') AS explicit_id_links,
        count(*) FILTER (WHERE link_method = 'commit_sha') AS commit_sha_links,
        count(*) FILTER (WHERE link_method = 'time_heuristic') AS time_heuristic_links
    FROM windowed
    WHERE metric <> 'deployment_frequency'
    GROUP BY service, environment, bucket, bucket_start, metric
),
deployed_buckets AS (
    SELECT
        service,
        environment,
        bucket,
        bucket_start,
        count(*) AS deployments,
        count(DISTINCT CAST(sampled_at AS DATE)) AS days
    FROM windowed
    WHERE metric = 'deployment_frequency'
    GROUP BY service, environment, bucket, bucket_start
),
pairs AS (
    SELECT DISTINCT
        service,
        environment
    FROM dora_deployments
),
deployment_counts AS (
    SELECT
        p.service,
        p.environment,
        b.bucket,
        b.bucket_start,
        b.days AS bucket_days,
        coalesce(a.deployments, 0) AS deployments,
        coalesce(a.days, 0) AS deployment_days
    FROM pairs AS p
    CROSS JOIN bounded_buckets AS b
    LEFT JOIN deployed_buckets AS a
        ON
            a.service = p.service
            AND a.environment = p.environment
            AND a.bucket = b.bucket
            AND a.bucket_start = b.bucket_start
),
weeks AS (
    SELECT g.week_start
    FROM report_window AS w,
        generate_series(
            date_trunc('week', w.start_at),
            date_trunc('week', w.end_at - INTERVAL 1 MICROSECOND),
            INTERVAL 7 DAY
        ) AS g(week_start)
    WHERE w.bucket = 'all'
),
weekday_deploy_days AS (
    SELECT
        d.service,
        d.environment,
        date_trunc('week', d.deployed_at) AS week_start,
        count(DISTINCT CAST(d.deployed_at AS DATE)) AS days
    FROM dora_deployments AS d
    CROSS JOIN report_window AS w
    WHERE
        w.bucket = 'all'
        AND d.result = 'success'
        AND d.deployed_at >= date_trunc('week', w.start_at)
        AND d.deployed_at < date_trunc('week', w.end_at - INTERVAL 1 MICROSECOND) + INTERVAL 7 DAY
        AND extract(isodow FROM d.deployed_at) <= 5
    GROUP BY d.service, d.environment, date_trunc('week', d.deployed_at)
),
seed_frequency AS (
    SELECT
        p.service,
        p.environment,
        'all' AS bucket,
        min(w.start_at) AS bucket_start,
        quantile_cont(coalesce(dd.days, 0), 0.5) AS value,
        count(*) AS weeks
    FROM pairs AS p
    CROSS JOIN weeks AS k
    JOIN report_window AS w ON w.bucket = 'all'
    LEFT JOIN weekday_deploy_days AS dd
        ON
            dd.service = p.service
            AND dd.environment = p.environment
            AND dd.week_start = k.week_start
    GROUP BY p.service, p.environment
),
counted AS (
    SELECT
        service,
        environment,
        bucket,
        bucket_start,
        'deployment_frequency' AS metric,
        deployments / bucket_days AS value,
        deployments AS samples
    FROM deployment_counts
    UNION ALL
    SELECT service, environment, bucket, bucket_start, 'deployment_days', deployment_days, deployments
    FROM deployment_counts
    UNION ALL
    SELECT service, environment, bucket, bucket_start, 'deploy_days_per_week_median', value, weeks
    FROM seed_frequency
),
valued AS (
    SELECT
        service,
        environment,
        bucket,
        bucket_start,
        metric,
        CASE
            WHEN metric IN ('change_fail_rate', 'deployment_rework_rate') THEN mean
            ELSE quantiles[1]
        END AS value,
        samples,
        quantiles[1] AS p50,
        quantiles[2] AS p75,
        quantiles[3] AS p90,
        explicit_id_links,
        commit_sha_links,
        time_heuristic_links
    FROM aggregated
    UNION ALL
    SELECT service, environment, bucket, bucket_start, metric, value, samples, NULL, NULL, NULL, 0, 0, 0
    FROM counted
),
tier_reports AS (
    SELECT
        b.metric,
        coalesce(max(b.report) FILTER (WHERE b.report = w.benchmark), max(b.report)) AS report
    FROM dora_benchmarks AS b
    CROSS JOIN report_window AS w
    WHERE b.report <> 'quick_check'
    GROUP BY b.metric
),
tiered AS (
    SELECT
        v.*,
        t.tier,
        t.report AS tier_report,
        t.label AS tier_label,
        CASE
            WHEN q.score_low = q.score_high THEN q.score_low
            ELSE
                q.score_low
                + (v.value - coalesce(q.lower_bound, 0))
                / (q.upper_bound - coalesce(q.lower_bound, 0))
                * (q.score_high - q.score_low)
        END AS score
    FROM valued AS v
    LEFT JOIN tier_reports AS r ON r.metric = v.metric
    LEFT JOIN dora_benchmarks AS t
        ON
            t.report = r.report
            AND t.metric = v.metric
            AND (
                t.lower_bound IS NULL
                OR v.value > t.lower_bound
                OR (v.value = t.lower_bound AND NOT t.upper_inclusive)
            )
            AND (
                t.upper_bound IS NULL
                OR v.value < t.upper_bound
                OR (v.value = t.upper_bound AND t.upper_inclusive)
            )
    LEFT JOIN dora_benchmarks AS q
        ON
            q.report = 'quick_check'
            AND q.metric = v.metric
            AND (
                q.lower_bound IS NULL
                OR v.value > q.lower_bound
                OR (v.value = q.lower_bound AND NOT q.upper_inclusive)
            )
            AND (
                q.upper_bound IS NULL
                OR v.value < q.upper_bound
                OR (v.value = q.upper_bound AND q.upper_inclusive)
            )
)
SELECT
    service,
    environment,
    bucket,
    bucket_start,
    metric,
    value,
    samples,
    p50,
    p75,
    p90,
    tier,
    tier_report,
    tier_label,
    score,
    explicit_id_links,
    commit_sha_links,
    time_heuristic_links
FROM tiered
UNION ALL
SELECT
    service,
    environment,
    bucket,
    bucket_start,
    'quick_check_overall',
    avg(score),
    count(score),
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    avg(score),
    0,
    0,
    0
FROM tiered
WHERE
    metric IN (
        'deployment_frequency',
        'change_lead_time',
        'change_fail_rate',
        'failed_deployment_recovery_time',
        'deployment_rework_rate'
    )
GROUP BY service, environment, bucket, bucket_start
