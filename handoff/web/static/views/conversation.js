/* The conversation's header, its action buttons and the banner above the reply box. */

import { h, replaceChildren } from "../dom.js";
import { fullTime, since } from "../format.js";
import { label, t } from "../i18n.js";
import { channelChip, channelOf } from "./queue.js";

const ACTIVE = ["pending", "open"];

/** Whether `me` holds the conversation and may reply to the customer. */
export function canReply(conversation, me) {
  return conversation.status === "open" && conversation.assignee === me;
}

/**
 * Draws the header and sets which actions and which banner apply.
 * @returns {{composerVisible: boolean, canReply: boolean}}
 */
export function renderHeader(conversation, me) {
  const title = document.getElementById("conv-title");
  replaceChildren(title, channelChip(channelOf(conversation)), h("span", { class: "conv-id" }, conversation.id));
  const active = ACTIVE.includes(conversation.status);
  replaceChildren(
    document.getElementById("conv-meta"),
    h("span", { class: `badge status-badge status-${conversation.status}` }, label("status", conversation.status)),
    conversation.urgent ? h("span", { class: "badge urgent" }, t("urgent")) : null,
    h(
      "span",
      { class: "assignee-line" },
      conversation.assignee
        ? t("assignedTo", { name: conversation.assignee === me ? `${conversation.assignee} (${t("you")})` : conversation.assignee })
        : t("unassigned"),
    ),
    conversation.language ? h("span", {}, t("conversationLanguage", { lang: conversation.language })) : null,
    active && conversation.waiting_since
      ? h(
          "span",
          { class: conversation.flagged_wait ? "late" : "", title: fullTime(conversation.waiting_since) },
          t("waiting", { time: since(conversation.waiting_since) }),
        )
      : null,
  );
  const mine = conversation.assignee === me;
  document.getElementById("claim-button").hidden = !active || (conversation.status === "open" && mine);
  document.getElementById("transfer-button").hidden = !active;
  document.getElementById("handback-button").hidden = !active;
  document.getElementById("resolve-button").hidden = !active;

  const banner = document.getElementById("conv-banner");
  const text =
    conversation.status === "resolved" ? t("resolvedBanner")
    : conversation.status === "bot" ? t("botBanner")
    : !canReply(conversation, me) ? t("claimToReply")
    : "";
  banner.textContent = text;
  banner.hidden = text === "";
  banner.dataset.kind = active ? "hint" : "closed";
  return { composerVisible: active, canReply: canReply(conversation, me) };
}

/** Disables the action buttons while a request runs. */
export function setBusy(busy) {
  for (const id of ["claim-button", "transfer-button", "handback-button", "resolve-button"]) {
    document.getElementById(id).disabled = busy;
  }
}
