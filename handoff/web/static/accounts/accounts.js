/*
 * Agents and teams (admins): list the accounts, create one, disable or enable it,
 * reset its password, change its role, teams (skills) and capacity. Uses
 * GET/POST /api/agents and PATCH /api/agents/{username}; every value is shown with
 * textContent.
 */

import { ApiError, request } from "../api.js";

const TEAMS = ["after_sales", "logistics", "billing", "complaints"];
const ROLES = ["agent", "trainer", "admin"];
const STRINGS = {
  zh: {
    title: "坐席与团队", back: "返回收件箱", lang: "EN", newAccount: "新建账号", username: "用户名",
    password: "密码", role: "角色", capacity: "接待上限", teams: "团队", create: "创建", load: "当前会话",
    state: "状态", resetPassword: "重置密码", disable: "停用", enable: "启用", active: "正常",
    disabled: "已停用", reset: "重置", secondFactor: "两步验证", on: "已开启", off: "未开启", remove: "移除", saved: "已保存：{name}", passwordSet: "已重置密码：{name}", created: "已创建：{name}",
    total: "共 {n} 个账号", forbidden: "只有管理员可以管理账号", failed: "失败：{error}",
    agent: "坐席", trainer: "训练员", admin: "管理员",
    after_sales: "售后", logistics: "物流", billing: "账单", complaints: "投诉",
  },
  en: {
    title: "Agents and teams", back: "Back to the inbox", lang: "中文", newAccount: "New account",
    username: "Username", password: "Password", role: "Role", capacity: "Capacity", teams: "Teams",
    create: "Create", load: "Open now", state: "State", resetPassword: "Reset password",
    disable: "Disable", enable: "Enable", active: "Active", disabled: "Disabled", reset: "Reset",
    secondFactor: "Second factor", on: "On", off: "Off", remove: "Remove", saved: "Saved: {name}", passwordSet: "New password set: {name}", created: "Created: {name}", total: "{n} accounts",
    forbidden: "Only admins may manage accounts", failed: "Failed: {error}",
    agent: "Agent", trainer: "Trainer", admin: "Admin",
    after_sales: "After-sales", logistics: "Logistics", billing: "Billing", complaints: "Complaints",
  },
};

let lang = localStorage.getItem("inbox:lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let agents = [];
let lastStatus = null;

const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  const text = (STRINGS[lang] || STRINGS.en)[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

function setStatus(key, vars = {}, kind = "info") {
  lastStatus = { key, vars, kind };
  $("status").textContent = t(key, vars);
  $("status").dataset.kind = kind;
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) location.href = "/login";
  else if (error instanceof ApiError && error.status === 403) setStatus("forbidden", {}, "error");
  else setStatus("failed", { error: error instanceof ApiError ? error.detail : String(error) }, "error");
}

function roleSelect(value) {
  const select = element("select", { className: "role-select" });
  select.append(...ROLES.map((role) => element("option", { value: role, textContent: t(role) })));
  select.value = value;
  return select;
}

function teamBoxes(fieldset, chosen) {
  const legend = fieldset.querySelector("legend");
  fieldset.replaceChildren(...(legend ? [legend] : []));
  for (const team of TEAMS) {
    const box = element("input", { type: "checkbox", value: team, checked: chosen.includes(team) });
    box.dataset.team = team;
    fieldset.append(element("label", {}, box, ` ${t(team)}`));
  }
}

function chosenTeams(fieldset) {
  return [...fieldset.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
}

let saving = 0; // changes in flight; body[data-busy] tells tests and styles

async function change(username, patch) {
  saving += 1;
  document.body.dataset.busy = "true";
  try {
    await request("PATCH", `/api/agents/${encodeURIComponent(username)}`, patch);
    await load(false);
    setStatus(patch.password ? "passwordSet" : "saved", { name: username });
  } catch (error) {
    failed(error);
    await load(false);
  } finally {
    saving -= 1;
    if (!saving) delete document.body.dataset.busy;
  }
}

function row(agent) {
  const tr = element("tr");
  tr.dataset.username = agent.username;
  tr.dataset.active = String(agent.active);
  const role = roleSelect(agent.role);
  role.addEventListener("change", () => change(agent.username, { role: role.value }));
  const teams = element("fieldset", { className: "teams" });
  teamBoxes(teams, agent.skills || []);
  teams.addEventListener("change", () => change(agent.username, { skills: chosenTeams(teams) }));
  const capacity = element("input", { type: "number", min: 0, max: 100, value: agent.capacity });
  capacity.className = "capacity";
  capacity.addEventListener("change", () => change(agent.username, { capacity: Number(capacity.value) }));
  const toggle = element("button", {
    type: "button", className: "toggle", textContent: t(agent.active ? "disable" : "enable"),
  });
  toggle.addEventListener("click", () => change(agent.username, { active: !agent.active }));
  const password = element("input", { type: "password", autocomplete: "new-password", maxLength: 1024 });
  password.className = "new-password";
  const reset = element("button", { type: "button", className: "reset", textContent: t("reset") });
  reset.addEventListener("click", () => {
    if (password.value) change(agent.username, { password: password.value });
  });
  // A lost phone: an admin removes the second factor; the account signs in with its password.
  const factor = element("td", {}, element("span", { textContent: t(agent.second_factor ? "on" : "off") }));
  if (agent.second_factor) {
    const remove = element("button", { type: "button", className: "remove-factor", textContent: t("remove") });
    remove.addEventListener("click", () => change(agent.username, { second_factor: false }));
    factor.append(" ", remove);
  }
  tr.append(
    element("td", { textContent: agent.username }),
    element("td", {}, role),
    element("td", {}, teams),
    element("td", {}, capacity),
    element("td", { textContent: String(agent.load ?? 0) }),
    element("td", {}, element("span", { textContent: t(agent.active ? "active" : "disabled") }), " ", toggle),
    element("td", {}, password, " ", reset),
    factor,
  );
  return tr;
}

function draw() {
  $("agents").tBodies[0].replaceChildren(...agents.map(row));
}

async function load(announce = true) {
  try {
    const body = await request("GET", "/api/agents");
    agents = body.agents;
    draw();
    if (announce) setStatus("total", { n: agents.length });
  } catch (error) {
    failed(error);
  }
}

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  document.title = t("title");
  $("lang").textContent = t("lang");
  const form = $("create");
  const role = form.elements.role.value || "agent";
  form.elements.role.replaceWith(Object.assign(roleSelect(role), { name: "role" }));
  teamBoxes(form.querySelector(".teams"), chosenTeams(form.querySelector(".teams")));
  if (lastStatus) setStatus(lastStatus.key, lastStatus.vars, lastStatus.kind);
}

$("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("create");
  const body = {
    username: form.elements.username.value.trim(),
    password: form.elements.password.value,
    role: form.elements.role.value,
    capacity: Number(form.elements.capacity.value),
    skills: chosenTeams(form.querySelector(".teams")),
  };
  try {
    await request("POST", "/api/agents", body);
    form.reset();
    setStatus("created", { name: body.username });
    await load(false);
  } catch (error) {
    failed(error);
  }
});
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("inbox:lang", lang);
  translate();
  draw();
});
translate();
load();
