// Small SVG charts (no CDN, no framework): grouped bars and lines over rows of a model.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2f6fde", "#e8833a", "#3aa76d", "#c94f7c", "#8a63d2", "#d4b106", "#4fb3c9", "#7a8699"];

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // rows → {xs: [...], series: {name: Map(x → y)}} with y summed per (x, series).
  function pivot(rows, spec) {
    const xs = [];
    const series = {};
    for (const row of rows) {
      const x = String(row[spec.x]);
      if (!xs.includes(x)) xs.push(x);
      const name = spec.series ? String(row[spec.series]) : spec.y;
      series[name] = series[name] || new Map();
      series[name].set(x, (series[name].get(x) || 0) + Number(row[spec.y] || 0));
    }
    if (spec.sortX) xs.sort();
    return { xs, series };
  }

  function draw(rows, spec) {
    const { xs, series } = pivot(rows, spec);
    const names = Object.keys(series);
    const width = 600, height = 240, left = 56, bottom = 60, top = 10;
    const plotW = width - left - 10, plotH = height - top - bottom;
    const max = Math.max(1e-9, ...names.flatMap((n) => xs.map((x) => series[n].get(x) || 0)));
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: `chart chart-${spec.type}` });
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      svg.appendChild(el("line", { x1: left, x2: width - 10, y1: y, y2: y, stroke: "#eef0f5" }));
      svg.appendChild(el("text", { x: left - 4, y: y + 3, "text-anchor": "end" }, format(max * i / 4)));
    }
    const step = plotW / Math.max(xs.length, 1);
    xs.forEach((x, i) => {
      if (xs.length <= 24 || i % Math.ceil(xs.length / 24) === 0) {
        const label = el("text", { x: left + step * (i + 0.5), y: height - bottom + 12, "text-anchor": "end",
          transform: `rotate(-35 ${left + step * (i + 0.5)} ${height - bottom + 12})` }, x.slice(0, 18));
        svg.appendChild(label);
      }
    });
    names.forEach((name, s) => {
      const color = COLORS[s % COLORS.length];
      if (spec.type === "line") {
        const points = xs.map((x, i) => `${left + step * (i + 0.5)},${top + plotH - (plotH * (series[name].get(x) || 0)) / max}`);
        svg.appendChild(el("polyline", { points: points.join(" "), fill: "none", stroke: color, "stroke-width": 2, "data-series": name }));
      } else {
        const barW = (step * 0.8) / names.length;
        xs.forEach((x, i) => {
          const v = series[name].get(x) || 0;
          const h = (plotH * v) / max;
          const bar = el("rect", { x: left + step * i + step * 0.1 + barW * s, y: top + plotH - h, width: barW, height: h,
            fill: color, "data-x": x, "data-y": v, "data-series": name });
          bar.appendChild(el("title", {}, `${name} · ${x}: ${format(v)}`));
          svg.appendChild(bar);
        });
      }
    });
    const wrap = document.createElement("div");
    wrap.appendChild(svg);
    if (names.length > 1) {
      const legend = document.createElement("div");
      legend.className = "legend";
      names.forEach((name, s) => {
        const item = document.createElement("span");
        item.innerHTML = `<i style="background:${COLORS[s % COLORS.length]}"></i>`;
        item.appendChild(document.createTextNode(name));
        legend.appendChild(item);
      });
      wrap.appendChild(legend);
    }
    return wrap;
  }

  function format(v) {
    if (typeof v !== "number" || !isFinite(v)) return String(v);
    if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(1) + "k";
    return Number.isInteger(v) ? String(v) : v.toFixed(2);
  }

  window.ShipgaugeCharts = { draw, format };
})();
