// CI cost: task-run cost per day stacked by worker pool or project, priced and unpriced run time,
// every pool or project with the source that priced it, and the costliest pushes (each a page).
import { el, empty, fail, getJSON, panel, select, table } from "../dom.js";
import { COLORS, OTHER_COLOR, dayOf, timeChart } from "../charts.js";
import * as f from "../format.js";

const BY = [["pool", "Worker pool"], ["project", "Project"]];
const OTHERS = "(others)";

function pricedBy(row, currency) {
  const parts = [];
  if (row.instance_cost !== null) parts.push(`instance billing ${f.money(row.instance_cost, currency)}`);
  if (row.rate_cost !== null) parts.push(`hourly rate ${f.money(row.rate_cost, currency)}`);
  if (row.unpriced_seconds) parts.push(`unpriced ${f.hours(row.unpriced_seconds)}`);
  return parts.join(" · ") || "—";
}

function costCell(value, currency, runs = 1) {
  if (!runs) return el("span", { class: "muted", title: "No run yet (no task group, or none finished)" }, "no runs");
  return value === null ? el("span", { class: "unpriced", title: "No cost source prices these runs: not counted as 0" }, "unpriced")
    : f.money(value, currency);
}

function summary(answer, currency) {
  const t = answer.totals;
  const unpricedGroups = answer.groups.pool.filter((g) => g.cost === null).length;
  const items = [
    ["Cost", t.cost === null ? "unpriced" : f.money(t.cost, currency), `${f.count(t.priced_runs)} priced runs`],
    ["Run time", f.hours(t.run_seconds), f.count(t.runs, "runs")],
    ["Unpriced run time", f.hours(t.unpriced_seconds), `${f.count(unpricedGroups, "pools")} wholly unpriced`],
    ["Priced by instance billing", f.money(t.instance_cost ?? 0, currency), "billing × run share of uptime"],
    ["Priced by hourly rate", f.money(t.rate_cost ?? 0, currency), "worker type's cost / usage hours"],
  ];
  return el("dl", { class: "stats" }, items.map(([label, value, note]) => el("div", {},
    el("dt", {}, label), el("dd", {}, value), el("dd", { class: "note" }, note))));
}

function costChart(answer, currency, window) {
  const datasets = answer.series.map((s, i) => ({
    label: s.key === OTHERS ? `${f.count(s.groups, answer.by === "pool" ? "other pools" : "other projects")}` : s.key,
    color: s.key === OTHERS ? OTHER_COLOR : COLORS[i % COLORS.length],
    data: s.points.map((p) => ({ x: dayOf(p.day), y: p.cost, p })),
  }));
  return timeChart({
    type: "bar", stacked: true, window, label: `Task-run cost per day in ${currency}, by ${answer.by}`,
    datasets, yFormat: (v) => f.money(v, currency, { compact: true }),
    tooltip: (ctx) => `${ctx.dataset.label}: ${f.money(ctx.raw.p.cost, currency)} · ${f.hours(ctx.raw.p.run_seconds)}`
      + (ctx.raw.p.unpriced_seconds ? ` (${f.hours(ctx.raw.p.unpriced_seconds)} unpriced)` : ""),
  });
}

function hoursChart(answer, window) {
  const byDay = new Map();
  for (const s of answer.series) for (const p of s.points) {
    const d = byDay.get(p.day) || { priced: 0, unpriced: 0 };
    d.priced += p.run_seconds - p.unpriced_seconds;
    d.unpriced += p.unpriced_seconds;
    byDay.set(p.day, d);
  }
  const days = [...byDay.keys()].sort();
  const series = (key) => days.map((d) => ({ x: dayOf(d), y: byDay.get(d)[key] / 3600, s: byDay.get(d)[key] }));
  return timeChart({
    type: "bar", stacked: true, window, label: "Run time per day in hours, priced and unpriced",
    datasets: [{ label: "priced", data: series("priced"), color: "#1f77b4" },
      { label: "unpriced (no cost source)", data: series("unpriced"), color: "#d62728" }],
    yFormat: (v) => `${f.decimal(v)} h`, tooltip: (ctx) => `${ctx.dataset.label}: ${f.hours(ctx.raw.s)}`,
  });
}

function groupsTable(rows, key, label, currency, total) {
  return table([
    { key, label, className: "name", title: (r) => r[key] },
    { key: "cost", label: `Cost (${currency})`, numeric: true, cell: (r) => costCell(r.cost, currency) },
    { key: "share", label: "Share of cost", numeric: true, format: (_, r) => (r.cost === null || !total ? "—" : f.percent(r.cost / total)) },
    { key: "run_seconds", label: "Run time", numeric: true, format: f.hours },
    { key: "unpriced_seconds", label: "Unpriced run time", numeric: true, format: f.hours },
    { key: "runs", label: "Runs", numeric: true, format: (v) => f.count(v) },
    { key: "priced_by", label: "Priced by", cell: (r) => pricedBy(r, currency) },
  ], rows, { caption: `Cost by ${label.toLowerCase()}`, rowAttrs: (r) => (r.cost === null ? { class: "unpriced-row", dataset: { unpriced: "true" } } : {}) });
}

