-- dora_time_to_restore: legacy (DORA 2021) time to restore service, incident opened -> resolved,
-- whatever caused it; failed deployment recovery time replaced it in 2023.
-- grain: one row per resolved incident (service, incident_id). inputs: dora_incidents.
SELECT
    service,
    environment,
    incident_id,
    opened_at,
    resolved_at,
    epoch(resolved_at) - epoch(opened_at) AS restore_s
FROM dora_incidents
WHERE opened_at IS NOT NULL AND resolved_at >= opened_at
