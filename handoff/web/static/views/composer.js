/*
 * The reply box: Enter sends, Shift+Enter adds a line, a "private note"
 * switch, and canned responses (a button, or typing /shortcut at the start).
 */

import { h, icon, replaceChildren } from "../dom.js";
import { preview } from "../format.js";
import { t } from "../i18n.js";

/**
 * Wires the composer.
 * @param {Object} options
 * @param {(text: string, isPrivate: boolean) => Promise<boolean>} options.onSend true when sent
 * @param {() => Promise<Array>} options.loadCanned the canned responses (cached by the caller)
 * @param {() => string} options.conversationLanguage e.g. "zh-Hans", to list matching ones first
 */
export function setupComposer({ onSend, loadCanned, conversationLanguage }) {
  const form = document.getElementById("composer");
  const input = document.getElementById("reply-input");
  const noteToggle = document.getElementById("note-toggle");
  const sendButton = document.getElementById("send-button");
  const cannedButton = document.getElementById("canned-button");
  const list = document.getElementById("canned-list");
  let canReply = true;
  let options = [];
  let active = -1;
  let sending = false;
  let closeTimer = null;

  function isNote() {
    return noteToggle.checked || !canReply;
  }

  function refresh() {
    form.classList.toggle("is-note", isNote());
    input.placeholder = t(isNote() ? "notePlaceholder" : "replyPlaceholder");
    replaceChildren(sendButton, icon("send", "icon"), h("span", {}, t(isNote() ? "addNote" : "send")));
    sendButton.disabled = sending || input.value.trim() === "";
  }

  function closePicker() {
    list.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    cannedButton.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function choose(response) {
    const slash = input.value.match(/^\/\S*/);
    input.value = slash ? response.text + input.value.slice(slash[0].length) : response.text;
    closePicker();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    refresh();
  }

  function highlight(index) {
    active = index;
    list.querySelectorAll("[role=option]").forEach((el, i) => {
      el.setAttribute("aria-selected", String(i === index));
      if (i === index) {
        input.setAttribute("aria-activedescendant", el.id);
        el.scrollIntoView({ block: "nearest" });
      }
    });
  }

  async function openPicker(filter) {
    clearTimeout(closeTimer);
    let all;
    try {
      all = await loadCanned();
    } catch (_) {
      return; // the caller showed the error
    }
    const wanted = (conversationLanguage() || "").slice(0, 2);
    options = all
      .filter((r) => !filter || String(r.shortcut || "").toLowerCase().startsWith(filter.toLowerCase()))
      .sort((a, b) => (String(b.language || "").startsWith(wanted) ? 1 : 0) - (String(a.language || "").startsWith(wanted) ? 1 : 0));
    replaceChildren(
      list,
      options.length
        ? options.map((r, i) =>
            h(
              "li",
              {
                id: `canned-${i}`,
                role: "option",
                "aria-selected": "false",
                onmousedown: (event) => event.preventDefault(),
                onclick: () => choose(r),
              },
              h("span", { class: "shortcut" }, `/${r.shortcut ?? ""}`),
              r.language ? h("span", { class: "badge lang" }, r.language) : null,
              h("span", { class: "canned-text" }, preview(r.text, 120)),
            ),
          )
        : h("li", { class: "muted canned-empty" }, t("cannedEmpty")),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    cannedButton.setAttribute("aria-expanded", "true");
    if (options.length) highlight(0);
  }

  async function submit() {
    const text = input.value.trim();
    if (!text || sending) return;
    sending = true;
    refresh();
    const sent = await onSend(text, isNote());
    sending = false;
    if (sent) input.value = "";
    refresh();
    input.focus();
  }

  input.addEventListener("input", () => {
    const slash = input.value.match(/^\/(\S*)$/);
    if (slash) openPicker(slash[1]);
    else if (!list.hidden) closePicker();
    refresh();
  });

  input.addEventListener("keydown", (event) => {
    // Never send in the middle of an IME composition (Chinese input confirms with Enter).
    if (event.isComposing || event.keyCode === 229) return;
    if (!list.hidden && options.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + options.length) % options.length);
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        choose(options[active]);
        return;
      }
    }
    if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      closePicker();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  });

  input.addEventListener("blur", (event) => {
    if (event.relatedTarget === cannedButton) return;
    closeTimer = setTimeout(closePicker, 150);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  noteToggle.addEventListener("change", refresh);
  cannedButton.addEventListener("click", () => {
    if (list.hidden) {
      input.focus();
      openPicker("");
    } else closePicker();
  });

  refresh();
  return {
    /** Whether public replies are allowed (the agent holds the conversation). */
    setCanReply(value) {
      // Without the conversation only notes are possible: show the switch on, locked.
      if (value !== canReply) noteToggle.checked = !value;
      canReply = value;
      noteToggle.disabled = !value;
      refresh();
    },
    reset() {
      input.value = "";
      noteToggle.checked = !canReply;
      closePicker();
      refresh();
    },
    refresh,
  };
}
