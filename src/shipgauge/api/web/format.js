// Every number the dashboard shows goes through one of these, with its unit. Times are UTC.

const LOCALE = "en-US";
const UTC = { timeZone: "UTC" };
const plain = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(LOCALE, { ...UTC, year: "numeric", month: "short", day: "numeric" });
const timeFormat = new Intl.DateTimeFormat(LOCALE, {
  ...UTC, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

export const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

/** 1.5, 12, 1,234.6: at most one decimal. */
export const decimal = (v) => (isNumber(v) ? oneDecimal.format(v) : "—");

/** 1,234 deployments; 1 deployment. */
export function count(n, unit) {
  if (!isNumber(n)) return "—";
  if (!unit) return plain.format(n);
  return `${plain.format(n)} ${n === 1 ? unit.replace(/s$/, "") : unit}`;
}

/** A cost in `currency`; null is "unpriced", never 0. */
export function money(v, currency, { compact = false } = {}) {
  if (v === null || v === undefined) return "unpriced";
  const abs = Math.abs(v);
  const options = { style: "currency", currency };
  if (compact && abs >= 10000) Object.assign(options, { notation: "compact", maximumFractionDigits: 1 });
  else if (abs > 0 && abs < 1) Object.assign(options, { maximumSignificantDigits: 3 });
  else Object.assign(options, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return new Intl.NumberFormat(LOCALE, options).format(v);
}

/** Run time in hours (or minutes under one hour). */
export function hours(seconds) {
  if (!isNumber(seconds)) return "—";
  if (seconds === 0) return "0 h";
  if (seconds < 3600) return `${oneDecimal.format(seconds / 60)} min`;
  const h = seconds / 3600;
  return `${h >= 100 ? plain.format(h) : oneDecimal.format(h)} h`;
}

/** A duration in its natural unit: minutes, hours (under 48), else days. */
export function duration(seconds) {
  if (!isNumber(seconds)) return "—";
  if (seconds < 3600) return `${oneDecimal.format(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${oneDecimal.format(seconds / 3600)} hours`;
  return `${oneDecimal.format(seconds / 86400)} days`;
}

/** The unit a set of durations reads best in: [divisor, label]. */
export function durationUnit(maxSeconds) {
  if (maxSeconds < 3600) return [60, "minutes"];
  if (maxSeconds < 48 * 3600) return [3600, "hours"];
  return [86400, "days"];
}

/** A ratio (0.333) as a percentage (33.3 %). */
export function percent(ratio) {
  if (!isNumber(ratio)) return "—";
  return `${oneDecimal.format(ratio * 100)} %`;
}

/** Deployments per day, in the unit that keeps the number above 1: per day, week or month. */
export function frequencyUnit(perDay) {
  if (!isNumber(perDay) || perDay >= 1) return [1, "per day"];
  if (perDay * 7 >= 1) return [7, "per week"];
  return [30, "per month"];
}

export function frequency(perDay) {
  if (!isNumber(perDay)) return "—";
  const [factor, unit] = frequencyUnit(perDay);
  return `${oneDecimal.format(perDay * factor)} ${unit}`;
}

export function bytes(n) {
  if (!isNumber(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return `${i ? oneDecimal.format(n) : plain.format(n)} ${units[i]}`;
}

export function day(iso) {
  return iso ? dayFormat.format(new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso)) : "—";
}

export function moment(iso) {
  return iso ? `${timeFormat.format(new Date(iso))} UTC` : "—";
}

/** "3 min ago", "2 days ago" from an ISO time. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const s = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  if (s < 90) return "just now";
  if (s < 5400) return `${plain.format(s / 60)} min ago`;
  if (s < 48 * 3600) return `${plain.format(s / 3600)} hours ago`;
  return `${plain.format(s / 86400)} days ago`;
}

/** A window as "Sep 8 – Dec 7, 2026 (90 days)". */
export function window(start, end) {
  const days = Math.round((new Date(end) - new Date(start)) / 86400000);
  const last = new Date(new Date(end).getTime() - 1).toISOString();
  return `${day(start)} – ${day(last)} (${count(days, "days")})`;
}

export function shortSha(sha) {
  return sha ? String(sha).slice(0, 12) : "—";
}
