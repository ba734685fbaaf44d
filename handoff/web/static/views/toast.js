/* Short messages at the bottom of the screen (role=status, read by screen readers). */

import { h } from "../dom.js";

/**
 * Shows a message for a few seconds.
 * @param {string} text
 * @param {"info"|"error"} kind
 */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : null }, text);
  box.appendChild(item);
  setTimeout(() => item.classList.add("leaving"), kind === "error" ? 6000 : 3500);
  setTimeout(() => item.remove(), kind === "error" ? 6400 : 3900);
}
