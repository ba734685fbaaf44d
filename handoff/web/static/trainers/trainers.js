/*
 * The trainers' page: the queue of misunderstood messages, one group at a time.
 *
 * Customer text only ever reaches the page as text nodes (dom.js's `h`), never
 * as markup. Spans are picked by selecting text inside #item-text, which holds
 * exactly one text node, so the selection's offsets are offsets in the text.
 */

import { ApiError, request, rememberCsrf, setUnauthorizedHandler } from "/inbox/api.js";
import { h, replaceChildren } from "/inbox/dom.js";
import { onLanguageChange, reasonLabel, t, toggleLanguage, translatePage } from "./i18n.js";
import { renderHistory } from "./history.js";
import { renderRetrain, setUpRetrain } from "./retrain.js";
import { renderSpanList, selectedSpan } from "./spans.js";

const REASONS = [
  "nlu_fallback",
  "ambiguous",
  "repeated_misunderstanding",
  "agent_flag",
  "low_csat",
  "thumbs_down",
  "out_of_scope",
];
const enc = encodeURIComponent;
const $ = (id) => document.getElementById(id);

const state = {
  status: "new",
  reason: "",
  queue: { items: [], counts: {} },
  intents: [],
  selected: null, // the detail of the open item
  spans: [], // [{start, end, entity, value}] in code points
};

const api = {
  queue: (status, reason) =>
    request("GET", `/api/annotations?status=${enc(status)}${reason ? `&reason=${enc(reason)}` : ""}`),
  item: (id) => request("GET", `/api/annotations/${enc(id)}`),
  label: (id, body) => request("POST", `/api/annotations/${enc(id)}`, body),
  undo: (id) => request("POST", `/api/annotations/${enc(id)}/undo`),
  history: () => request("GET", "/api/annotations/history"),
  intents: () => request("GET", "/api/intents"),
  me: () => request("GET", "/api/me"),
  logout: () => request("POST", "/api/auth/logout"),
};

function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.dataset.visible = "true";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.dataset.visible = "false";
  }, 4000);
}

function failed(error) {
  toast(t("failed", { detail: error instanceof ApiError ? error.detail : String(error) }));
}

function percent(confidence) {
  return typeof confidence === "number" ? `${Math.round(confidence * 100)}%` : "–";
}

// -- the queue ------------------------------------------------------------------------------

function renderFilters() {
  const counts = state.queue.counts || {};
  const chips = ["", ...REASONS].map((reason) =>
    h(
      "button",
      {
        type: "button",
        class: "chip",
        "aria-pressed": String(state.reason === reason),
        dataset: { reason },
        onclick: () => {
          state.reason = reason;
          loadQueue();
        },
      },
      reason ? reasonLabel(reason) : t("reason_all"),
      h("span", { class: "count" }, String(counts[reason || "all"] ?? 0)),
    ),
  );
  replaceChildren($("reason-filters"), chips);
}

function renderQueue() {
  const list = $("queue-list");
  list.setAttribute("aria-busy", "false");
  if (!state.queue.items.length) {
    replaceChildren(list, h("li", { class: "empty" }, t("queueEmpty")));
    return;
  }
  replaceChildren(
    list,
    state.queue.items.map((item) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "queue-item",
            "aria-current": String(state.selected?.id === item.id),
            dataset: { id: String(item.id) },
            onclick: () => openItem(item.id),
          },
          h("span", { class: "queue-text" }, item.text),
          h("span", { class: "badge" }, t("times", { n: item.count })),
          h(
            "span",
            { class: "queue-meta" },
            `${item.label_intent || item.predicted_intent || "–"} · ${percent(item.confidence)} · `,
            Object.keys(item.reasons || {}).map(reasonLabel).join(", "),
          ),
        ),
      ),
    ),
  );
}

async function loadQueue() {
  try {
    state.queue = await api.queue(state.status, state.reason);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      $("denied").hidden = false;
      document.body.dataset.state = "denied";
      return;
    }
    failed(error);
    return;
  }
  renderFilters();
  renderQueue();
  document.body.dataset.state = "ready";
}

// -- one item -------------------------------------------------------------------------------

