// Dashboard shell: a hash router over SHIPGAUGE_PAGES; every panel fetches one model as JSON.
(function () {
  const pages = window.SHIPGAUGE_PAGES;
  const { draw } = window.ShipgaugeCharts;

  function renderNav(current) {
    const nav = document.getElementById("nav");
    nav.innerHTML = "";
    for (const [id, page] of Object.entries(pages)) {
      const a = document.createElement("a");
      a.href = `#${id}`;
      a.textContent = page.title;
      a.dataset.page = id;
      if (id === current) a.className = "active";
      nav.appendChild(a);
    }
  }

  // Tables show ids and counts in full; charts abbreviate (format).
  function cell(v) {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }

  function table(columns, rows) {
    const t = document.createElement("table");
    const head = t.createTHead().insertRow();
    for (const c of columns) {
      const th = document.createElement("th");
      th.textContent = c;
      head.appendChild(th);
    }
    const body = t.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const c of columns) {
        const td = tr.insertCell();
        const v = row[c];
        td.textContent = v === null || v === undefined ? "" : typeof v === "number" ? cell(v) : String(v);
        if (typeof v === "number") td.className = "num";
      }
    }
    return t;
  }

  async function renderPanel(panel, available) {
    const section = document.createElement("section");
    section.className = "panel";
    section.dataset.model = panel.model;
    section.innerHTML = `<h2></h2><p class="about"></p>`;
    section.querySelector("h2").textContent = panel.title;
    if (!available.has(panel.model)) {
      section.classList.add("empty");
      section.insertAdjacentHTML("beforeend", `<p class="state">No model <code></code> in this store.</p>`);
      section.querySelector("code").textContent = panel.model;
      return section;
    }
    section.querySelector(".about").textContent = available.get(panel.model);
    const params = new URLSearchParams({ limit: String(panel.limit || 500) });
    if (panel.orderBy) params.set("order_by", panel.orderBy);
    for (const [column, value] of Object.entries(panel.filter || {})) params.set(column, value);
    const response = await fetch(`/api/v1/models/${panel.model}?${params}`);
    const data = await response.json();
    if (!response.ok) {
      section.insertAdjacentHTML("beforeend", `<p class="state"></p>`);
      section.querySelector(".state").textContent = data.error ? data.error.message : response.statusText;
      return section;
    }
    section.dataset.rows = String(data.rows.length);
    if (data.rows.length === 0) {
      section.classList.add("empty");
      section.insertAdjacentHTML("beforeend", `<p class="state">No rows yet.</p>`);
      return section;
    }
    if (panel.chart) section.appendChild(draw(data.rows, panel.chart));
    if (panel.table) {
      const columns = panel.columns || data.columns;
      section.appendChild(table(columns, data.rows.slice(0, panel.tableRows || 50)));
    }
    return section;
  }

  async function render() {
    const id = location.hash.slice(1) in pages ? location.hash.slice(1) : "overview";
    renderNav(id);
    const main = document.getElementById("page");
    main.innerHTML = "";
    main.dataset.ready = "false";
    main.dataset.page = id;
    const models = await (await fetch("/api/v1/models")).json();
    const available = new Map(models.map((m) => [m.name, m.description]));
    const sections = await Promise.all(pages[id].panels.map((p) => renderPanel(p, available)));
    sections.forEach((s) => main.appendChild(s));
    main.dataset.ready = "true";
  }

  window.addEventListener("hashchange", render);
  render();
})();
