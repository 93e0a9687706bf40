// Builds: a search box that speaks /api/search's query string (Lucene, as Buildhub's), builds
// published per day by channel, and the newest build of each product, channel and platform.
import { el, empty, fail, getJSON, panel, select, table } from "../dom.js";
import { COLORS, dayOf, timeChart } from "../charts.js";
import * as f from "../format.js";

const CHANNELS = ["release", "esr", "beta", "aurora", "nightly"];
// A fixed colour per known channel, the same on every load; others take the next ones in order.
const channelColors = (channels) => {
  const others = channels.filter((c) => !CHANNELS.includes(c));
  return (c) => COLORS[CHANNELS.includes(c) ? CHANNELS.indexOf(c) : CHANNELS.length + others.indexOf(c)];
};

function download(url, size) {
  if (!url) return "—";
  const name = decodeURIComponent(url.split("/").pop());
  return el("a", { href: url, rel: "noopener noreferrer", title: url }, `${name}${size ? ` (${f.bytes(size)})` : ""}`);
}

/** POST /api/search: the box's text as a query_string, the page's filters as terms. */
async function search(q, filters) {
  const terms = Object.entries(filters).filter(([, v]) => v).map(([field, v]) => ({ term: { [field]: v } }));
  const body = {
    size: 50,
    sort: [{ "download.date": "desc" }],
    query: { bool: { must: [{ query_string: { query: q, default_operator: "AND" } }], filter: terms } },
  };
  const response = await fetch("/api/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`search refused: ${answer?.error?.reason || answer?.error?.root_cause?.[0]?.reason || JSON.stringify(answer.error)}`);
  return answer;
}

function searchForm(ctx, q) {
  const input = el("input", { id: "q", name: "q", type: "search", value: q || "", size: 48,
    placeholder: "firefox AND target.channel:release", "aria-describedby": "q-help" });
  return el("form", { class: "search", role: "search", onsubmit: (e) => { e.preventDefault(); ctx.set({ q: input.value.trim() }); } },
    el("label", { for: "q" }, "Search builds"), input, el("button", { type: "submit" }, "Search"),
    el("p", { id: "q-help", class: "note" }, "Lucene query string, as Buildhub's box and /api/search read it: terms, \"phrases\", "
      + "field:value (source.product, target.channel, target.version, target.platform, target.locale, build.id), * and ?, AND/OR/NOT."));
}

const hitColumns = [
  { key: "product", label: "Product" }, { key: "channel", label: "Channel" }, { key: "version", label: "Version" },
  { key: "platform", label: "Platform" }, { key: "locale", label: "Locale" }, { key: "build_id", label: "Build id" },
  { key: "published", label: "Published", format: f.moment },
  { key: "url", label: "Download", cell: (r) => download(r.url, r.size) },
];

async function searchPanel(view, ctx, q, filters) {
  const section = panel(`Search results for “${q}”`, { id: "search-results", wide: true });
  view.append(section);
  try {
    const answer = await search(q, filters);
    const total = answer.hits.total?.value ?? answer.hits.total;
    section.append(el("p", { class: "note" }, `${f.count(total, "builds")} match${total > answer.hits.hits.length ? `; the newest ${answer.hits.hits.length} shown` : ""}.`));
    const rows = answer.hits.hits.map(({ _source: s }) => ({ product: s.source?.product, channel: s.target?.channel, version: s.target?.version,
      platform: s.target?.platform, locale: s.target?.locale, build_id: s.build?.id, published: s.download?.date, url: s.download?.url, size: s.download?.size }));
    if (!rows.length) empty(section, "No build matches.");
    else { section.append(table(hitColumns, rows, { caption: "Matching builds" })); section.dataset.state = "ready"; }
  } catch (error) { fail(section, error); }
}

export default {
  id: "builds", title: "Builds",
  async render(view, ctx, { addFilters }) {
    const chosen = { product: ctx.get("product"), channel: ctx.get("channel"), platform: ctx.get("platform") };
    const q = ctx.get("q");
    view.append(searchForm(ctx, q));
    const perDay = panel("Builds published per day, by channel", { id: "per-day", wide: true });
    const latest = panel("Latest build per product, channel and platform", { id: "latest", wide: true });
    if (q) await searchPanel(view, ctx, q, { "source.product": chosen.product, "target.channel": chosen.channel, "target.platform": chosen.platform });
    view.append(perDay, latest);
    const [days, newest] = await Promise.all([
      getJSON("/api/v1/builds/per-day", { ...ctx.window(), ...chosen }).catch((e) => { fail(perDay, e); return null; }),
      getJSON("/api/v1/builds/latest-per-platform", chosen).catch((e) => { fail(latest, e); return null; }),
    ]);
    if (newest) {
      const fl = newest.filters;
      addFilters(select("product", "Product", [["", "All products"], ...fl.products], chosen.product ?? "", (v) => ctx.set({ product: v })),
        select("channel", "Channel", [["", "All channels"], ...fl.channels], chosen.channel ?? "", (v) => ctx.set({ channel: v })),
        select("platform", "Platform", [["", "All platforms"], ...fl.platforms], chosen.platform ?? "", (v) => ctx.set({ platform: v })));
      if (!newest.rows.length) empty(latest, "No build recorded yet.");
      else {
        latest.append(table([
          { key: "product", label: "Product" }, { key: "channel", label: "Channel" }, { key: "platform", label: "Platform" },
          { key: "version", label: "Version" }, { key: "build_id", label: "Build id" },
          { key: "build_date", label: "Built", format: f.moment }, { key: "download_date", label: "Published", format: f.moment },
          { key: "locales", label: "Locales", numeric: true, format: (v) => f.count(v) },
          { key: "download_url", label: "Download", cell: (r) => download(r.download_url, r.download_size) },
        ], newest.rows, { caption: "Latest builds" }));
        latest.dataset.state = "ready";
      }
    }
    if (days) {
      const channels = [...new Set(days.rows.map((r) => r.channel))].sort((a, b) =>
        (CHANNELS.includes(a) ? CHANNELS.indexOf(a) : 99) - (CHANNELS.includes(b) ? CHANNELS.indexOf(b) : 99) || a.localeCompare(b));
      const colorOf = channelColors(channels);
      perDay.append(el("p", { class: "note" }, `${f.window(days.start, days.end)} · ${f.count(days.rows.reduce((n, r) => n + r.records, 0), "builds")} published (by download date)`));
      if (!days.rows.length) empty(perDay, "No build published in this range.");
      else {
        perDay.append(timeChart({
          type: "bar", stacked: true, integer: true, window: { start: days.start, end: days.end },
          label: "Builds published per day, by channel",
          datasets: channels.map((c) => ({ label: c, color: colorOf(c),
            data: days.rows.filter((r) => r.channel === c).map((r) => ({ x: dayOf(r.day), y: r.records, r })) })),
          yFormat: (v) => f.count(v), tooltip: (ctx) => `${ctx.dataset.label}: ${f.count(ctx.raw.y, "builds")} (${f.count(ctx.raw.r.build_ids, "build ids")})`,
        }));
        perDay.dataset.state = "ready";
      }
    }
  },
};
