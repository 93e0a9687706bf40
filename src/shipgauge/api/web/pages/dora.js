// DORA: a tile per metric for one service and environment (value and unit, tier, change against
// the previous window), a weekly trend per metric, and the rows behind every number.
import { el, empty, fail, getJSON, linkMethod, panel, select, table } from "../dom.js";
import { dayOf, timeChart } from "../charts.js";
import * as f from "../format.js";

export const METRICS = [
  { key: "deployment_frequency", title: "Deployment frequency", better: "higher", kind: "frequency",
    samples: "successful deployments" },
  { key: "change_lead_time", title: "Change lead time", better: "lower", kind: "duration", samples: "deployed commits" },
  { key: "change_fail_rate", title: "Change fail rate", better: "lower", kind: "ratio", samples: "deployments" },
  { key: "failed_deployment_recovery_time", title: "Failed deployment recovery time", better: "lower",
    kind: "duration", samples: "recovered deployments" },
  { key: "deployment_rework_rate", title: "Deployment rework rate", better: "lower", kind: "ratio",
    samples: "successful deployments" },
];
const TIERS = { elite: "Elite", high: "High", medium: "Medium", low: "Low" };

/** How a metric's values are shown: a scale for charts, its unit, and a formatter. */
function scaleOf(metric, reference) {
  if (metric.kind === "ratio") return { factor: 100, unit: "%", format: f.percent };
  if (metric.kind === "frequency") {
    const [factor, unit] = f.frequencyUnit(reference);
    return { factor, unit: `deployments ${unit}`, format: f.frequency };
  }
  const [divisor, unit] = f.durationUnit(reference ?? 0);
  return { factor: 1 / divisor, unit, format: f.duration };
}

function delta(metric, now, before, days) {
  const span = `the previous ${f.count(Math.round(days), "days")}`;
  if (!f.isNumber(before) || !f.isNumber(now)) return el("span", { class: "delta" }, `no value for ${span}`);
  const change = metric.kind === "ratio" ? (now - before) * 100 : before === 0 ? null : ((now - before) / before) * 100;
  if (change === null || Math.abs(change) < 0.05) return el("span", { class: "delta" }, `no change against ${span}`);
  const better = (change > 0) === (metric.better === "higher");
  const amount = metric.kind === "ratio" ? `${f.decimal(Math.abs(change))} pp` : `${f.count(Math.round(Math.abs(change)))} %`;
  return el("span", { class: `delta ${better ? "better" : "worse"}` },
    `${change > 0 ? "▲" : "▼"} ${amount} against ${span} (${scaleOf(metric, before).format(before)})`);
}

function tile(metric, now, before, days, onOpen) {
  const value = now?.value ?? null;
  const scale = scaleOf(metric, value);
  const [number, ...unit] = f.isNumber(value) ? scale.format(value).split(" ") : ["—"];
  return el("button", { type: "button", class: "tile", dataset: { metric: metric.key }, onclick: onOpen,
    title: `Show the ${metric.samples} behind ${metric.title.toLowerCase()}` },
  el("span", { class: "tile-title" }, metric.title),
  el("span", { class: "tile-value" }, number, unit.length ? el("small", {}, ` ${unit.join(" ")}`) : null),
  el("span", { class: "tile-tier" }, now?.tier ? el("span", { class: `tier tier-${now.tier}` }, TIERS[now.tier]) : el("span", { class: "tier tier-none" }, "no tier"),
    now?.tier_label ? el("span", { class: "tier-label" }, now.tier_label) : null),
  delta(metric, value, before?.value ?? null, days),
  el("span", { class: "tile-foot" }, `${f.count(now?.samples ?? 0, metric.samples)}`,
    now?.p90 ? ` · p90 ${f.duration(now.p90)}` : "", now?.tier_report ? ` · DORA ${now.tier_report} tiers` : ""));
}

