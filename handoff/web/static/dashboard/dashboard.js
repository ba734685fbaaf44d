/*
 * The service-quality dashboard (admins): cards judged against the targets,
 * Chart.js charts, readable tables with CSV links, the live strip and alerts
 * (polled every 15 s). Same language switch as the inbox.
 */

import { language, label, onLanguageChange, setLanguage, translatePage } from "/inbox/i18n.js";
import { caseName, intentName, targetAlertText } from "/inbox/labels.js";
import { request } from "/inbox/api.js";
import { d } from "./strings.js";
import { duration, percent } from "./numbers.js";
import { renderCards, renderDefinitions, renderTargets } from "./cards.js";
import { TABLES, renderTable } from "./tables.js";

const charts = {};
const $ = (id) => document.getElementById(id);

function translate() {
  translatePage();
  for (const el of document.querySelectorAll("[data-d]")) el.textContent = d(el.dataset.d);
  for (const option of document.querySelectorAll("option[data-code]")) {
    option.textContent = label(option.dataset.kind, option.dataset.code);
  }
  document.title = d("title");
}

function query() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($("filters"))) if (value) params.set(key, value);
  return params.toString();
}

async function get(path) {
  try {
    return await request("GET", path);
  } catch (error) {
    if (error.status === 401) location.href = "/login?next=/dashboard/";
    throw error;
  }
}

function chart(id, type, labels, datasets, options = {}) {
  charts[id]?.destroy();
  charts[id] = new window.Chart($(id), {
    type,
    data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...options },
  });
}

function drawCharts(data, summary) {
  const hours = [...Array(24).keys()];
  const sum = (field) => hours.map((h) => data.channels.filter((r) => r.hour === h).reduce((a, r) => a + r[field], 0));
  chart("chart-hours", "bar", hours.map((h) => `${String(h).padStart(2, "0")}:00`), [
    { label: d("conversations"), data: sum("conversations") }, { label: d("messages"), data: sum("messages") },
  ]);
  const reasons = data["handoff-reasons"];
  chart("chart-reasons", "doughnut", reasons.map((r) => (r.reason === "unknown" ? d("unknown") : label("reason", r.reason))),
    [{ data: reasons.map((r) => r.handoffs) }]);
  const top = data.intents.slice(0, 12);
  chart("chart-intents", "bar", top.map((r) => intentName(r.intent)), [{ label: d("messages"), data: top.map((r) => r.messages) }]);
  const cases = data["after-sales-cases"];
  chart("chart-cases", "bar", cases.map((r) => caseName(r.case_type)),
    [{ label: d("cases"), data: cases.map((r) => r.cases) }]);
  chart("chart-csat", "bar", data.csat.map((r) => d("stars", { n: r.rating })),
    [{ label: d("ratings_n"), data: data.csat.map((r) => r.ratings) }]);
  const days = [...new Set(data["intent-trend"].map((r) => r.day))];
  const names = [...new Set(data["intent-trend"].map((r) => r.intent))];
  chart("chart-trend", "line", days, names.map((intent) => ({
    label: intentName(intent),
    data: days.map((day) => data["intent-trend"].find((r) => r.day === day && r.intent === intent)?.messages ?? 0),
  })));
  const complaintDays = [...new Set(data.complaints.map((r) => r.day))];
  const perDay = complaintDays.map((day) => {
    const rows = data.complaints.filter((r) => r.day === day);
    const n = rows.reduce((a, r) => a + r.conversations, 0);
    return n ? (100 * rows.reduce((a, r) => a + r.complaints, 0)) / n : null;
  });
  const goal = summary.targets.find((c) => c.target === "complaint_rate")?.goal ?? null;
  chart("chart-complaints", "line", complaintDays, [
    { label: d("complaint_rate_line"), data: perDay, spanGaps: true },
    { label: d("target_line"), data: complaintDays.map(() => (goal === null ? null : goal * 100)), borderDash: [6, 4], pointRadius: 0 },
  ], { scales: { y: { beginAtZero: true, ticks: { callback: (v) => `${v}%` } } } });
}

async function load() {
  document.body.dataset.state = "loading";
  const params = query();
  const [summary, targets] = await Promise.all([get(`/api/metrics/summary?${params}`), get("/api/metrics/targets")]);
  renderCards($("cards"), summary);
  renderTargets($("targets"), targets, load);
  renderDefinitions($("definitions"));
  const data = {};
  await Promise.all(TABLES.map(async (name) => { data[name] = (await get(`/api/metrics/${name}?${params}`)).rows; }));
  drawCharts(data, summary);
  $("tables").replaceChildren(...TABLES.map((name) => renderTable(name, data[name], params)));
  document.body.dataset.state = "ready";
}

function alertText(alert) {
  if (alert.kind === "long_wait") return d("long_wait", { id: alert.conversation_id, time: duration(alert.wait_s) });
  if (alert.kind === "fallback_jump") return d("fallback_jump", { rate: percent(alert.rate), base: percent(alert.baseline) });
  if (alert.kind === "target_missed") return targetAlertText(alert);
  return d("title");
}

async function live() {
  try {
    const now = await get("/api/metrics/live");
    const span = (text) => { const el = document.createElement("span"); el.textContent = text; return el; };
    $("live").replaceChildren(span(`${d("waiting")}: ${now.waiting}`),
      span(`${d("longest")}: ${duration(now.longest_wait_s)}`), span(`${d("online")}: ${now.agents_online}`));
    $("alerts").replaceChildren(...now.alerts.map((alert) => {
      const li = document.createElement("li");
      li.dataset.kind = alert.kind;
      li.textContent = alertText(alert);
      return li;
    }));
  } catch (error) {
    console.error(error);
  }
}

function init() {
  const form = $("filters");
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const week = new Date(today.getTime() - 6 * 86400000);
  form.elements.from.value = params.get("from") || week.toISOString().slice(0, 10);
  form.elements.to.value = params.get("to") || today.toISOString().slice(0, 10);
  form.addEventListener("submit", (event) => { event.preventDefault(); load().catch(console.error); });
  $("lang").addEventListener("click", () => setLanguage(language() === "zh" ? "en" : "zh"));
  onLanguageChange(() => { translate(); load().catch(console.error); live(); });
  translate();
  load().catch(console.error);
  live();
  setInterval(live, 15000);
}

init();
