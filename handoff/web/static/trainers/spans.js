/*
 * Entity spans on the trainers' page: reading the selection inside the item's
 * text (one text node) as code-point offsets, and listing the spans marked.
 */

import { h, replaceChildren } from "/inbox/dom.js";
import { t } from "./i18n.js";

/** The selection inside `holder` as code-point offsets, or null. */
export function selectedSpan(holder) {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!holder.contains(range.startContainer) || !holder.contains(range.endContainer)) return null;
  const text = holder.textContent;
  let from = range.startContainer === holder ? 0 : range.startOffset;
  let to = range.endContainer === holder ? text.length : range.endOffset;
  while (from < to && /\s/.test(text[from])) from += 1;
  while (to > from && /\s/.test(text[to - 1])) to -= 1;
  if (from >= to) return null;
  // The service counts code points (Python), the DOM counts UTF-16 units.
  const start = Array.from(text.slice(0, from)).length;
  const value = text.slice(from, to);
  return { start, end: start + Array.from(value).length, entity: "order_id", value };
}

/** The marked spans as chips in `list`, each with a button that calls `onRemove(index)`. */
export function renderSpanList(list, spans, onRemove) {
  replaceChildren(
    list,
    spans.map((span, index) =>
      h(
        "li",
        { class: "span-chip" },
        h("code", {}, span.value),
        ` ${span.entity} [${span.start}, ${span.end})`,
        h("button", { type: "button", class: "link", onclick: () => onRemove(index) }, t("removeSpan")),
      ),
    ),
  );
}
