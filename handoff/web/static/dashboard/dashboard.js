/*
 * The service-quality dashboard (admins): summary cards, Chart.js charts,
 * tables with CSV links, the live strip and alerts (polled every 15 s).
 * Customer text (misunderstood messages, CSAT comments) only via textContent.
 */

const STRINGS = {
  zh: {
    title: "服务质量看板", from: "从", to: "到", channel: "渠道", team: "团队", all: "全部",
    apply: "应用", chart_hours: "每小时会话与消息", chart_reasons: "转人工原因",
    chart_intents: "意图分布", chart_csat: "满意度分布", chart_trend: "意图趋势", waiting: "等待中",
    longest: "最长等待(秒)", online: "在线客服", csv: "导出 CSV",
    long_wait: "会话 {id} 已等待 {s} 秒", fallback_jump: "兜底率升至 {rate}（基线 {base}）",
    conversations: "会话", containment_rate: "机器人解决率", handoff_rate: "转人工率",
    first_contact_resolution_rate: "首次解决率", fallback_rate: "兜底率", csat_average: "满意度",
    bot_first_response_ms_p50: "机器人首响中位数(ms)", human_first_response_s_p50: "人工首响中位数(秒)",
    average_handling_s: "平均处理时长(秒)", messages: "消息",
    after_sales_cases: "售后工单", chart_cases: "售后工单（按类型）", cases: "工单",
    case_refund: "退款", case_return: "退货", case_exchange: "换货", case_repair: "维修",
  },
  en: {
    title: "Service quality", from: "From", to: "To", channel: "Channel", team: "Team", all: "All",
    apply: "Apply", chart_hours: "Conversations and messages per hour", chart_reasons: "Hand-off reasons",
    chart_intents: "Intents", chart_csat: "CSAT distribution", chart_trend: "Intent trend", waiting: "Waiting",
    longest: "Longest wait (s)", online: "Agents online", csv: "Export CSV",
    long_wait: "Conversation {id} has waited {s} s", fallback_jump: "Fallback rate up to {rate} (baseline {base})",
    conversations: "Conversations", containment_rate: "Containment", handoff_rate: "Hand-off rate",
    first_contact_resolution_rate: "First-contact resolution", fallback_rate: "Fallback rate",
    csat_average: "CSAT", bot_first_response_ms_p50: "Bot first response p50 (ms)",
    human_first_response_s_p50: "Human first response p50 (s)", average_handling_s: "Avg handling (s)",
    messages: "Messages",
    after_sales_cases: "After-sales cases", chart_cases: "After-sales cases by type", cases: "Cases",
    case_refund: "Refund", case_return: "Return", case_exchange: "Exchange", case_repair: "Repair",
  },
};
const TABLES = ["channels", "handoff-reasons", "intents", "intent-trend", "misunderstood", "csat", "csat-comments", "agents",
  "after-sales-cases"];
const CARDS = ["conversations", "messages", "containment_rate", "handoff_rate", "first_contact_resolution_rate",
  "fallback_rate", "csat_average", "bot_first_response_ms_p50", "human_first_response_s_p50", "average_handling_s",
  "after_sales_cases"];

