/* The context panel: why the bot handed off, what it knew, who the customer is. */

import { h, replaceChildren } from "../dom.js";
import { clock, fullTime, percent } from "../format.js";
import { label, t } from "../i18n.js";
import { intentName } from "../labels.js";
import { reasonBadge } from "./queue.js";

function section(title, ...content) {
  return h("section", { class: "context-section" }, h("h2", {}, title), ...content);
}

function facts(pairs) {
  const rows = pairs.filter(([, value]) => value !== null && value !== undefined && value !== "");
  if (rows.length === 0) return h("p", { class: "muted" }, t("none"));
  return h("dl", { class: "facts" }, rows.map(([key, value]) => [h("dt", {}, key), h("dd", {}, value)]));
}

function slotValue(value) {
  if (value === null || value === undefined) return null;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function slots(all) {
  const entries = Object.entries(all || {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
  // Order id and language first: what an agent asks for first.
  entries.sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  return facts(entries.map(([key, value]) => [label("slot", key), slotValue(value)]));
}

function rank(slot) {
  return slot === "order_id" ? 0 : slot === "language" ? 1 : 2;
}

function intents(list) {
  if (!Array.isArray(list) || list.length === 0) return h("p", { class: "muted" }, t("none"));
  return h(
    "ul",
    { class: "intent-bars" },
    list.map((item) => {
      const confidence = typeof item.confidence === "number" ? Math.max(0, Math.min(1, item.confidence)) : 0;
      const fill = h("span", { class: `bar-fill${confidence < 0.5 ? " low" : ""}` });
      fill.style.width = `${Math.round(confidence * 100)}%`;
      return h(
        "li",
        { title: item.text || "" },
        h("span", { class: "intent-name" }, item.intent ? intentName(item.intent) : "?"),
        h("span", { class: "bar", role: "img", "aria-label": percent(confidence) }, fill),
        h("span", { class: "bar-value" }, percent(confidence)),
        item.text ? h("span", { class: "intent-text" }, item.text) : null,
      );
    }),
  );
}

function stars(csat) {
  if (typeof csat !== "number") return "";
  const rounded = Math.round(csat);
  return `${"★".repeat(rounded)}${"☆".repeat(Math.max(0, 5 - rounded))}`;
}

function history(data) {
  const conversations = (data && data.conversations) || [];
  const cases = (data && data.after_sales_cases) || [];
  const average = data && typeof data.csat_average === "number" ? data.csat_average : null;
  return [
    average === null ? null : facts([[t("csatAverage"), `${stars(average)} ${average.toFixed(1)}`]]),
    h("h3", {}, t("earlierConversations")),
    conversations.length
      ? h(
          "ul",
          { class: "plain-list" },
          conversations.map((c) =>
            h(
              "li",
              {},
              h("span", { class: "mono" }, c.id),
              " · ",
              label("status", c.status),
              " · ",
              h("time", { datetime: c.created_at ?? "", title: fullTime(c.created_at) }, clock(c.created_at)),
              typeof c.csat === "number" ? h("span", { class: "stars", "aria-label": `CSAT ${c.csat}` }, ` ${stars(c.csat)}`) : null,
            ),
          ),
        )
      : h("p", { class: "muted" }, t("none")),
    h("h3", {}, t("afterSalesCases")),
    cases.length
      ? h(
          "ul",
          { class: "plain-list" },
          cases.map((c) =>
            h("li", {}, h("span", { class: "mono" }, c.case_id ?? ""), " · ", c.type ?? "", " · ",
              h("span", { class: "badge status-badge" }, c.status ?? ""), c.order_id ? ` · ${c.order_id}` : ""),
          ),
        )
      : h("p", { class: "muted" }, t("none")),
  ];
}

function order(data) {
  if (!data) return h("p", { class: "muted" }, t("noOrder"));
  const items = Array.isArray(data.items) ? data.items : [];
  return [
    facts([
      [label("slot", "order_id"), data.order_id],
      [t("orderStatus"), data.status ? h("span", { class: "badge status-badge" }, data.status) : null],
      [t("total"), data.total ? `${data.total} ${data.currency || ""}`.trim() : null],
    ]),
    items.length
      ? h("ul", { class: "plain-list" }, items.map((i) => h("li", {}, `${i.name ?? i.sku ?? ""} × ${i.quantity ?? 1}`, i.price ? ` · ${i.price}` : "")))
      : null,
  ];
}

function shipping(data) {
  if (!data) return h("p", { class: "muted" }, t("none"));
  const events = Array.isArray(data.events) ? data.events : [];
  return [
    facts([
      [t("carrier"), data.carrier],
      [t("trackingNo"), data.tracking_no],
      [t("eta"), data.eta],
      [t("address"), data.address],
    ]),
    events.length
      ? h(
          "ol",
          { class: "timeline" },
          events
            .slice()
            .reverse()
            .map((e) => h("li", {}, h("time", { datetime: e.time ?? "" }, clock(e.time)), h("span", {}, [e.location, e.description].filter(Boolean).join(" · ")))),
        )
      : null,
  ];
}

/** Draws the panel for one conversation (detail shape of GET /api/conversations/{id}). */
export function renderContext(panel, conversation) {
  const context = conversation.context || {};
  const reason = context.reason || conversation.reason;
  const shippingData = context.shipping || (context.order && context.order.shipping) || null;
  panel.hidden = false;
  replaceChildren(
    panel,
    section(
      t("reason"),
      h("p", {}, reasonBadge(reason), conversation.team ? h("span", { class: "team" }, label("team", conversation.team)) : null),
    ),
    section(t("summary"), h("p", { class: "summary" }, context.summary || conversation.summary || t("none"))),
    section(t("slots"), slots(context.slots)),
    section(t("recentIntents"), intents(context.intents)),
    section(t("history"), history(context.history)),
    section(t("order"), order(context.order)),
    section(t("shipping"), shipping(shippingData)),
  );
}

/** Hides the panel when no conversation is open. */
export function clearContext(panel) {
  panel.hidden = true;
  panel.replaceChildren();
}
