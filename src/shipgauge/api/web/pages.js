// The dashboard's pages: each panel names the SQL model it reads and how to draw it.
// A panel whose model is not in this store (capability not loaded) says so instead of failing.
window.SHIPGAUGE_PAGES = {
  overview: {
    title: "Overview",
    panels: [
      { title: "Ingest status", model: "ingest_status", table: true },
      { title: "Dead letters by source", model: "dead_letter_summary",
        chart: { type: "bar", x: "source", y: "letters" } },
    ],
  },
  "ci-cost": {
    title: "CI cost",
    panels: [
      { title: "Cost per push", model: "push_costs", orderBy: "push_id",
        chart: { type: "bar", x: "push_id", y: "total_cost" }, table: true,
        columns: ["repo", "push_id", "revision", "group_state", "tasks", "runs", "failed_runs",
                  "total_cost", "ideal_cost", "unpriced_seconds"] },
      { title: "Task run cost by day", model: "task_costs_by_day", orderBy: "day",
        chart: { type: "line", x: "day", y: "cost", sortX: true } },
      { title: "Cost by worker pool", model: "cost_by_worker_pool", orderBy: "-cost",
        chart: { type: "bar", x: "worker_pool", y: "cost" } },
      { title: "Costliest tasks", model: "costliest_tasks", orderBy: "-total_cost", table: true,
        tableRows: 15, columns: ["repo", "label", "tasks", "runs", "failed_runs", "total_cost"] },
      { title: "Unpriced worker pools", model: "unpriced_worker_pools", table: true },
    ],
  },
  reviews: {
    title: "Reviews",
    panels: [
      { title: "Review systems by week", model: "review_systems_by_week", orderBy: "week",
        chart: { type: "bar", x: "week", y: "changesets", series: "review_system", sortX: true } },
      { title: "Changes without a review", model: "unreviewed_changes", table: true,
        columns: ["repo", "push_id", "changeset", "review_system", "rule", "bug_id", "summary"] },
    ],
  },
  builds: {
    title: "Builds",
    panels: [
      { title: "Builds published per day", model: "builds_by_day", orderBy: "day",
        chart: { type: "bar", x: "day", y: "records", series: "channel", sortX: true } },
      { title: "Latest build per product, channel, platform and locale", model: "builds_latest",
        table: true, columns: ["product", "channel", "platform", "locale", "version", "build_id", "build_date"] },
    ],
  },
  dora: {
    title: "DORA",
    panels: [
      { title: "Quick Check overall score (0-10), production", model: "dora_summary",
        filter: { environment: "production", metric: "quick_check_overall" },
        chart: { type: "bar", x: "service", y: "score" } },
      { title: "DORA metrics, tiers and scores, production", model: "dora_summary", orderBy: "service",
        filter: { environment: "production" }, table: true, tableRows: 100,
        columns: ["service", "metric", "value", "p50", "p90", "samples", "tier", "score"] },
    ],
  },
};
