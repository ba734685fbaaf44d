/*
 * Access records (admins): who viewed, revealed, exported, erased or changed what,
 * when and from where; filters, "more", and the same list as CSV.
 * Every value is shown with textContent (records name conversations and accounts).
 */

const STRINGS = {
  zh: {
    title: "访问记录", back: "返回收件箱", agent: "操作人", conversation: "会话", action: "操作",
    from: "从", to: "到", apply: "筛选", csv: "导出 CSV", all: "全部", at: "时间", target: "对象",
    address: "地址", detail: "详情", more: "更多", lang: "EN", total: "共 {n} 条",
    forbidden: "只有管理员可以查看访问记录", failed: "加载失败：{error}",
    "conversation.view": "查看会话", "conversation.reveal": "显示个人信息", "customer.export": "导出客户数据",
    "customer.erase": "删除客户数据", "csv.export": "导出 CSV", "agent.create": "创建账号",
    "agent.change": "修改账号", "password.change": "修改密码", "canned.create": "新增快捷回复",
    "settings.change": "修改设置", "totp.enrol": "生成两步验证密钥", "totp.enable": "开启两步验证",
    "totp.disable": "关闭两步验证", "totp.refused": "验证码错误",
  },
  en: {
    title: "Access records", back: "Back to the inbox", agent: "Agent", conversation: "Conversation",
    action: "Action", from: "From", to: "To", apply: "Filter", csv: "Export CSV", all: "All", at: "Time",
    target: "Target", address: "Address", detail: "Detail", more: "More", lang: "中文", total: "{n} records",
    forbidden: "Only admins may read the access records", failed: "Could not load: {error}",
    "conversation.view": "Viewed a conversation", "conversation.reveal": "Showed personal data",
    "customer.export": "Exported a customer's data", "customer.erase": "Erased a customer's data",
    "csv.export": "Exported CSV", "agent.create": "Created an account", "agent.change": "Changed an account",
    "password.change": "Changed own password", "canned.create": "Added a canned response",
    "settings.change": "Changed settings", "totp.enrol": "Second factor key issued",
    "totp.enable": "Turned the second factor on", "totp.disable": "Turned the second factor off",
    "totp.refused": "Wrong one-time code",
  },
};
const ACTIONS = ["conversation.view", "conversation.reveal", "customer.export", "customer.erase", "csv.export",
  "agent.create", "agent.change", "password.change", "canned.create", "settings.change",
  "totp.enrol", "totp.enable", "totp.disable", "totp.refused"];
const PAGE = 100;

let lang = localStorage.getItem("inbox:lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let records = [];
let total = 0;

const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  const text = (STRINGS[lang] || STRINGS.en)[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang").textContent = t("lang");
  const select = $("action-select");
  const chosen = select.value;
  select.replaceChildren(option("", t("all")), ...ACTIONS.map((action) => option(action, t(action))));
  select.value = chosen;
}

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

function cell(text, mono = false) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined || text === "" ? "–" : String(text);
  if (mono) td.className = "mono";
  return td;
}

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($("filters"))) if (String(value).trim()) params.set(key, String(value).trim());
  for (const [key, value] of Object.entries(extra)) params.set(key, String(value));
  return params;
}

function draw() {
  const rows = records.map((record) => {
    const tr = document.createElement("tr");
    tr.dataset.action = record.action;
    const detail = record.detail && Object.keys(record.detail).length ? JSON.stringify(record.detail) : "";
    tr.append(
      cell(new Date(record.at).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")),
      cell(record.actor),
      cell(STRINGS[lang][record.action] ? `${t(record.action)} (${record.action})` : record.action),
      cell(record.conversation_id, true),
      cell(record.target, true),
      cell(record.address, true),
      cell(detail, true),
    );
    return tr;
  });
  $("records").tBodies[0].replaceChildren(...rows);
  $("more").hidden = records.length >= total;
  setStatus(t("total", { n: total }));
}

function setStatus(text, kind = "info") {
  $("status").textContent = text;
  $("status").dataset.kind = kind;
}

async function load({ append = false } = {}) {
  const params = query({ limit: PAGE, offset: append ? records.length : 0 });
  $("csv-link").href = `/api/audit?${query({ format: "csv" })}`;
  const response = await fetch(`/api/audit?${params}`, { credentials: "same-origin" });
  if (response.status === 401) {
    location.href = "/login";
    return;
  }
  if (response.status === 403) {
    setStatus(t("forbidden"), "error");
    return;
  }
  if (!response.ok) {
    let error = String(response.status);
    try { error = JSON.stringify((await response.json()).detail); } catch (_) { /* not JSON */ }
    setStatus(t("failed", { error }), "error");
    return;
  }
  const body = await response.json();
  total = body.total;
  records = append ? records.concat(body.records) : body.records;
  draw();
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
$("more").addEventListener("click", () => load({ append: true }));
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("inbox:lang", lang);
  translate();
  draw();
});
translate();
load();
