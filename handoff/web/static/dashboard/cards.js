/*
 * Summary cards: each target's figure, target, met / not met (colour and text)
 * and the change against the previous period of the same length; then the
 * other headline figures. The targets editor (admins) saves with PUT.
 */

import { request } from "/inbox/api.js";
import { d } from "./strings.js";
import { count, duration, figure, percent, points } from "./numbers.js";

const OTHER = [
  ["conversations", "count"], ["messages", "count"], ["containment_rate", "rate"], ["handoff_rate", "rate"],
  ["fallback_rate", "rate"], ["out_of_scope_rate", "rate"], ["csat_average", "stars"],
  ["average_handling_s", "s"], ["after_sales_cases", "count"],
];

function node(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

function change(card) {
  if (card.change === null || card.change === undefined) return null;
  return card.unit === "rate" ? points(card.change) : duration(card.change);
}

function trend(card, days) {
  const text = change(card);
  if (text === null) return node("small", "trend", d("trend_none", { days }));
  if (card.change === 0) return node("small", "trend", d("trend_flat", { days }));
  const arrow = card.change > 0 ? "↑" : "↓";
  const el = node("small", `trend ${card.better ? "better" : "worse"}`,
    `${d("trend", { arrow, change: text, days })} (${d(card.better ? "better" : "worse")})`);
  return el;
}

function targetCard(card, days) {
  const box = node("div", "card target");
  box.dataset.metric = card.target;
  box.dataset.met = card.met === null ? "none" : String(card.met);
  box.title = d(`def_${card.target}`);
  const goal = figure(card.goal, card.unit);
  box.append(
    node("span", "name", d(card.target)),
    node("b", "value", figure(card.value, card.unit)),
    node("span", "goal", d(card.direction === "max" ? "target_max" : "target_min", { goal })),
    node("span", "verdict", card.met === null ? d("no_data") : d(card.met ? "met" : "missed")),
    trend(card, days),
  );
  return box;
}

function otherCard(key, kind, summary) {
  const box = node("div", "card");
  box.dataset.metric = key;
  if (d(`def_${key}`) !== `def_${key}`) box.title = d(`def_${key}`);
  const value = summary[key];
  let shown = "–";
  if (value !== null && value !== undefined) {
    if (kind === "rate") shown = percent(value);
    else if (kind === "s") shown = duration(value);
    else if (kind === "stars") shown = `${value.toFixed(2)} ★`;
    else shown = count(value);
  }
  box.append(node("span", "name", d(key)), node("b", "value", shown));
  return box;
}

/** Draws the cards of a summary (with its `targets`). */
export function renderCards(root, summary) {
  const first = new Date(summary.from);
  const last = new Date(summary.to);
  const days = Math.round((last - first) / 86400000) + 1;
  root.replaceChildren(
    ...summary.targets.map((card) => targetCard(card, days)),
    ...OTHER.filter(([key]) => key in summary).map(([key, kind]) => otherCard(key, kind, summary)),
  );
}

/** The definitions panel: each figure's meaning in words. */
export function renderDefinitions(root) {
  const keys = ["def_conversation", "def_resolution_rate", "def_first_contact_resolution_rate",
    "def_containment_rate", "def_complaint_rate", "def_csat_satisfied_rate", "def_bot_first_response_s",
    "def_human_first_response_s", "def_out_of_scope_rate"];
  const list = node("dl");
  for (const key of keys) {
    const name = key === "def_conversation" ? d("conversations") : d(key.slice(4));
    list.append(node("dt", "", name), node("dd", "", d(key)));
  }
  root.replaceChildren(node("summary", "", d("definitions")), list);
}

/** The targets editor; `onSaved` reloads the cards. */
export function renderTargets(root, answer, onSaved) {
  const form = node("form", "targets-form");
  const status = node("p", "targets-status");
  status.setAttribute("role", "status");
  for (const [key, value] of Object.entries(answer.targets)) {
    const unit = answer.definitions[key].unit;
    const label = node("label");
    const input = node("input");
    input.name = key;
    input.type = "number";
    input.step = "any";
    input.min = unit === "rate" ? "0" : "0.1";
    if (unit === "rate") input.max = "100";
    input.value = unit === "rate" ? String(+(value * 100).toFixed(2)) : String(value);
    label.append(node("span", "", d(key)), input, node("span", "unit", unit === "rate" ? "%" : d("seconds_unit")));
    form.append(label);
  }
  const save = node("button", "save", d("save"));
  save.type = "submit";
  form.append(save, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const input of form.querySelectorAll("input")) {
      const unit = answer.definitions[input.name].unit;
      const number = Number(input.value);
      body[input.name] = unit === "rate" ? number / 100 : number;
    }
    try {
      await request("PUT", "/api/metrics/targets", body);
      status.textContent = d("saved");
      await onSaved();
    } catch (error) {
      status.textContent = d("save_failed", { why: error.detail || error.message });
    }
  });
  root.replaceChildren(node("summary", "", d("targets_title")), node("p", "muted", d("targets_help")), form);
}
