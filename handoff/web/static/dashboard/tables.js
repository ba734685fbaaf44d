/*
 * The dashboard's tables, titled and formatted in the viewer's language:
 * codes by their human names (labels.js, shared with the inbox), rates as
 * percentages, durations as "1 min 05 s". Customer text only via textContent.
 */

import { codeName } from "/inbox/labels.js";
import { d, hasString } from "./strings.js";
import { count, duration, percent } from "./numbers.js";

export const TABLES = ["complaints", "complaint-conversations", "handoff-reasons", "intents", "misunderstood", "out-of-scope",
  "csat", "csat-comments", "agents", "after-sales-cases", "channels", "intent-trend"];
const ROW_LIMIT = 50;
const CODES = { intent: "intent", reason: "reason", channel: "channel", case_type: "case_type" };
const RATES = new Set(["rate", "share", "average_confidence", "complaint_rate"]);
const DURATIONS = new Set(["first_response_s_p50", "resolution_s_avg"]);

function node(tag, text) {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** One cell's text (or element) for a column key and value. */
export function cell(key, value) {
  if (value === null || value === undefined || value === "") {
    return key === "reason" ? d("unknown") : "–";
  }
  if (key in CODES) {
    if (key === "reason" && value === "unknown") return d("unknown");
    return codeName(CODES[key], value);
  }
  if (RATES.has(key)) return percent(value);
  if (DURATIONS.has(key)) return duration(value);
  if (key === "hour") return `${String(value).padStart(2, "0")}:00`;
  if (key === "rating") return d("stars", { n: value });
  if (key === "csat_average") return `${Number(value).toFixed(2)} ★`;
  if (key === "handed_off") return d(value ? "yes" : "no");
  if (key === "conversation_id") {
    const link = node("a", String(value));
    link.href = `/inbox/#/c/${encodeURIComponent(value)}`;
    link.title = d("open");
    return link;
  }
  if (typeof value === "number") return count(value);
  return String(value);
}

/** A table box: title, CSV link, the rows (or why there are none). */
export function renderTable(name, rows, params) {
  const box = node("section");
  box.className = "table-box";
  box.dataset.table = name;
  const head = node("header");
  const link = node("a", d("csv"));
  link.href = `/api/metrics/${name}?${params}&format=csv`;
  link.className = "csv";
  head.append(node("h3", d(`table_${name}`)), link);
  box.append(head);
  if (!rows.length) {
    const empty = node("p", d(`empty_${name}`));
    empty.className = "empty";
    box.append(empty);
    return box;
  }
  const scroller = node("div");
  scroller.className = "scroller";
  const table = node("table");
  const keys = Object.keys(rows[0]);
  const tr = node("tr");
  for (const key of keys) {
    const th = node("th", hasString(`col_${key}`) ? d(`col_${key}`) : "");
    th.scope = "col";
    tr.append(th);
  }
  const thead = node("thead");
  thead.append(tr);
  const tbody = node("tbody");
  for (const row of rows.slice(0, ROW_LIMIT)) {
    const line = node("tr");
    for (const key of keys) {
      const td = node("td");
      const shown = cell(key, row[key]);
      if (typeof shown === "string") td.textContent = shown;
      else td.append(shown);
      if (typeof row[key] === "number") td.className = "num";
      line.append(td);
    }
    tbody.append(line);
  }
  table.append(thead, tbody);
  scroller.append(table);
  box.append(scroller);
  return box;
}