function pushesTable(answer) {
  const currency = answer.currency;
  return table([
    { key: "push", label: "Push", cell: (r) => el("a", { href: `/ci-cost/pushes/${r.repo}/${r.push_id}${location.search}` }, `${r.repo} #${r.push_id}`) },
    { key: "pushed_at", label: "Pushed", format: f.moment },
    { key: "push_user", label: "By" },
    { key: "total_cost", label: `Cost (${currency})`, numeric: true, cell: (r) => costCell(r.total_cost, currency, r.runs) },
    { key: "unpriced_seconds", label: "Unpriced run time", numeric: true, format: f.hours },
    { key: "run_seconds", label: "Run time", numeric: true, format: f.hours },
    { key: "tasks", label: "Tasks", numeric: true, format: (v) => f.count(v) },
    { key: "failed_runs", label: "Failed runs", numeric: true, format: (v) => f.count(v) },
    { key: "pricing_methods", label: "Priced by", format: (v) => (v ? v.replaceAll(",", ", ") : "no run yet") },
  ], answer.pushes, { caption: "Costliest pushes" });
}

async function pushesPanel(view, ctx, repo) {
  const section = panel("Costliest pushes", { id: "pushes", wide: true });
  view.append(section);
  try {
    const answer = await getJSON("/api/v1/ci/costs/costliest", { ...ctx.window(), repo, limit: 25 });
    section.append(el("p", { class: "note" }, `${f.count(answer.total, "pushes")} in range`
      + (repo ? ` of ${repo}` : "") + `, ${f.money(answer.total_cost, answer.currency)} in all`
      + (answer.unpriced_pushes ? `; ${f.count(answer.unpriced_pushes, "pushes")} without a priced run` : "")
      + `. Filtered by repository only (pushes come from the push scan). Computed ${f.moment(answer.computed_at)}.`));
    if (!answer.pushes.length) empty(section, "No scanned push in this range.");
    else { section.append(pushesTable(answer)); section.dataset.state = "ready"; }
    return answer.repos;
  } catch (error) { fail(section, error); return []; }
}

export default {
  id: "ci-cost", title: "CI cost",
  async render(view, ctx, { addFilters }) {
    const by = ctx.get("by") === "project" ? "project" : "pool";
    const [pool, project, repo] = [ctx.get("pool"), ctx.get("project"), ctx.get("repo")];
    const runs = panel("Task-run cost per day", { id: "cost-chart", wide: true });
    const hoursPanel = panel("Run time per day, priced and unpriced", { id: "hours-chart", wide: true });
    const groups = panel(`Cost by ${by === "pool" ? "worker pool" : "project"}`, { id: "groups", wide: true });
    view.append(runs, hoursPanel, groups);
    const repos = pushesPanel(view, ctx, repo);
    let answer;
    try {
      answer = await getJSON("/api/v1/ci/costs/series", { ...ctx.window(), by, pool, project });
    } catch (error) { fail(runs, error); return; }
    const currency = answer.currency;
    const window = { start: answer.start, end: answer.end };
    addFilters(select("by", "Stack by", BY, by, (v) => ctx.set({ by: v === "pool" ? null : v })),
      select("project", "Project", [["", "All projects"], ...answer.options.projects], project ?? "", (v) => ctx.set({ project: v })),
      select("pool", "Worker pool", [["", "All pools"], ...answer.options.pools], pool ?? "", (v) => ctx.set({ pool: v })),
      select("repo", "Repository (pushes)", [["", "All repositories"], ...(await repos)], repo ?? "", (v) => ctx.set({ repo: v })));
    runs.append(el("p", { class: "note" }, `${f.window(answer.start, answer.end)} · costs in ${currency}; a day's unpriced runs add no bar `
      + `(they are unpriced, not free: see the run time below) · computed ${f.moment(answer.computed_at)}`), summary(answer, currency));
    if (!answer.series.length) { empty(runs, "No task run resolved in this range."); empty(hoursPanel, "—"); empty(groups, "—"); return; }
    runs.append(costChart(answer, currency, window));
    hoursPanel.append(hoursChart(answer, window));
    const key = by === "pool" ? "worker_pool" : "project";
    groups.append(groupsTable(answer.groups[by], key, by === "pool" ? "Worker pool" : "Project", currency, answer.totals.cost));
    for (const s of [runs, hoursPanel, groups]) s.dataset.state = "ready";
  },
};
