/*
 * Building DOM without HTML strings.
 *
 * Every piece of text — the customer's, the bot's, an agent's, a label — goes
 * on the page as a text node. Nothing in the inbox ever assigns innerHTML.
 */

/**
 * Creates an element.
 * @param {string} tag e.g. "div" or "button"
 * @param {Object} [attrs] class, dataset, on* listeners, hidden/disabled/…
 *   properties, anything else as an attribute
 * @param {...(Node|string|number|null|undefined|false|Array)} children text or nodes
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "text") el.textContent = String(value);
    else if (["hidden", "disabled", "checked", "value", "selected"].includes(key)) {
      el[key] = value;
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Appends text (as text nodes) and nodes, flattening arrays, skipping empties. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

const SVG = "http://www.w3.org/2000/svg";

/** Small line icons drawn from fixed path data (never from data). */
const ICONS = {
  telegram: "M21 4 3 11l6 2m12-9-4 16-8-7m12-9L9 13v6l3-3",
  wechat: "M9 4C5 4 2 6.6 2 9.7c0 1.8 1 3.3 2.5 4.4L4 16.5l2.8-1.4c.7.2 1.4.3 2.2.3M22 14.5c0-2.9-2.9-5.2-6.5-5.2S9 11.6 9 14.5s2.9 5.2 6.5 5.2c.7 0 1.3-.1 1.9-.3L20 21l-.5-2.3c1.5-1 2.5-2.5 2.5-4.2",
  webchat: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Zm-9 9h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9S9.5 5.6 12 3",
  rest: "m8 6-6 6 6 6m8-12 6 6-6 6",
  flag: "M5 21V4m0 0h11l-2 4 2 4H5",
  clock: "M12 7v5l3 2m6-2a9 9 0 1 1-18 0 9 9 0 0 1 18 0",
  bell: "M6 16V11a6 6 0 0 1 12 0v5l2 2H4l2-2m4 4h4",
  send: "M4 12 20 4l-6 16-3-7-7-1",
  note: "M5 4h14v11l-5 5H5V4m9 16v-5h5",
  canned: "M4 6h16M4 12h10M4 18h7",
  close: "M6 6l12 12M18 6 6 18",
  urgent: "M12 3 2 20h20L12 3m0 6v5m0 3v.5",
};

/**
 * An inline SVG icon (decorative: aria-hidden).
 * @param {string} name a key of ICONS
 */
export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name] || ICONS.webchat);
  svg.appendChild(path);
  return svg;
}
