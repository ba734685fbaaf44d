/*
 * The inbox's top bar (who is signed in, presence, notifications, live status,
 * language, sign-out) and the queue's filter tabs and search. The page passes
 * in what each control does.
 */

import { t } from "../i18n.js";
import { permission } from "../notify.js";
import { FILTERS } from "./queue.js";

const $ = (id) => document.getElementById(id);

/** Shows the live connection's state: `online`, `connecting` or `reconnecting`. */
export function setLiveState(liveState) {
  const el = $("live-status");
  el.dataset.state = liveState;
  el.textContent = t({ online: "liveOnline", connecting: "liveConnecting", reconnecting: "liveReconnecting" }[liveState]);
}

/** Redraws the bar for the signed-in agent `me`. */
export function drawTopBar(me) {
  const online = me.online !== false;
  $("agent-name").textContent = me.username;
  $("presence-toggle").setAttribute("aria-pressed", String(online));
  $("presence-toggle").dataset.online = String(online);
  $("presence-label").textContent = t(online ? "online" : "away");
  $("notify-button").hidden = permission() !== "default";
  setLiveState($("live-status").dataset.state || "connecting");
}

/** Wires the bar's buttons to the page's handlers. */
export function setupTopBar({ onPresence, onNotify, onLanguage, onLogout }) {
  $("presence-toggle").addEventListener("click", onPresence);
  $("notify-button").addEventListener("click", onNotify);
  $("lang-toggle").addEventListener("click", onLanguage);
  $("logout-button").addEventListener("click", onLogout);
}

/** Filter tabs (click, or arrow keys between tabs) and the search field of the queue. */
export function setupQueueFilters({ current, onFilter, onSearch }) {
  for (const tab of document.querySelectorAll(".filter")) {
    tab.addEventListener("click", () => onFilter(tab.dataset.filter));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const index = FILTERS.indexOf(current()) + (event.key === "ArrowRight" ? 1 : -1);
      const next = FILTERS[(index + FILTERS.length) % FILTERS.length];
      onFilter(next);
      document.querySelector(`.filter[data-filter="${next}"]`).focus();
    });
  }
  $("queue-search").addEventListener("input", (event) => onSearch(event.target.value.trim()));
}
