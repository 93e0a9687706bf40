-- Delivery events (issue 6): what CI and operations report, and the DORA benchmark tiers.

-- One row per reported event. event_id is the client's id, the Idempotency-Key, or a hash of the
-- normalised body, so a replayed event keeps one row (the first write wins).
-- The columns after `environment` apply to some kinds only (see docs/delivery.md).
CREATE TABLE delivery_events (
    service VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    action VARCHAR,
    occurred_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    environment VARCHAR,
    result VARCHAR,
    deployment_id VARCHAR,
    incident_id VARCHAR,
    change_id VARCHAR,
    cause_commit VARCHAR,
    is_rollback BOOLEAN NOT NULL,
    is_hotfix BOOLEAN NOT NULL,
    is_planned BOOLEAN,
    origin VARCHAR NOT NULL,
    metadata JSON NOT NULL,
    PRIMARY KEY (service, event_id)
);

-- The commits an event names (a push's commits, a deployment's, a change's), one row each.
-- kind, occurred_at, environment and result repeat the event's, so the DORA models find push
-- and deployment times of millions of commits without joining back to the events.
CREATE TABLE delivery_event_commits (
    service VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    commit_sha VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    environment VARCHAR,
    result VARCHAR,
    PRIMARY KEY (service, event_id, commit_sha)
);

-- Benchmark tiers per DORA report, and the Quick Check answer bands with their 0-10 scores.
-- A value v is in a row when lower < v < upper, plus v = lower when upper_inclusive is false
-- and v = upper when it is true; a NULL bound is open. Units: deployments per day, seconds, ratios.
-- A score is score_low at lower_bound (0 when open) moving linearly to score_high at upper_bound.
CREATE TABLE dora_benchmarks (
    report VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,
    lower_bound DOUBLE,
    upper_bound DOUBLE,
    upper_inclusive BOOLEAN NOT NULL,
    label VARCHAR NOT NULL,
    score_low DOUBLE,
    score_high DOUBLE,
    note VARCHAR,
    PRIMARY KEY (report, metric, tier)
);

-- 2021 report (upstream.md §1.4, DevLake's seeded rows).
INSERT INTO dora_benchmarks VALUES
    ('2021', 'deployment_frequency', 'elite', 1.0, NULL, FALSE, 'on demand (multiple deploys per day)', NULL, NULL, NULL),
    ('2021', 'deployment_frequency', 'high', 0.0333333333333333, 1.0, FALSE, 'between once per day and once per month', NULL, NULL, NULL),
    ('2021', 'deployment_frequency', 'medium', 0.0054945054945055, 0.0333333333333333, FALSE, 'between once per month and once every six months', NULL, NULL, NULL),
    ('2021', 'deployment_frequency', 'low', NULL, 0.0054945054945055, FALSE, 'fewer than once per six months', NULL, NULL, NULL),
    ('2021', 'change_lead_time', 'elite', NULL, 3600, FALSE, 'less than one hour', NULL, NULL, NULL),
    ('2021', 'change_lead_time', 'high', 3600, 604800, FALSE, 'between one hour and one week', NULL, NULL, NULL),
    ('2021', 'change_lead_time', 'medium', 604800, 15724800, FALSE, 'between one week and six months', NULL, NULL, NULL),
    ('2021', 'change_lead_time', 'low', 15724800, NULL, FALSE, 'more than six months', NULL, NULL, NULL),
    ('2021', 'change_fail_rate', 'elite', NULL, 0.15, TRUE, '0-15 %', NULL, NULL, NULL),
    ('2021', 'change_fail_rate', 'high', 0.15, 0.20, TRUE, '16-20 %', NULL, NULL, NULL),
    ('2021', 'change_fail_rate', 'medium', 0.20, 0.30, TRUE, '21-30 %', NULL, NULL, NULL),
    ('2021', 'change_fail_rate', 'low', 0.30, NULL, TRUE, 'more than 30 %', NULL, NULL, NULL),
    ('2021', 'time_to_restore', 'elite', NULL, 3600, FALSE, 'less than one hour', NULL, NULL, NULL),
    ('2021', 'time_to_restore', 'high', 3600, 86400, FALSE, 'less than one day', NULL, NULL, NULL),
    ('2021', 'time_to_restore', 'medium', 86400, 604800, FALSE, 'between one day and one week', NULL, NULL, NULL),
    ('2021', 'time_to_restore', 'low', 604800, NULL, FALSE, 'more than one week', NULL, NULL, NULL);

-- 2023 report (DevLake's 2023 migration; failed deployment recovery time replaces time to restore).
INSERT INTO dora_benchmarks VALUES
    ('2023', 'deployment_frequency', 'elite', 1.0, NULL, FALSE, 'on demand', NULL, NULL, NULL),
    ('2023', 'deployment_frequency', 'high', 0.1428571428571428, 1.0, FALSE, 'between once per day and once per week', NULL, NULL, NULL),
    ('2023', 'deployment_frequency', 'medium', 0.0333333333333333, 0.1428571428571428, FALSE, 'between once per week and once per month', NULL, NULL, NULL),
    ('2023', 'deployment_frequency', 'low', NULL, 0.0333333333333333, FALSE, 'fewer than once per month', NULL, NULL, NULL),
    ('2023', 'change_lead_time', 'elite', NULL, 86400, FALSE, 'less than one day', NULL, NULL, NULL),
    ('2023', 'change_lead_time', 'high', 86400, 604800, FALSE, 'between one day and one week', NULL, NULL, NULL),
    ('2023', 'change_lead_time', 'medium', 604800, 2592000, FALSE, 'between one week and one month', NULL, NULL, NULL),
    ('2023', 'change_lead_time', 'low', 2592000, NULL, FALSE, 'more than one month', NULL, NULL, NULL),
    ('2023', 'change_fail_rate', 'elite', NULL, 0.05, TRUE, '0-5 %', NULL, NULL, NULL),
    ('2023', 'change_fail_rate', 'high', 0.05, 0.10, TRUE, '5-10 %', NULL, NULL, NULL),
    ('2023', 'change_fail_rate', 'medium', 0.10, 0.15, TRUE, '10-15 %', NULL, NULL, NULL),
    ('2023', 'change_fail_rate', 'low', 0.15, NULL, TRUE, 'more than 15 %', NULL, NULL, NULL),
    ('2023', 'failed_deployment_recovery_time', 'elite', NULL, 3600, FALSE, 'less than one hour', NULL, NULL, NULL),
    ('2023', 'failed_deployment_recovery_time', 'high', 3600, 86400, FALSE, 'less than one day', NULL, NULL, NULL),
    ('2023', 'failed_deployment_recovery_time', 'medium', 86400, 604800, FALSE, 'between one day and one week', NULL, NULL, NULL),
    ('2023', 'failed_deployment_recovery_time', 'low', 604800, NULL, FALSE, 'more than one week', NULL, NULL, NULL);

-- 2024 report: it publishes cluster values, not boundaries (upstream.md §3). Boundaries
-- below follow the published words; where the report leaves a gap or an overlap, the note says
-- what shipgauge chose. Deployment rework rate has no published tiers in any report.
INSERT INTO dora_benchmarks VALUES
    ('2024', 'deployment_frequency', 'elite', 1.0, NULL, FALSE, 'on demand (multiple deploys per day)', NULL, NULL, NULL),
    ('2024', 'deployment_frequency', 'high', 0.1428571428571428, 1.0, FALSE, 'between once per day and once per week', NULL, NULL, NULL),
    ('2024', 'deployment_frequency', 'medium', 0.0333333333333333, 0.1428571428571428, FALSE, 'between once per week and once per month', NULL, NULL, NULL),
    ('2024', 'deployment_frequency', 'low', NULL, 0.0333333333333333, FALSE, 'between once per month and once every six months', NULL, NULL, 'below once per six months also counts as low'),
    ('2024', 'change_lead_time', 'elite', NULL, 86400, FALSE, 'less than one day', NULL, NULL, NULL),
    ('2024', 'change_lead_time', 'high', 86400, 604800, FALSE, 'between one day and one week', NULL, NULL, NULL),
    ('2024', 'change_lead_time', 'medium', 604800, 2592000, FALSE, 'between one week and one month', NULL, NULL, NULL),
    ('2024', 'change_lead_time', 'low', 2592000, NULL, FALSE, 'between one month and six months', NULL, NULL, 'above six months also counts as low'),
    ('2024', 'change_fail_rate', 'elite', NULL, 0.075, TRUE, 'about 5 %', NULL, NULL, 'nearest published cluster value (5 %)'),
    ('2024', 'change_fail_rate', 'medium', 0.075, 0.15, TRUE, 'about 10 %', NULL, NULL, 'nearest published cluster value (10 %); the report puts medium below high'),
    ('2024', 'change_fail_rate', 'high', 0.15, 0.30, TRUE, 'about 20 %', NULL, NULL, 'nearest published cluster value (20 %)'),
    ('2024', 'change_fail_rate', 'low', 0.30, NULL, TRUE, 'about 40 %', NULL, NULL, 'nearest published cluster value (40 %)'),
    ('2024', 'failed_deployment_recovery_time', 'elite', NULL, 3600, FALSE, 'less than one hour', NULL, NULL, NULL),
    ('2024', 'failed_deployment_recovery_time', 'high', 3600, 86400, FALSE, 'less than one day', NULL, NULL, NULL),
    ('2024', 'failed_deployment_recovery_time', 'medium', 86400, 604800, FALSE, 'between one day and one week', NULL, NULL, 'the report gives medium and high both as less than one day; shipgauge keeps the 2023 bound'),
    ('2024', 'failed_deployment_recovery_time', 'low', 604800, NULL, FALSE, 'between one week and one month', NULL, NULL, 'above one month also counts as low'),
    ('2024', 'deployment_rework_rate', 'elite', NULL, 0.05, TRUE, '0-5 %', NULL, NULL, 'not published; shipgauge uses the 2023 change fail rate bounds'),
    ('2024', 'deployment_rework_rate', 'high', 0.05, 0.10, TRUE, '5-10 %', NULL, NULL, 'not published; shipgauge uses the 2023 change fail rate bounds'),
    ('2024', 'deployment_rework_rate', 'medium', 0.10, 0.15, TRUE, '10-15 %', NULL, NULL, 'not published; shipgauge uses the 2023 change fail rate bounds'),
    ('2024', 'deployment_rework_rate', 'low', 0.15, NULL, TRUE, 'more than 15 %', NULL, NULL, 'not published; shipgauge uses the 2023 change fail rate bounds');

-- Quick Check (dora.dev, 2026-04): answers 1..6 score 0..10 linearly; percentages 0..100 % score
-- 10..0. Deployment frequency answers 5 and 6 overlap in the survey's words; shipgauge reads 5 as
-- about daily and 6 as several deploys per day.
INSERT INTO dora_benchmarks VALUES
    ('quick_check', 'deployment_frequency', '6', 2.0, NULL, FALSE, 'on demand (multiple deploys per day)', 10, 10, NULL),
    ('quick_check', 'deployment_frequency', '5', 1.0, 2.0, FALSE, 'between once per hour and once per day', 8, 8, NULL),
    ('quick_check', 'deployment_frequency', '4', 0.1428571428571428, 1.0, FALSE, 'between once per day and once per week', 6, 6, NULL),
    ('quick_check', 'deployment_frequency', '3', 0.0333333333333333, 0.1428571428571428, FALSE, 'between once per week and once per month', 4, 4, NULL),
    ('quick_check', 'deployment_frequency', '2', 0.0054945054945055, 0.0333333333333333, FALSE, 'between once per month and once every six months', 2, 2, NULL),
    ('quick_check', 'deployment_frequency', '1', NULL, 0.0054945054945055, FALSE, 'less than once per six months', 0, 0, NULL),
    ('quick_check', 'change_lead_time', '6', NULL, 3600, FALSE, 'less than one hour', 10, 10, NULL),
    ('quick_check', 'change_lead_time', '5', 3600, 86400, FALSE, 'less than one day', 8, 8, NULL),
    ('quick_check', 'change_lead_time', '4', 86400, 604800, FALSE, 'one day to one week', 6, 6, NULL),
    ('quick_check', 'change_lead_time', '3', 604800, 2592000, FALSE, 'one week to one month', 4, 4, NULL),
    ('quick_check', 'change_lead_time', '2', 2592000, 15724800, FALSE, 'one to six months', 2, 2, NULL),
    ('quick_check', 'change_lead_time', '1', 15724800, NULL, FALSE, 'more than six months', 0, 0, NULL),
    ('quick_check', 'failed_deployment_recovery_time', '6', NULL, 3600, FALSE, 'less than one hour', 10, 10, NULL),
    ('quick_check', 'failed_deployment_recovery_time', '5', 3600, 86400, FALSE, 'less than one day', 8, 8, NULL),
    ('quick_check', 'failed_deployment_recovery_time', '4', 86400, 604800, FALSE, 'one day to one week', 6, 6, NULL),
    ('quick_check', 'failed_deployment_recovery_time', '3', 604800, 2592000, FALSE, 'one week to one month', 4, 4, NULL),
    ('quick_check', 'failed_deployment_recovery_time', '2', 2592000, 15724800, FALSE, 'one to six months', 2, 2, NULL),
    ('quick_check', 'failed_deployment_recovery_time', '1', 15724800, NULL, FALSE, 'more than six months', 0, 0, NULL),
    ('quick_check', 'time_to_restore', '6', NULL, 3600, FALSE, 'less than one hour', 10, 10, 'scored like failed deployment recovery time'),
    ('quick_check', 'time_to_restore', '5', 3600, 86400, FALSE, 'less than one day', 8, 8, 'scored like failed deployment recovery time'),
    ('quick_check', 'time_to_restore', '4', 86400, 604800, FALSE, 'one day to one week', 6, 6, 'scored like failed deployment recovery time'),
    ('quick_check', 'time_to_restore', '3', 604800, 2592000, FALSE, 'one week to one month', 4, 4, 'scored like failed deployment recovery time'),
    ('quick_check', 'time_to_restore', '2', 2592000, 15724800, FALSE, 'one to six months', 2, 2, 'scored like failed deployment recovery time'),
    ('quick_check', 'time_to_restore', '1', 15724800, NULL, FALSE, 'more than six months', 0, 0, 'scored like failed deployment recovery time'),
    ('quick_check', 'change_fail_rate', 'percent', NULL, 1, TRUE, '0-100 %', 10, 0, NULL),
    ('quick_check', 'deployment_rework_rate', 'percent', NULL, 1, TRUE, '0-100 %', 10, 0, NULL);
