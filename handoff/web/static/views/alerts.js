/*
 * The inbox's alert strip: conversations waiting past the threshold and a jump of the
 * bot's fallback rate (the same alerts as the dashboard; posted to Slack when it is on).
 * Reloaded on "alert.raised" and on conversation changes (a claim ends a long wait).
 */

import { h, replaceChildren } from "../dom.js";
import { t } from "../i18n.js";
import { targetAlertText } from "../labels.js";

const RELOAD_MS = 30000;
const SHOWN = 5; // the strip stays one line or two; the dashboard lists them all

function minutes(seconds) {
  return Math.max(1, Math.round(Number(seconds || 0) / 60));
}

function percentText(rate) {
  return `${Math.round(Number(rate || 0) * 1000) / 10}%`;
}

function item(alert, onOpen) {
  if (alert.kind === "long_wait") {
    return h(
      "li",
      { class: "alert long-wait", dataset: { kind: alert.kind } },
      h(
        "button",
        { type: "button", class: "alert-link", onclick: () => onOpen(alert.conversation_id) },
        t("alertLongWait", { id: alert.conversation_id, minutes: minutes(alert.wait_s) }),
      ),
    );
  }
  if (alert.kind === "target_missed") {
    return h("li", { class: "alert target-missed", dataset: { kind: alert.kind } }, targetAlertText(alert));
  }
  return h(
    "li",
    { class: "alert fallback-jump", dataset: { kind: alert.kind } },
    t("alertFallbackJump", { rate: percentText(alert.rate), base: percentText(alert.baseline) }),
  );
}

/**
 * Draws the strip into `list` and keeps it current.
 * @param {HTMLElement} list the <ul> of the strip
 * @param {{load: () => Promise<{alerts: Array<Object>}>, onOpen: (id: string) => void}} options
 * @returns {{reload: () => Promise<void>, redraw: () => void}}
 */
export function setupAlerts(list, { load, onOpen }) {
  let current = [];
  function redraw() {
    const shown = current.slice(0, SHOWN).map((alert) => item(alert, onOpen));
    const more = current.length - SHOWN;
    if (more > 0) shown.push(h("li", { class: "alert-more" }, t("alertMore", { n: more })));
    replaceChildren(list, shown);
    list.hidden = current.length === 0;
  }
  async function reload() {
    try {
      current = (await load()).alerts || [];
    } catch (_) {
      return; // keep the last strip; the next reload tries again
    }
    redraw();
  }
  setInterval(reload, RELOAD_MS);
  return { reload, redraw };
}