function trend(metric, report, window, onPoint) {
  const m = report.metrics[metric.key];
  const reference = metric.kind === "duration"
    ? Math.max(0, ...(m?.series || []).map((p) => p.value || 0)) : m?.value;
  const scale = scaleOf(metric, reference);
  // Every week of the window is a point; a week without a sample is a gap, not a zero.
  const byWeek = new Map((m?.series || []).map((p) => [p.start, p]));
  const weeks = (report.metrics.deployment_frequency?.series || []).map((p) => p.start);
  const data = weeks.map((start) => {
    const p = byWeek.get(start) || { value: null, samples: 0 };
    return { x: dayOf(start), y: f.isNumber(p.value) ? p.value * scale.factor : null, value: p.value, samples: p.samples, start };
  });
  const section = panel(`${metric.title}, by week`, { id: `trend-${metric.key}` });
  section.dataset.metric = metric.key;
  section.append(timeChart({
    type: "line", window, unit: "week", small: true, label: `${metric.title} per week, in ${scale.unit}`,
    datasets: [{ label: metric.title, data }],
    yFormat: (v) => `${f.decimal(v)}${scale.unit === "%" ? " %" : ""}`,
    tooltip: (ctx) => [`Week of ${f.day(ctx.raw.start)}: ${f.isNumber(ctx.raw.value) ? scale.format(ctx.raw.value) : "no sample"}`,
      f.count(ctx.raw.samples, metric.samples)],
    onPoint: (_, point) => onPoint(metric, point.start),
  }), el("p", { class: "axis-note" }, `Y axis: ${scale.unit}. Click a week for its rows.`));
  section.dataset.state = data.some((p) => p.samples) ? "ready" : "empty";
  return section;
}

const at = (key, label) => ({ key, label, format: f.moment });
const COLUMNS = {
  deployments: [at("deployed_at", "Deployed"), { key: "deployment_id", label: "Deployment" },
    { key: "result", label: "Result" }, { key: "is_failure", label: "Failed", format: (v) => (v ? "yes" : "no") },
    { key: "failure_reason", label: "Why failed" }, { key: "link_method", label: "Link method", cell: (r) => linkMethod(r.link_method) },
    { key: "incidents", label: "Incidents", numeric: true, format: (v) => f.count(v) }],
  successful_deployments: [at("deployed_at", "Deployed"), { key: "deployment_id", label: "Deployment" },
    { key: "result", label: "Result" }, { key: "is_failure", label: "Failed later", format: (v) => (v ? "yes" : "no") }],
  changes: [at("deployed_at", "Deployed"), { key: "commit_sha", label: "Commit", format: f.shortSha, title: (r) => r.commit_sha },
    at("pushed_at", "Pushed"), { key: "lead_time_s", label: "Lead time", numeric: true, format: f.duration },
    { key: "link_method", label: "Link method", cell: (r) => linkMethod(r.link_method) }],
  incidents: [at("detected_at", "Detected"), { key: "incident_id", label: "Incident" }, at("resolved_at", "Resolved"),
    { key: "restore_s", label: "Time to restore", numeric: true, format: f.duration },
    { key: "deployment_id", label: "Blamed deployment" }, { key: "link_method", label: "Link method", cell: (r) => linkMethod(r.link_method) }],
  recoveries: [at("deployed_at", "Failed deployment"), { key: "deployment_id", label: "Deployment" },
    { key: "failure_reason", label: "Why failed" }, { key: "recovered_by", label: "Recovered by" }, at("recovered_at", "Recovered"),
    { key: "recovery_s", label: "Recovery time", numeric: true, format: f.duration },
    { key: "link_method", label: "Link method", cell: (r) => linkMethod(r.link_method) }],
  rework: [at("deployed_at", "Deployed"), { key: "deployment_id", label: "Deployment" },
    { key: "is_rework", label: "Rework", format: (v) => (v ? "yes" : "no") }, { key: "rework_reason", label: "Why" },
    { key: "incident_id", label: "Incident" }, { key: "link_method", label: "Link method", cell: (r) => linkMethod(r.link_method) }],
};
const FLAGGED = { deployments: "failed", incidents: "still open", rework: "rework" };

