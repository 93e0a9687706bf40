// The dashboard: one page per path, its filters in the URL's query string (a link reproduces a
// view). Changing a filter rewrites the URL (history) and draws every panel of the page again.
import { el, select } from "./dom.js";
import overview from "./pages/overview.js";
import dora from "./pages/dora.js";
import ciCost from "./pages/ci_cost.js";
import push from "./pages/push.js";
import reviews from "./pages/reviews.js";
import builds from "./pages/builds.js";

const PAGES = [
  ["/", overview], ["/dora", dora], ["/ci-cost", ciCost], ["/reviews", reviews], ["/builds", builds],
];
const RANGES = [["7d", "Last 7 days"], ["30d", "Last 30 days"], ["90d", "Last 90 days"],
  ["180d", "Last 180 days"], ["365d", "Last 365 days"], ["custom", "Custom dates…"]];
export const DEFAULT_RANGE = "90d";
const KEPT_ACROSS_PAGES = ["range", "from", "to"];

function pageOf(path) {
  if (path.startsWith("/ci-cost/pushes/")) return ["/ci-cost", push];
  return PAGES.find(([p]) => p === path) || PAGES[0];
}

/** The current URL's filters, and a way to change them. */
function context() {
  const params = new URLSearchParams(location.search);
  return {
    params,
    get: (name) => params.get(name) || null,
    /** The window the API reads: from/to when given, else range. */
    window: () => (params.get("from") || params.get("to")
      ? { from: params.get("from"), to: params.get("to") }
      : { range: params.get("range") || DEFAULT_RANGE }),
    set(changes) {
      const next = new URLSearchParams(location.search);
      for (const [key, value] of Object.entries(changes)) {
        if (value === null || value === undefined || value === "") next.delete(key);
        else next.set(key, value);
      }
      const query = next.toString();
      history.pushState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
      render();
    },
    go(path, params = {}) {
      const query = new URLSearchParams(params).toString();
      history.pushState(null, "", query ? `${path}?${query}` : path);
      render();
    },
  };
}

function renderNav(current) {
  const kept = new URLSearchParams();
  const now = new URLSearchParams(location.search);
  for (const key of KEPT_ACROSS_PAGES) if (now.get(key)) kept.set(key, now.get(key));
  const suffix = kept.size ? `?${kept}` : "";
  document.getElementById("nav").replaceChildren(...PAGES.map(([path, page]) => el("a", {
    href: `${path}${suffix}`, "aria-current": path === current ? "page" : undefined, dataset: { page: page.id },
  }, page.title)));
}

/** The range control every page has: a preset, or custom from/to dates. */
function rangeControls(ctx) {
  const custom = Boolean(ctx.get("from") || ctx.get("to"));
  const chosen = custom ? "custom" : ctx.get("range") || DEFAULT_RANGE;
  const controls = [select("range", "Time range", RANGES, chosen, (value) => {
    if (value === "custom") {
      const end = new Date();
      const start = new Date(end.getTime() - 30 * 86400000);
      ctx.set({ range: null, from: start.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) });
    } else {
      ctx.set({ range: value === DEFAULT_RANGE ? null : value, from: null, to: null });
    }
  })];
  if (custom) {
    for (const [name, label] of [["from", "From"], ["to", "To (included)"]]) {
      controls.push(el("div", { class: "control" }, el("label", { for: `f-${name}` }, label),
        el("input", { id: `f-${name}`, name, type: "date", value: ctx.get(name) || "",
          onchange: (e) => ctx.set({ [name]: e.target.value }) })));
    }
  }
  return controls;
}

let drawing = 0;

export async function render() {
  const mine = ++drawing;
  const [path, page] = pageOf(location.pathname);
  const ctx = context();
  const main = document.getElementById("page");
  const filters = document.getElementById("filters");
  renderNav(path);
  document.title = `${page.title} · shipgauge`;
  main.dataset.ready = "false";
  main.dataset.page = page.id;
  filters.replaceChildren(...rangeControls(ctx));
  // Each drawing fills its own view: one still loading when the next starts fills a detached one.
  const view = el("div", { class: "view" }, el("h1", {}, page.title));
  main.replaceChildren(view);
  const stale = () => mine !== drawing;
  const addFilters = (...controls) => { if (!stale()) filters.append(...controls.flat()); };
  try {
    await page.render(view, ctx, { addFilters, stale });
  } catch (error) {
    view.append(el("p", { class: "state error", role: "alert" }, String(error.message || error)));
    console.warn(error);
  }
  if (!stale()) main.dataset.ready = "true";
}

window.addEventListener("popstate", render);
document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());
render();
