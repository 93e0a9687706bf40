// Charts drawn by the vendored Chart.js (window.Chart) on real time axes, with tooltips, an HTML
// legend (long names whole on hover) and units on every tick. X values are UTC calendar days
// ("2026-11-30"), which the date adapter reads as local midnight and prints back as that day.
import { el } from "./dom.js";

const Chart = window.Chart;
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
Chart.defaults.font.size = 12;
Chart.defaults.color = "#3b4256";
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

// Okabe–Ito and Tableau hues, readable on white; a key keeps its colour within a chart.
export const COLORS = ["#1f77b4", "#e6550d", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#17becf", "#bcbd22", "#636363", "#393b79", "#7f7f7f"];
export const OTHER_COLOR = "#b8bcc6";

export const dayOf = (iso) => String(iso).slice(0, 10);

function timeAxis(window, unit) {
  return {
    type: "time",
    min: dayOf(window.start),
    max: dayOf(window.end),
    offset: true,
    time: { unit, minUnit: "day", isoWeekday: true, tooltipFormat: "MMM d, yyyy",
      displayFormats: { day: "MMM d", week: "MMM d", month: "MMM yyyy", quarter: "MMM yyyy", year: "yyyy" } },
    ticks: { autoSkip: true, maxRotation: 0, font: { size: 12 } },
    grid: { display: false },
  };
}

function valueAxis(formatTick, { stacked = false, integer = false, max } = {}) {
  return {
    stacked,
    beginAtZero: true,
    max,
    grace: max === undefined ? "8%" : 0,
    ticks: { font: { size: 12 }, precision: integer ? 0 : undefined, maxTicksLimit: 6, callback: (v) => formatTick(v) },
    grid: { color: "#e8ebf1" },
  };
}

/** Time unit of ticks for a window: days up to two months, weeks up to a year, then months. */
export function unitFor(window) {
  const days = (new Date(window.end) - new Date(window.start)) / 86400000;
  return days <= 62 ? "day" : days <= 400 ? "week" : "month";
}

function barWidth(window, barDays) {
  const days = Math.max(1, (new Date(window.end) - new Date(window.start)) / 86400000);
  return Math.max(3, Math.min(48, Math.floor((1150 / days) * barDays * 0.8)));
}

function htmlLegend(chart, holder) {
  holder.replaceChildren(...chart.data.datasets.map((ds, i) => {
    const hidden = !chart.isDatasetVisible(i);
    return el("button", {
      type: "button", class: `legend-item${hidden ? " off" : ""}`, title: ds.label, "aria-pressed": String(!hidden),
      onclick: () => { chart.setDatasetVisibility(i, hidden); chart.update(); htmlLegend(chart, holder); },
    }, el("i", { style: `background:${ds.backgroundColor}`, "aria-hidden": "true" }), el("span", {}, ds.label));
  }));
}

/**
 * A chart in a box: {type: "bar"|"line", window, datasets: [{label, data: [{x, y, …}], color}],
 * stacked, yFormat(v) for ticks, tooltip(ctx) → label lines, onPoint(datasetIndex, point), label}.
 */
export function timeChart(spec) {
  const canvas = el("canvas", { role: "img", "aria-label": spec.label });
  const legend = el("div", { class: "legend", role: "group", "aria-label": `Legend of ${spec.label}` });
  const box = el("div", { class: `chart-box${spec.small ? " small" : ""}` }, canvas);
  const holder = el("figure", { class: "chart" }, box, spec.datasets.length > 1 ? legend : null);
  const datasets = spec.datasets.map((d, i) => ({
    label: d.label,
    data: d.data,
    backgroundColor: d.color || COLORS[i % COLORS.length],
    borderColor: d.color || COLORS[i % COLORS.length],
    borderWidth: spec.type === "line" ? 2 : 0,
    pointRadius: spec.type === "line" ? 3 : 0,
    pointHoverRadius: 6,
    spanGaps: false,
    stack: spec.stacked ? "all" : undefined,
    // a bar is as wide as the time it covers (a day, or a week), whatever gaps the data has
    maxBarThickness: spec.type === "bar" ? barWidth(spec.window, spec.barDays || 1) : undefined,
  }));
  const chart = new Chart(canvas, {
    type: spec.type,
    data: { datasets },
    options: {
      parsing: { xAxisKey: "x", yAxisKey: "y" },
      interaction: { mode: spec.type === "line" ? "nearest" : "index", intersect: false },
      scales: { x: { ...timeAxis(spec.window, spec.unit || unitFor(spec.window)), stacked: spec.stacked },
        y: valueAxis(spec.yFormat, { stacked: spec.stacked, integer: spec.integer, max: spec.yMax }) },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: { label: (ctx) => spec.tooltip(ctx) },
          filter: (item) => item.raw && item.raw.y !== null,
          itemSort: (a, b) => a.datasetIndex - b.datasetIndex,
        },
      },
      onClick: spec.onPoint ? (event, elements) => {
        const hit = elements[0];
        if (hit) spec.onPoint(hit.datasetIndex, chart.data.datasets[hit.datasetIndex].data[hit.index]);
      } : undefined,
      onHover: spec.onPoint ? (event, elements) => {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      } : undefined,
    },
  });
  canvas.chart = chart; // tests and the console reach the chart through its canvas
  if (spec.datasets.length > 1) htmlLegend(chart, legend);
  return holder;
}