function fact(term, ...value) {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

function renderItem() {
  const item = state.selected;
  $("item-empty").hidden = Boolean(item);
  $("item-body").hidden = !item;
  if (!item) return;
  $("item-text").textContent = item.text;
  const reasons = Object.entries(item.reasons || {}).map(([reason, n]) =>
    h("span", { class: "reason", dataset: { reason } }, `${reasonLabel(reason)} ×${n}`),
  );
  replaceChildren(
    $("item-facts"),
    fact(t("predicted"), `${item.predicted_intent || "–"} (${percent(item.confidence)})`),
    item.second_intent
      ? fact(t("secondIntent"), `${item.second_intent} (${percent(item.second_confidence)})`)
      : [],
    fact(t("why"), reasons),
    item.agent_intent ? fact(t("agentSuggests"), item.agent_intent) : [],
    fact(t("group"), t("groupSize", { count: item.count, size: item.group_size })),
    item.label_intent ? fact(t("label"), item.label_intent) : [],
    item.labelled_by ? fact(t("labelledBy"), item.labelled_by) : [],
  );
  replaceChildren(
    $("examples"),
    (item.examples || []).map((example) =>
      h("li", {}, h("span", {}, example.text), h("span", { class: "badge" }, t("times", { n: example.count }))),
    ),
  );
  replaceChildren(
    $("conversation"),
    (item.conversation?.messages || []).map((turn) =>
      h(
        "li",
        { class: `turn turn-${turn.role}`, "aria-current": turn.source ? "true" : null },
        h("span", { class: "turn-role" }, t(`role_${turn.role}`)),
        h("span", { class: "turn-text" }, turn.text || ""),
        turn.intent ? h("span", { class: "turn-intent" }, `${turn.intent} ${percent(turn.confidence)}`) : null,
      ),
    ),
  );
  const editable = item.status === "new";
  $("label-form").hidden = !editable;
  $("span-button").disabled = !editable;
  renderSpans();
  renderIntents();
  $("label-button").textContent = t("labelGroup", { n: item.count });
  $("ignore-button").textContent = t("ignoreGroup");
}

function renderSpans() {
  renderSpanList($("span-list"), state.spans, (index) => {
    state.spans.splice(index, 1);
    renderSpans();
  });
}

function renderIntents() {
  const select = $("intent-select");
  const query = $("intent-search").value.trim().toLowerCase();
  const previous = select.value;
  const preferred = state.selected?.agent_intent || "";
  const names = state.intents.filter((name) => !query || name.toLowerCase().includes(query));
  replaceChildren(
    select,
    names.map((name) => h("option", { value: name, selected: name === (previous || preferred) }, name)),
  );
}

async function openItem(id) {
  try {
    state.selected = await api.item(id);
  } catch (error) {
    failed(error);
    return;
  }
  state.spans = [];
  $("form-error").textContent = "";
  $("intent-search").value = "";
  renderItem();
  renderQueue();
}

function markSpan() {
  const span = selectedSpan($("item-text"));
  if (!span) {
    toast(t("selectFirst"));
    return;
  }
  if (!state.spans.some((s) => s.start < span.end && span.start < s.end)) state.spans.push(span);
  renderSpans();
}

async function submitLabel(event) {
  event.preventDefault();
  const item = state.selected;
  const intent = $("intent-select").value;
  if (!intent) {
    $("form-error").textContent = t("pickIntent");
    return;
  }
  const entities = state.spans.map(({ start, end, entity }) => ({ start, end, entity }));
  await act(() => api.label(item.id, { intent, entities }), (r) => t("labelled", { n: r.labelled, intent }));
}

async function ignoreItem() {
  const item = state.selected;
  await act(() => api.label(item.id, { ignore: true }), (r) => t("ignored", { n: r.labelled }));
}

async function act(call, message) {
  try {
    const result = await call();
    toast(message(result));
  } catch (error) {
    $("form-error").textContent = error instanceof ApiError ? error.detail : String(error);
    return;
  }
  state.selected = null;
  renderItem();
  await Promise.all([loadQueue(), loadHistory()]);
}

// -- history ----------------------------------------------------------------------------------

async function loadHistory() {
  let entries;
  try {
    ({ history: entries } = await api.history());
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 403)) failed(error);
    return;
  }
  renderHistory($("history-list"), entries, (entry) =>
    act(() => api.undo(entry.item_id), (r) => t("restored", { n: r.restored })),
  );
}

// -- start ------------------------------------------------------------------------------------

function bind() {
  for (const tab of document.querySelectorAll("[data-status]")) {
    tab.addEventListener("click", () => {
      state.status = tab.dataset.status;
      for (const other of document.querySelectorAll("[data-status]")) {
        other.setAttribute("aria-selected", String(other === tab));
      }
      state.selected = null;
      renderItem();
      loadQueue();
    });
  }
  $("span-button").addEventListener("click", markSpan);
  $("label-form").addEventListener("submit", submitLabel);
  $("ignore-button").addEventListener("click", ignoreItem);
  $("intent-search").addEventListener("input", renderIntents);
  $("lang-toggle").addEventListener("click", toggleLanguage);
  $("logout-button").addEventListener("click", async () => {
    try {
      await api.logout();
    } finally {
      rememberCsrf(null);
      location.assign("/login?next=/trainers/");
    }
  });
  onLanguageChange(() => {
    renderFilters();
    renderQueue();
    renderItem();
    loadHistory();
    renderRetrain();
  });
}

async function start() {
  setUnauthorizedHandler(() => location.assign("/login?next=/trainers/"));
  translatePage();
  bind();
  try {
    const me = await api.me();
    $("who").textContent = `${me.username} (${me.role})`;
    setUpRetrain(me, failed);
    state.intents = (await api.intents()).intents || [];
  } catch (error) {
    failed(error);
  }
  await Promise.all([loadQueue(), loadHistory()]);
}

start();
