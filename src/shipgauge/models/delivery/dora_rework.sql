-- dora_rework: whether each successful deployment was rework: unplanned and made because of an
-- incident (DORA 2024+ deployment rework rate; no peer computes it, upstream.md §8.4).
-- grain: one row per successful deployment (service, event_id).
-- inputs: dora_deployments, dora_incidents.
-- planned = true is never rework and planned = false always is; otherwise a deployment is rework
-- when it is a rollback or hotfix or names the incident it fixes. rework_reason: rollback,
-- hotfix, incident or unplanned. The incident it answers, with link_method:
--   explicit_id    the deployment named it (incident_id);
--   time_heuristic an incident of its service and environment open at deployment time;
--   NULL           flagged, but no incident known.
-- report_start: the view covers all history; a DORA report (queries/delivery.py) sets its window's
-- start, before which no deployment is read.
WITH report_start AS (
    SELECT CAST('-infinity' AS TIMESTAMPTZ) AS start_at
),
deployments AS (
    SELECT
        d.*,
        CASE
            WHEN d.is_planned IS NOT NULL THEN NOT d.is_planned
            ELSE d.is_rollback OR d.is_hotfix OR d.fixes_incident_id IS NOT NULL
        END AS is_rework
    FROM dora_deployments AS d
    CROSS JOIN report_start AS r
    WHERE d.result = 'success' AND d.deployed_at >= r.start_at
),
open_incidents AS (
    SELECT
        d.service,
        d.event_id,
        min(i.incident_id) AS incident_id
    FROM deployments AS d
    JOIN dora_incidents AS i
        ON
            i.service = d.service
            AND i.environment = d.environment
            AND i.detected_at <= d.deployed_at
            AND (i.resolved_at IS NULL OR i.resolved_at >= d.deployed_at)
    WHERE d.is_rework AND d.fixes_incident_id IS NULL
    GROUP BY d.service, d.event_id
)
SELECT
    d.service,
    d.environment,
    d.deployment_id,
    d.event_id,
    d.deployed_at,
    d.is_rework,
    CASE
        WHEN NOT d.is_rework THEN NULL
        WHEN d.is_rollback THEN 'rollback'
        WHEN d.is_hotfix THEN 'hotfix'
        WHEN d.fixes_incident_id IS NOT NULL THEN 'incident'
        ELSE 'unplanned'
    END AS rework_reason,
    CASE WHEN d.is_rework THEN coalesce(d.fixes_incident_id, o.incident_id) END AS incident_id,
    CASE
        WHEN NOT d.is_rework THEN NULL
        WHEN d.fixes_incident_id IS NOT NULL THEN 'explicit_id'
        WHEN o.incident_id IS NOT NULL THEN 'time_heuristic'
    END AS link_method
FROM deployments AS d
LEFT JOIN open_incidents AS o ON o.service = d.service AND o.event_id = d.event_id
