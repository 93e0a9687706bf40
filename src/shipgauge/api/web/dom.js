// Small DOM helpers: elements, panels, tables, and the API's JSON.

/** el("p", {class: "x"}, "text", child, …) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export class ApiError extends Error {}

/** GET the API's JSON; a non-2xx answer throws ApiError with the server's message. */
export async function getJSON(path, params = {}, init = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  const url = query.size ? `${path}?${query}` : path;
  const response = await fetch(url, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body?.error?.message || body?.error?.reason || body?.detail?.[0]?.msg || response.statusText;
    throw new ApiError(`${message} (${response.status} from ${path})`);
  }
  return body;
}

/** A titled section; `body` fills it once `load` resolves, and shows its error otherwise. */
export function panel(title, { id, wide = false, note } = {}) {
  const heading = el("h2", { id: id ? `${id}-title` : undefined }, title);
  const section = el("section", { class: `panel${wide ? " wide" : ""}`, id, "aria-labelledby": id ? `${id}-title` : undefined },
    heading, note ? el("p", { class: "note" }, note) : null);
  section.dataset.state = "loading";
  return section;
}

export function fail(section, error) {
  section.dataset.state = "error";
  section.append(el("p", { class: "state error", role: "alert" }, String(error.message || error)));
  if (!(error instanceof ApiError)) console.warn(error); // a bug of ours: keep its stack nearby
}

export function empty(section, text) {
  section.dataset.state = "empty";
  section.append(el("p", { class: "state" }, text));
}

/**
 * A table: columns are {key, label, format?(value, row), numeric?, cell?(row) → Node, title?(row)}.
 * Wrapped in a focusable scroll box so keyboard users can scroll wide tables.
 */
export function table(columns, rows, { caption, rowAttrs } = {}) {
  const head = el("thead", {}, el("tr", {}, columns.map((c) =>
    el("th", { scope: "col", class: c.numeric ? "num" : undefined }, c.label))));
  const body = el("tbody", {}, rows.map((row) => el("tr", rowAttrs ? rowAttrs(row) : {}, columns.map((c) => {
    const content = c.cell ? c.cell(row) : c.format ? c.format(row[c.key], row) : row[c.key] ?? "—";
    const title = c.title ? c.title(row) : (typeof content === "string" && content.length > 40 ? content : undefined);
    return el("td", { class: [c.numeric ? "num" : "", c.className || ""].join(" ").trim() || undefined, title }, content);
  }))));
  const t = el("table", {}, caption ? el("caption", {}, caption) : null, head, body);
  return el("div", { class: "table-box", tabindex: "0", role: "region", "aria-label": caption || "table" }, t);
}

/** A <select> with a visible label; `options` are strings or [value, text]. */
export function select(name, label, options, value, onChange) {
  const id = `f-${name}`;
  const control = el("select", { id, name, onchange: (e) => onChange(e.target.value) },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return el("option", { value: v, selected: v === (value ?? "") }, text);
    }));
  return el("div", { class: "control" }, el("label", { for: id }, label), control);
}

/** A small label naming how a row was linked (link_method), with what that means on hover. */
const LINKS = {
  explicit_id: "the event named the other one's id",
  commit_sha: "matched through a commit both events list",
  time_heuristic: "the nearest earlier event of the service and environment",
};
export function linkMethod(method) {
  if (!method) return el("span", { class: "muted" }, "—");
  return el("span", { class: `link-method ${method}`, title: LINKS[method] || method }, method);
}
