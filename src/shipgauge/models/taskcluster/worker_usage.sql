-- worker_usage: seconds each worker instance was up, per day, and how that was measured.
-- grain: one row per (cloud_provider, project, zone, instance_id, usage_start_date, attribution_method).
-- inputs: worker_metrics. attribution_method: gcp_monitoring_instance_uptime (Cloud Monitoring),
-- azure_billing_vm_quantity (Azure VM hours × 3600), uptime_file (`metrics --file`);
-- fxci_derived.worker_usage_v1 (upstream.md A.10).
-- quirk: a NULL cloud_provider (worker_metrics_v1 has none; an uptime file may name none) is
-- 'gcp', as upstream's cost query reads it.
SELECT
    coalesce(cloud_provider, 'gcp') AS cloud_provider,
    project,
    zone,
    instance_id,
    submission_date AS usage_start_date,
    sum(uptime) AS uptime,
    method AS attribution_method
FROM worker_metrics
GROUP BY coalesce(cloud_provider, 'gcp'), project, zone, instance_id, submission_date, method
