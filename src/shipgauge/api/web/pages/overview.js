// Overview: a card per capability with its last ingest, dead letters, headline number and page.
import { el, getJSON } from "../dom.js";
import * as f from "../format.js";

const PAGE_TITLES = { "/dora": "DORA", "/ci-cost": "CI cost", "/reviews": "Reviews", "/builds": "Builds" };

/** [number, unit, context] of a card's headline. */
function headline(card, currency) {
  const h = card.headline;
  const unpriced = h.unpriced_seconds ? ` · ${f.hours(h.unpriced_seconds)} of run time unpriced` : "";
  switch (h.unit) {
    case "currency":
      return [f.money(h.value, currency), h.value === null ? "" : currency, `${f.count(h.count, h.count_unit)}${unpriced}`];
    case "ratio":
      return [f.isNumber(h.value) ? f.decimal(h.value * 100) : "—", "% reviewed", `of ${f.count(h.count, h.count_unit)}`];
    default:
      return [f.count(h.value), h.value === 1 ? h.unit.replace(/s$/, "") : h.unit, f.count(h.count, h.count_unit)];
  }
}

function card(c, currency) {
  const [number, unit, context] = headline(c, currency);
  const letters = c.dead_letters;
  const newest = c.headline.newest;
  return el("article", { class: "card", dataset: { capability: c.capability }, "aria-labelledby": `card-${c.capability}` },
    el("h2", { id: `card-${c.capability}` }, c.title),
    el("p", { class: "card-value" }, number, unit ? el("small", {}, ` ${unit}`) : null),
    el("p", { class: "card-context" }, context),
    el("dl", {},
      el("dt", {}, "Last ingest"),
      el("dd", { title: c.last_ingest ? f.moment(c.last_ingest) : "no checkpoint recorded yet" }, f.ago(c.last_ingest)),
      el("dt", {}, "Newest data"),
      el("dd", { title: newest ? f.moment(newest) : "no data yet" }, newest ? f.day(newest) : "none yet"),
      el("dt", {}, "Dead letters"),
      el("dd", { class: letters ? "bad" : undefined }, f.count(letters)),
      el("dt", {}, "Sources"),
      el("dd", { class: "sources", title: c.sources.join(", ") || "none" }, c.sources.length ? c.sources.join(", ") : "none yet")),
    el("a", { class: "card-link", href: c.page + location.search }, `Open the ${PAGE_TITLES[c.page] || c.page} page →`));
}

export default {
  id: "overview", title: "Overview",
  async render(view, ctx) {
    const answer = await getJSON("/api/v1/overview", ctx.window());
    const window = f.window(answer.start, answer.end);
    view.append(el("p", { class: "lede" }, `Each capability over ${window}.`),
      el("div", { class: "cards" }, answer.cards.map((c) => card(c, answer.currency))));
  },
};