let lang = localStorage.getItem("dashboard:lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
const charts = {};

function t(key, vars = {}) {
  const text = (STRINGS[lang] || STRINGS.en)[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

function query() {
  const form = new FormData(document.getElementById("filters"));
  const params = new URLSearchParams();
  for (const [key, value] of form) if (value) params.set(key, value);
  return params.toString();
}

async function get(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) { location.href = "/login?next=/dashboard/"; throw new Error("sign in"); }
  if (!response.ok) throw new Error(`${response.status} ${path}`);
  return response.json();
}

function el(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text ?? "–");
  return node;
}

function chart(id, type, labels, datasets) {
  charts[id]?.destroy();
  charts[id] = new window.Chart(document.getElementById(id), {
    type, data: { labels, datasets }, options: { responsive: true, maintainAspectRatio: false, animation: false },
  });
}

function renderCards(summary) {
  const cards = document.getElementById("cards");
  cards.replaceChildren(...CARDS.map((key) => {
    const card = el("div"); card.className = "card"; card.dataset.metric = key;
    const value = summary[key];
    const shown = value === null ? "–" : key.endsWith("_rate") ? `${(value * 100).toFixed(1)}%` : value;
    card.append(el("b", shown), el("span", t(key)));
    return card;
  }));
}

function renderTable(name, rows, params) {
  const box = el("div");
  const link = el("a", `${name} — ${t("csv")}`);
  link.href = `/api/metrics/${name}?${params}&format=csv`;
  box.append(el("h3"), link);
  box.firstChild.textContent = name;
  const table = el("table");
  if (rows.length) {
    const head = el("tr");
    for (const key of Object.keys(rows[0])) head.append(el("th", key));
    table.append(head);
    for (const row of rows.slice(0, 50)) {
      const tr = el("tr");
      for (const value of Object.values(row)) tr.append(el("td", value));
      table.append(tr);
    }
  }
  box.append(table);
  return box;
}

async function load() {
  const params = query();
  const summary = await get(`/api/metrics/summary?${params}`);
  renderCards(summary);
  const data = {};
  await Promise.all(TABLES.map(async (name) => { data[name] = (await get(`/api/metrics/${name}?${params}`)).rows; }));
  const hours = [...Array(24).keys()];
  const sum = (field) => hours.map((h) => data.channels.filter((r) => r.hour === h).reduce((a, r) => a + r[field], 0));
  chart("chart-hours", "bar", hours, [
    { label: t("conversations"), data: sum("conversations") }, { label: t("messages"), data: sum("messages") },
  ]);
  chart("chart-reasons", "doughnut", data["handoff-reasons"].map((r) => r.reason),
    [{ data: data["handoff-reasons"].map((r) => r.handoffs) }]);
  chart("chart-intents", "bar", data.intents.slice(0, 12).map((r) => r.intent),
    [{ label: t("messages"), data: data.intents.slice(0, 12).map((r) => r.messages) }]);
  const cases = data["after-sales-cases"];
  chart("chart-cases", "bar", cases.map((r) => t(`case_${r.case_type}`)),
    [{ label: t("cases"), data: cases.map((r) => r.cases) }]);
  chart("chart-csat", "bar", data.csat.map((r) => `${r.rating}★`), [{ label: "CSAT", data: data.csat.map((r) => r.ratings) }]);
  const days = [...new Set(data["intent-trend"].map((r) => r.day))];
  const names = [...new Set(data["intent-trend"].map((r) => r.intent))];
  chart("chart-trend", "line", days, names.map((intent) => ({
    label: intent,
    data: days.map((day) => data["intent-trend"].find((r) => r.day === day && r.intent === intent)?.messages ?? 0),
  })));
  document.getElementById("tables").replaceChildren(...TABLES.map((name) => renderTable(name, data[name], params)));
  document.body.dataset.state = "ready";
}

async function live() {
  try {
    const now = await get("/api/metrics/live");
    const strip = document.getElementById("live");
    strip.replaceChildren(el("span", `${t("waiting")}: ${now.waiting}`),
      el("span", `${t("longest")}: ${now.longest_wait_s}`), el("span", `${t("online")}: ${now.agents_online}`));
    document.getElementById("alerts").replaceChildren(...now.alerts.map((alert) => el("li",
      alert.kind === "long_wait" ? t("long_wait", { id: alert.conversation_id, s: alert.wait_s })
        : t("fallback_jump", { rate: alert.rate, base: alert.baseline }))));
  } catch (error) {
    console.error(error);
  }
}

function init() {
  const form = document.getElementById("filters");
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const week = new Date(today.getTime() - 6 * 86400000);
  form.elements.from.value = params.get("from") || week.toISOString().slice(0, 10);
  form.elements.to.value = params.get("to") || today.toISOString().slice(0, 10);
  form.addEventListener("submit", (event) => { event.preventDefault(); load().catch(console.error); });
  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("dashboard:lang", lang);
    translate(); load().catch(console.error); live();
  });
  translate();
  load().catch(console.error);
  live();
  setInterval(live, 15000);
}

init();
