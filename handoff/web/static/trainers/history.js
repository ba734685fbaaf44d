/*
 * The trainers' history: the newest label and ignore actions, each undoable once.
 */

import { h, replaceChildren } from "/inbox/dom.js";
import { t } from "./i18n.js";

/** The history entries in `list`; an entry not undone gets a button calling `onUndo(entry)`. */
export function renderHistory(list, entries, onUndo) {
  if (!entries.length) {
    replaceChildren(list, h("li", { class: "empty" }, t("historyEmpty")));
    return;
  }
  replaceChildren(
    list,
    entries.map((entry) =>
      h(
        "li",
        { class: "history-entry", "data-undone": String(entry.undone) },
        h("span", { class: "history-text" }, entry.text || ""),
        h(
          "span",
          { class: "history-meta" },
          `${entry.action === "label" ? t("action_label", { intent: entry.intent }) : t("action_ignore")}`,
          ` · ×${entry.count} · ${entry.agent || ""}`,
        ),
        entry.undone
          ? h("span", { class: "undone" }, t("undone"))
          : h("button", { type: "button", class: "secondary small", onclick: () => onUndo(entry) }, t("undo")),
      ),
    ),
  );
}
