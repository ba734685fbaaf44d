/*
 * The transcript: customer, bot, agent and activity turns, told apart.
 *
 * Customer turns sit on the left, the bot's and agents' on the right (bot in
 * violet, agents in blue with their name), private notes in amber, activity
 * (claims, transfers, hand-backs) as a small centred line. A bot turn shows
 * what the bot understood (intent and confidence) and a control to flag it as
 * misunderstood. An agent's reply the platform finally refused says so, with
 * the platform's reason, and offers "send again". All text goes in as text nodes.
 */

import { h, icon } from "../dom.js";
import { clock, fullTime, percent } from "../format.js";
import { has, label, t } from "../i18n.js";

const LOW_CONFIDENCE = 0.5;

/**
 * The intent a bot turn acted on: its own, else that of the customer message
 * it answered (the last customer turn before it).
 */
function understoodBy(messages, index) {
  const own = messages[index];
  if (own.intent) return { intent: own.intent, confidence: own.confidence, answered: null };
  for (let i = index - 1; i >= 0; i -= 1) {
    if (messages[i].role === "customer") {
      return { intent: messages[i].intent, confidence: messages[i].confidence, answered: messages[i] };
    }
  }
  return { intent: null, confidence: null, answered: null };
}

/** The customer message a bot turn answered, for the flag dialog's quote. */
export function answeredMessage(messages, botMessage) {
  const index = messages.findIndex((m) => m.id === botMessage.id);
  for (let i = index - 1; i >= 0; i -= 1) if (messages[i].role === "customer") return messages[i];
  return null;
}

function flagOf(message, flags) {
  if (flags.has(message.id)) return flags.get(message.id);
  if (message.flag && message.flag.intent) return message.flag.intent;
  return null;
}

function botMeta(message, messages, index, { flags, onFlag }) {
  const understood = understoodBy(messages, index);
  const flagged = flagOf(message, flags);
  const confidence = typeof understood.confidence === "number" ? understood.confidence : null;
  return h(
    "div",
    { class: "turn-meta bot-meta" },
    understood.intent
      ? h(
          "span",
          {
            class: `intent${confidence !== null && confidence < LOW_CONFIDENCE ? " low" : ""}`,
          },
          t("understood", { intent: understood.intent, confidence: percent(confidence) }).trim(),
        )
      : null,
    flagged
      ? h("span", { class: "flagged" }, icon("flag", "icon tiny"), t("flagged", { intent: flagged }))
      : message.id !== undefined && message.id !== null
        ? h(
            "button",
            {
              type: "button",
              class: "flag-button",
              dataset: { messageId: message.id },
              onclick: () => onFlag(message),
            },
            icon("flag", "icon tiny"),
            t("flagMisunderstood"),
          )
        : null,
  );
}

/** The mark under an agent's reply that was not delivered: the reason, and "send again". */
function deliveryFailed(message, { onResend }) {
  return h(
    "div",
    { class: "delivery-failed", role: "status" },
    h("span", { class: "delivery-reason" }, t("notDelivered", { reason: message.error || "?" })),
    onResend && message.id !== undefined && message.id !== null
      ? h(
          "button",
          {
            type: "button",
            class: "resend-button",
            dataset: { messageId: message.id },
            onclick: (event) => {
              event.currentTarget.disabled = true;
              onResend(message);
            },
          },
          t("sendAgain"),
        )
      : null,
  );
}

function author(message, me) {
  if (message.role === "agent") {
    return message.agent === me ? `${message.agent} (${t("you")})` : message.agent || t("role_agent");
  }
  return label("role", message.role);
}

/**
 * An activity line in the agent's language: the service sends a kind and its
 * parameters (`{"kind": "claimed", "agent": "alice"}`) besides English text.
 */
function activityText(message) {
  const activity = message.activity;
  const key = activity && typeof activity.kind === "string" ? `activity_${activity.kind}` : "";
  if (!key || !has(key)) return message.text ?? "";
  const vars = { ...activity };
  if (vars.reason) vars.reason = label("reason", vars.reason);
  if (vars.team) vars.team = label("team", vars.team);
  return t(key, vars);
}

/**
 * One turn.
 * @param {Object} message
 * @param {Array} messages all turns (a bot turn looks back for the customer's intent)
 * @param {number} index its position
 * @param {{me: string, flags: Map, onFlag: Function}} options
 */
export function turn(message, messages, index, options) {
  const role = ["customer", "bot", "agent", "activity"].includes(message.role) ? message.role : "activity";
  if (role === "activity") {
    return h(
      "li",
      { class: "turn activity", dataset: { id: message.id ?? "" } },
      h("span", { class: "activity-text" }, activityText(message)),
      h("time", { datetime: message.created_at ?? "", title: fullTime(message.created_at) }, clock(message.created_at)),
    );
  }
  const classes = ["turn", role];
  if (message.private) classes.push("private");
  if (message.delivery === "failed") classes.push("failed");
  const buttons = Array.isArray(message.buttons) ? message.buttons : [];
  return h(
    "li",
    { class: classes.join(" "), dataset: { id: message.id ?? "" } },
    h(
      "div",
      { class: "turn-head" },
      h("span", { class: "author" }, author(message, options.me)),
      message.private
        ? h("span", { class: "badge note-badge" }, icon("note", "icon tiny"), t("privateNote"))
        : null,
      h("time", { datetime: message.created_at ?? "", title: fullTime(message.created_at) }, clock(message.created_at)),
    ),
    h("div", { class: "bubble" }, message.text ?? ""),
    buttons.length
      ? h(
          "div",
          { class: "turn-buttons" },
          buttons.map((button) => h("span", { class: "sent-button" }, button.title ?? button.payload ?? "")),
        )
      : null,
    role === "bot" ? botMeta(message, messages, index, options) : null,
    role === "agent" && message.delivery === "failed" ? deliveryFailed(message, options) : null,
  );
}

/** Draws every turn and scrolls to the newest. */
export function renderTranscript(list, messages, options) {
  list.replaceChildren(...messages.map((m, i) => turn(m, messages, i, options)));
  list.scrollTop = list.scrollHeight;
}

/** Adds one turn (from a live event); keeps the view at the bottom if it was there. */
export function appendTurn(list, messages, options) {
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  const index = messages.length - 1;
  list.appendChild(turn(messages[index], messages, index, options));
  if (nearBottom) list.scrollTop = list.scrollHeight;
}
