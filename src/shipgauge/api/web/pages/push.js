// One push: its cost by the three measures, its cost per worker pool, and every task with its
// runs, each run's cost and how it was priced.
import { el, fail, getJSON, panel, table } from "../dom.js";
import * as f from "../format.js";

const METHODS = {
  instance_billing: "instance billing",
  worker_type_rate: "worker type's hourly rate",
  unpriced: "unpriced (no cost source)",
  unfinished: "unfinished (no time yet)",
};
const methods = (v) => (v ? v.split(",").map((m) => METHODS[m] || m).join(", ") : "—");
const cost = (v, currency) => (v === null ? el("span", { class: "unpriced" }, "unpriced") : f.money(v, currency));

function header(p, currency) {
  const items = [
    ["Total cost", p.total_cost === null ? "unpriced" : f.money(p.total_cost, currency), "every run that started and resolved"],
    ["Ideal cost", p.ideal_cost === null ? "unpriced" : f.money(p.ideal_cost, currency), "last run of each completed task"],
    ["Compute time", f.hours(p.compute_seconds), "runs of completed tasks"],
    ["Unpriced run time", f.hours(p.unpriced_seconds), "no cost source prices it"],
    ["Runs", f.count(p.runs), `${f.count(p.tasks, "tasks")}, ${f.count(p.failed_runs, "failed runs")}`],
  ];
  return el("dl", { class: "stats" }, items.map(([label, value, note]) => el("div", {},
    el("dt", {}, label), el("dd", {}, value), el("dd", { class: "note" }, note))));
}

function tasksTable(tasks, runsByTask, currency) {
  const rows = [];
  for (const t of tasks) {
    rows.push({ ...t, level: "task" });
    for (const r of runsByTask.get(t.task_id) || []) rows.push({ ...r, level: "run" });
  }
  return table([
    { key: "label", label: "Task / run", className: "name",
      cell: (r) => (r.level === "task" ? el("strong", {}, r.label || r.task_id) : `run ${r.run_id} · ${r.state}`),
      title: (r) => (r.level === "task" ? `${r.label || ""} (${r.task_id})` : `${r.task_id} run ${r.run_id}`) },
    { key: "worker_pool", label: "Worker pool", className: "name", title: (r) => r.worker_pool },
    { key: "state", label: "State", format: (_, r) => (r.level === "task" ? r.state : r.in_total ? "counted" : "not counted") },
    { key: "started", label: "Started", format: (v, r) => (r.level === "run" ? f.moment(v) : "") },
    { key: "run_seconds", label: "Run time", numeric: true, format: f.hours },
    { key: "cost", label: `Cost (${currency})`, numeric: true,
      cell: (r) => cost(r.level === "task" ? r.total_cost : r.cost, currency) },
    { key: "pricing", label: "Priced by", format: (_, r) => (r.level === "task" ? methods(r.pricing_methods)
      : `${methods(r.pricing_method)}${r.rate_month ? ` (rate of ${r.rate_month.slice(0, 7)})` : ""}`) },
  ], rows, { caption: "Tasks and their runs", rowAttrs: (r) => ({ class: r.level }) });
}

export default {
  id: "push", title: "CI cost of a push",
  async render(view, ctx) {
    const rest = decodeURIComponent(location.pathname.slice("/ci-cost/pushes/".length));
    const cut = rest.lastIndexOf("/");
    const [repo, pushId] = [rest.slice(0, cut), rest.slice(cut + 1)];
    view.querySelector("h1").textContent = `CI cost of ${repo} push ${pushId}`;
    view.append(el("p", {}, el("a", { href: `/ci-cost${location.search}` }, "← CI cost")));
    const top = panel("The push", { id: "push", wide: true });
    const pools = panel("Cost by worker pool", { id: "push-pools", wide: true });
    const tasks = panel("Tasks and runs", { id: "push-tasks", wide: true });
    view.append(top, pools, tasks);
    let detail, runs;
    try {
      [detail, runs] = await Promise.all([
        getJSON(`/api/v1/ci/costs/pushes/${repo}/${pushId}`),
        getJSON("/api/v1/ci/costs/runs", { repo, push_id: pushId }),
      ]);
    } catch (error) { fail(top, error); return; }
    const currency = runs.currency;
    const p = detail.push;
    top.append(el("p", { class: "lede" }, `Pushed ${f.moment(p.pushed_at)} by ${p.push_user || "—"} · revision `,
      el("code", {}, f.shortSha(p.revision)), ` · task group ${p.task_group_id || "none"} (${p.group_state || "—"})`,
      ` · priced by ${methods(p.pricing_methods)}`), header(p, currency));
    pools.append(table([
      { key: "worker_pool", label: "Worker pool", className: "name", title: (r) => r.worker_pool },
      { key: "total_cost", label: `Cost (${currency})`, numeric: true, cell: (r) => cost(r.total_cost, currency) },
      { key: "run_seconds", label: "Run time", numeric: true, format: f.hours },
      { key: "runs", label: "Runs", numeric: true, format: (v) => f.count(v) },
      { key: "pricing_methods", label: "Priced by", format: methods },
    ], detail.pools, { caption: "Cost by worker pool" }));
    const byTask = new Map();
    for (const r of runs.runs) byTask.set(r.task_id, [...(byTask.get(r.task_id) || []), r]);
    tasks.append(tasksTable(detail.tasks, byTask, currency));
    for (const s of [top, pools, tasks]) s.dataset.state = "ready";
  },
};
