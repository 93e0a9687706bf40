// Reviews: the share of each review system over time, per repository, and the changesets that
// landed without an expected review.
import { el, empty, fail, getJSON, panel, select, table } from "../dom.js";
import { COLORS, dayOf, timeChart } from "../charts.js";
import * as f from "../format.js";

// A fixed colour per review system, the same on every chart and load.
const SYSTEMS = ["phabricator", "bmo", "mozreview", "review_unneeded", "not_applicable", "unknown", "no_bug"];
const rank = (system) => (SYSTEMS.includes(system) ? SYSTEMS.indexOf(system) : SYSTEMS.length);
const colorOf = (system) => COLORS[rank(system)];
const MAX_REPOS = 6;

function sharesChart(repo, rows, window, interval) {
  const systems = [...new Set(rows.map((r) => r.review_system))]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const datasets = systems.map((system) => ({
    label: system, color: colorOf(system),
    data: rows.filter((r) => r.review_system === system)
      .map((r) => ({ x: dayOf(r.period), y: r.share * 100, r })),
  }));
  return timeChart({
    type: "bar", stacked: true, window, unit: interval === "day" ? "day" : undefined, yMax: 100,
    barDays: interval === "day" ? 1 : 7,
    label: `Share of changesets per review system in ${repo}, per ${interval}, in %`, datasets,
    yFormat: (v) => `${f.decimal(v)} %`,
    tooltip: (ctx) => `${ctx.dataset.label}: ${f.percent(ctx.raw.r.share)} (${f.count(ctx.raw.r.changesets, "changesets")})`,
  });
}

export default {
  id: "reviews", title: "Reviews",
  async render(view, ctx, { addFilters }) {
    const repo = ctx.get("repo");
    const sharesPanel = panel("Review systems over time", { id: "shares", wide: true });
    const unreviewedPanel = panel("Changes landed without an expected review", { id: "unreviewed", wide: true });
    view.append(sharesPanel, unreviewedPanel);
    const [shares, unreviewed] = await Promise.all([
      getJSON("/api/v1/reviews/shares", { ...ctx.window(), repo }).catch((e) => { fail(sharesPanel, e); return null; }),
      getJSON("/api/v1/reviews/unreviewed", { ...ctx.window(), repo, limit: 100 }).catch((e) => { fail(unreviewedPanel, e); return null; }),
    ]);
    if (shares) {
      addFilters(select("repo", "Repository", [["", "All repositories"], ...shares.repos], repo ?? "", (v) => ctx.set({ repo: v })));
      const window = { start: shares.start, end: shares.end };
      const byRepo = new Map();
      for (const row of shares.rows) byRepo.set(row.repo, [...(byRepo.get(row.repo) || []), row]);
      const total = (rows) => rows.reduce((n, r) => n + r.changesets, 0);
      const repos = [...byRepo.keys()].sort((a, b) => total(byRepo.get(b)) - total(byRepo.get(a)) || a.localeCompare(b));
      sharesPanel.append(el("p", { class: "note" }, `${f.window(shares.start, shares.end)} · share of each ${shares.interval}'s `
        + `pushed changesets, per repository${repos.length > MAX_REPOS ? ` (the ${MAX_REPOS} busiest of ${repos.length}; choose one above)` : ""}`));
      if (!repos.length) empty(sharesPanel, "No pushed changeset in this range.");
      for (const name of repos.slice(0, MAX_REPOS)) {
        const rows = byRepo.get(name);
        sharesPanel.append(el("h3", {}, `${name} · ${f.count(total(rows), "changesets")}`), sharesChart(name, rows, window, shares.interval));
      }
      if (repos.length) sharesPanel.dataset.state = "ready";
    }
    if (unreviewed) {
      unreviewedPanel.append(el("p", { class: "note" }, `${f.count(unreviewed.total, "changesets")} without a review where one was expected`
        + " (not a back-out, uplift approval, wpt sync or merge)."));
      if (!unreviewed.rows.length) empty(unreviewedPanel, "None in this range.");
      else {
        unreviewedPanel.append(table([
          { key: "pushed_at", label: "Pushed", format: f.moment },
          { key: "repo", label: "Repository" },
          { key: "changeset", label: "Changeset", format: f.shortSha, title: (r) => r.changeset },
          { key: "bug_id", label: "Bug", format: (v) => (v ? String(v) : "—") },
          { key: "review_system", label: "Review system" },
          { key: "rule", label: "Why" },
          { key: "author", label: "Author", className: "name" },
          { key: "summary", label: "Summary", className: "name wide-text" },
        ], unreviewed.rows, { caption: "Changes without a review" }));
        unreviewedPanel.dataset.state = "ready";
      }
    }
  },
};