function rowsTable(answer, caption) {
  const shown = answer.rows.length;
  const flagged = FLAGGED[answer.kind] ? ` · ${f.count(answer.flagged)} ${FLAGGED[answer.kind]} (listed first)` : "";
  return [el("p", { class: "note" }, `${f.count(answer.total, "rows")} from ${answer.model}${flagged}`,
    shown < answer.total ? ` · showing the first ${f.count(shown)}` : ""),
  table(COLUMNS[answer.kind], answer.rows, { caption, rowAttrs: (r) => (r.flagged ? { class: "flagged" } : {}) })];
}

async function rowsPanel(view, title, id, params) {
  const section = panel(title, { id, wide: true });
  view.append(section);
  try {
    const answer = await getJSON("/api/v1/dora/rows", { limit: 50, ...params });
    section.append(...rowsTable(answer, title));
    section.dataset.state = "ready";
  } catch (error) { fail(section, error); }
}

export default {
  id: "dora", title: "DORA",
  async render(view, ctx, { addFilters }) {
    const services = await getJSON("/api/v1/dora/services");
    const environments = [...new Set(services.map((s) => s.environment))].sort();
    const environment = ctx.get("environment") || (environments.includes("production") ? "production" : environments[0]);
    const inEnv = services.filter((s) => s.environment === environment).sort((a, b) => b.deployments - a.deployments);
    const service = ctx.get("service") || inEnv[0]?.service;
    const names = [...new Set(services.map((s) => s.service))].sort();
    addFilters(select("service", "Service", names, service, (v) => ctx.set({ service: v })),
      select("environment", "Environment", environments, environment, (v) => ctx.set({ environment: v })));
    if (!service) {
      const section = panel("No deployments yet", { wide: true });
      empty(section, "Report deployments to POST /api/v1/events (or run `shipgauge demo`) and they show here.");
      view.append(section);
      return;
    }
    const asked = { service, environment, ...ctx.window() };
    const [report, before] = await Promise.all([getJSON("/api/v1/dora/metrics", asked),
      getJSON("/api/v1/dora/metrics", { ...asked, previous: "true" })]);
    const window = { start: report.start, end: report.end };
    const days = (new Date(report.end) - new Date(report.start)) / 86400000;
    view.append(el("p", { class: "lede" }, `${service} · ${environment} · ${f.window(report.start, report.end)} · `
      + `tiers from the DORA ${report.benchmark} report · changes against ${f.window(before.start, before.end)}`));
    const drill = panel("Rows behind a number", { id: "drill", wide: true, note: "Click a tile, or a week of a trend, to list the rows it counts." });
    drill.dataset.state = "idle";
    const open = async (metric, bucket) => {
      drill.replaceChildren(el("h2", { id: "drill-title" }, `Rows behind ${metric.title}${bucket ? `, week of ${f.day(bucket)}` : ""}`));
      drill.dataset.state = "loading";
      drill.dataset.metric = metric.key;
      drill.scrollIntoView({ block: "start" });
      try {
        const answer = await getJSON("/api/v1/dora/rows", { ...asked, metric: metric.key, bucket, limit: 200 });
        drill.append(...rowsTable(answer, `${metric.title}: rows`));
        drill.dataset.state = "ready";
      } catch (error) { fail(drill, error); }
    };
    const tiles = el("div", { class: "tiles", role: "group", "aria-label": "DORA metrics" },
      METRICS.map((m) => tile(m, report.metrics[m.key], before.metrics[m.key], days, () => open(m))));
    const trends = el("div", { class: "trends" }, METRICS.map((m) => trend(m, report, window, open)));
    view.append(tiles, trends, drill);
    await Promise.all([
      rowsPanel(view, "Deployments", "rows-deployments", { ...asked, kind: "deployments" }),
      rowsPanel(view, "Changes (deployed commits)", "rows-changes", { ...asked, kind: "changes" }),
      rowsPanel(view, "Incidents", "rows-incidents", { ...asked, kind: "incidents" }),
    ]);
  },
};
