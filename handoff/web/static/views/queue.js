/* The queue column: filter counts and the list of conversations. */

import { h, icon, replaceChildren } from "../dom.js";
import { preview, since, fullTime } from "../format.js";
import { label, t } from "../i18n.js";

export const FILTERS = ["pending", "mine", "open", "resolved"];

/** Writes the four counts next to the filter tabs. */
export function renderCounts(counts) {
  for (const filter of FILTERS) {
    const el = document.getElementById(`count-${filter}`);
    const value = counts && typeof counts[filter] === "number" ? counts[filter] : null;
    el.textContent = value === null ? "·" : String(value);
    el.dataset.zero = String(value === 0);
  }
}

/** Marks the selected filter tab. */
export function selectFilter(filter) {
  for (const tab of document.querySelectorAll(".filter")) {
    const selected = tab.dataset.filter === filter;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
}

/** The channel of a conversation: its own field, else the id's prefix. */
export function channelOf(conversation) {
  if (conversation.channel) return conversation.channel;
  const id = String(conversation.id || "");
  return id.includes(":") ? id.split(":", 1)[0] : "rest";
}

/** A small channel chip: icon and name. */
export function channelChip(channel) {
  return h(
    "span",
    { class: `channel channel-${/^[a-z]+$/.test(channel) ? channel : "other"}` },
    icon(["telegram", "wechat", "webchat", "rest"].includes(channel) ? channel : "webchat"),
    label("channel", channel),
  );
}

/** The reason as a badge. */
export function reasonBadge(reason) {
  return reason ? h("span", { class: `badge reason reason-${reason}` }, label("reason", reason)) : null;
}

function matchesSearch(conversation, search) {
  if (!search) return true;
  const haystack = [
    conversation.id,
    conversation.assignee,
    conversation.summary,
    conversation.last_message && conversation.last_message.text,
    label("reason", conversation.reason),
    label("team", conversation.team),
  ]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
  return haystack.includes(search.toLowerCase());
}

function item(conversation, { selectedId, me, onOpen }) {
  const last = conversation.last_message;
  const lastRole = last ? label("role", last.role) : "";
  const waiting = conversation.status === "pending" || conversation.status === "open";
  const classes = ["queue-item"];
  if (conversation.urgent) classes.push("is-urgent");
  if (conversation.flagged_wait) classes.push("is-late");
  const button = h(
    "button",
    {
      type: "button",
      class: classes.join(" "),
      dataset: { id: conversation.id },
      "aria-current": conversation.id === selectedId ? "true" : "false",
      onclick: () => onOpen(conversation.id),
    },
    h(
      "span",
      { class: "queue-row" },
      channelChip(channelOf(conversation)),
      h("span", { class: "queue-id" }, conversation.id),
      conversation.urgent
        ? h("span", { class: "badge urgent" }, icon("urgent", "icon tiny"), t("urgent"))
        : null,
      conversation.unread > 0 && conversation.id !== selectedId
        ? h("span", { class: "unread", "aria-label": t("unread", { n: conversation.unread }) },
            String(conversation.unread))
        : null,
    ),
    h(
      "span",
      { class: "queue-row" },
      reasonBadge(conversation.reason),
      conversation.team ? h("span", { class: "team" }, label("team", conversation.team)) : null,
      conversation.assignee
        ? h("span", { class: "assignee" }, conversation.assignee === me ? t("you") : conversation.assignee)
        : null,
    ),
    h(
      "span",
      { class: "queue-preview" },
      last ? [h("span", { class: `preview-role role-${last.role}` }, `${lastRole}: `), preview(last.text)]
        : h("span", { class: "muted" }, t("noMessages")),
    ),
    waiting && conversation.waiting_since
      ? h(
          "span",
          {
            class: `waiting${conversation.flagged_wait ? " late" : ""}`,
            title: fullTime(conversation.waiting_since),
            dataset: { since: conversation.waiting_since },
          },
          icon("clock", "icon tiny"),
          h("span", { class: "waiting-text" }, t("waiting", { time: since(conversation.waiting_since) })),
          conversation.flagged_wait ? h("span", { class: "late-label" }, t("flaggedWait")) : null,
        )
      : null,
  );
  return h("li", {}, button);
}

/**
 * Draws the list, with a "load more" button when the service has more rows.
 * @param {HTMLElement} list the <ul>
 * @param {Array|null} conversations null while loading
 * @param {{selectedId: string|null, search: string, me: string, onOpen: Function,
 *          hasMore: boolean, onMore: Function}} options
 */
export function renderQueue(list, conversations, options) {
  list.setAttribute("aria-busy", String(conversations === null));
  if (conversations === null) {
    replaceChildren(list, h("li", { class: "queue-empty" }, t("loading")));
    return;
  }
  const shown = conversations.filter((c) => matchesSearch(c, options.search));
  const more = options.hasMore
    ? h("li", {}, h("button", { type: "button", class: "queue-more", onclick: options.onMore }, t("loadMore")))
    : null;
  if (shown.length === 0) {
    replaceChildren(list, h("li", { class: "queue-empty" }, t("queueEmpty")), more);
    return;
  }
  replaceChildren(list, shown.map((c) => item(c, options)), more);
}

/** Refreshes the "waiting …" texts without redrawing the list. */
export function tickWaiting(list) {
  for (const el of list.querySelectorAll(".waiting")) {
    el.querySelector(".waiting-text").textContent = t("waiting", { time: since(el.dataset.since) });
  }
}

/** Arrow keys move between the items of the list. */
export function enableArrowKeys(list) {
  list.addEventListener("keydown", (event) => {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
    const items = [...list.querySelectorAll(".queue-item")];
    const index = items.indexOf(document.activeElement);
    if (index === -1) return;
    event.preventDefault();
    const next =
      event.key === "Home" ? 0
      : event.key === "End" ? items.length - 1
      : Math.max(0, Math.min(items.length - 1, index + (event.key === "ArrowDown" ? 1 : -1)));
    items[next].focus();
  });
}
