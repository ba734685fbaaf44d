/*
 * Human names of the assistant's codes, shared by the inbox and the dashboard:
 * intents, after-sales case types and KPI targets here; hand-off reasons, channels and teams
 * come from the inbox's words (i18n.js `label`). Both follow the inbox's
 * language switch. An unknown code is shown as it is, so a new intent still shows.
 */

import { label, language } from "./i18n.js";

const INTENTS = {
  en: {
    greet: "Greeting", goodbye: "Goodbye", thank: "Thanks", affirm: "Yes", deny: "No",
    bot_challenge: "Asks if it is a bot", request_human: "Asks for a person", complain: "Complaint",
    out_of_scope: "Out of scope", check_order_status: "Order status", track_shipment: "Parcel tracking",
    cancel_order: "Cancel an order", change_address: "Change the address", urge_shipment: "Hurry the shipment",
    inform_order_id: "Gives an order number", request_refund: "Refund", request_return: "Return",
    request_exchange: "Exchange", report_defect: "Faulty item", check_refund_progress: "Refund progress",
    faq: "Common question", nlu_fallback: "Not understood", inform: "Answer to a question",
    chitchat: "Small talk",
  },
  zh: {
    greet: "打招呼", goodbye: "告别", thank: "致谢", affirm: "肯定", deny: "否定",
    bot_challenge: "问是否机器人", request_human: "要求人工", complain: "投诉",
    out_of_scope: "超出服务范围", check_order_status: "查询订单状态", track_shipment: "查询物流",
    cancel_order: "取消订单", change_address: "修改地址", urge_shipment: "催发货",
    inform_order_id: "提供订单号", request_refund: "退款", request_return: "退货",
    request_exchange: "换货", report_defect: "商品故障", check_refund_progress: "退款进度",
    faq: "常见问题", nlu_fallback: "未理解", inform: "回答提问", chitchat: "闲聊",
  },
};

const CASES = {
  en: { refund: "Refund", return: "Return", exchange: "Exchange", repair: "Repair" },
  zh: { refund: "退款", return: "退货", exchange: "换货", repair: "维修" },
};

const TARGETS = {
  en: {
    bot_first_response_s: "Bot first response", human_first_response_s: "Agent first response",
    resolution_rate: "Resolution rate", first_contact_resolution_rate: "First-contact resolution",
    csat_satisfied_rate: "Satisfied customers", complaint_rate: "Complaint rate",
    missed: "{name} missed its target over the last {hours} h: {value} (target {sign} {goal})",
  },
  zh: {
    bot_first_response_s: "机器人首次响应", human_first_response_s: "人工首次响应",
    resolution_rate: "解决率", first_contact_resolution_rate: "一次解决率",
    csat_satisfied_rate: "满意度", complaint_rate: "投诉率",
    missed: "{name}近 {hours} 小时未达标：{value}（目标 {sign} {goal}）",
  },
};

function lookup(table, code) {
  if (code === null || code === undefined || code === "") return "";
  return (table[language()] || table.en)[code] ?? table.en[code] ?? String(code);
}

/** "track_shipment" → "Parcel tracking" / "查询物流"; "faq/invoice" → the FAQ's name. */
export function intentName(code) {
  const [base] = String(code ?? "").split("/");
  return lookup(INTENTS, base === "faq" ? "faq" : code);
}

/** "refund" → "Refund" / "退款". */
export function caseName(code) {
  return lookup(CASES, code);
}

/** A code of a kind: intent, case_type, reason, channel or team. */
export function codeName(kind, code) {
  if (kind === "intent") return intentName(code);
  if (kind === "case_type") return caseName(code);
  return label(kind, code);
}

/** A KPI target's name: "complaint_rate" → "Complaint rate" / "投诉率". */
export function targetName(code) {
  return lookup(TARGETS, code);
}

function targetFigure(value, unit) {
  const number = Number(value || 0);
  if (unit === "rate") return `${(number * 100).toFixed(1)}%`;
  return language() === "zh" ? `${number.toFixed(1)} 秒` : `${number.toFixed(1)} s`;
}

/** The sentence of a `target_missed` alert (the inbox's strip and the dashboard). */
export function targetAlertText(alert) {
  return lookup(TARGETS, "missed").replace(/\{(\w+)\}/g, (_, key) => String({
    name: targetName(alert.target),
    hours: alert.hours,
    value: targetFigure(alert.value, alert.unit),
    goal: targetFigure(alert.goal, alert.unit),
    sign: alert.direction === "max" ? "≤" : "≥",
  }[key] ?? ""));
}
