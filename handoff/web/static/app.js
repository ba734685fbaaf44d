/*
 * The agents' inbox: one page, three columns (queue, conversation, context),
 * kept current by the live WebSocket. Plain ES modules, no build step.
 */

import { ApiError, api, rememberCsrf, setUnauthorizedHandler } from "./api.js";
import { problem, report } from "./errors.js";
import { label, language, onLanguageChange, setLanguage, t, translatePage } from "./i18n.js";
import { LiveConnection } from "./live.js";
import { cannedResponses, intentNames } from "./lookups.js";
import { askPermission, chime, notify, unlockOnGesture } from "./notify.js";
import { setupAlerts } from "./views/alerts.js";
import { setupComposer } from "./views/composer.js";
import { clearContext, renderContext } from "./views/context.js";
import { renderHeader, setBusy } from "./views/conversation.js";
import { openFlagDialog, openTransferDialog } from "./views/dialogs.js";
import {
  FILTERS, channelOf, enableArrowKeys, renderCounts, renderQueue, selectFilter, tickWaiting,
} from "./views/queue.js";
import { toast } from "./views/toast.js";
import { drawTopBar, setLiveState, setupQueueFilters, setupTopBar } from "./views/topbar.js";
import { answeredMessage, appendTurn, renderTranscript } from "./views/transcript.js";

const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  filter: "pending",
  search: "",
  conversations: null,
  counts: null,
  limit: 0, // rows asked for: one page, one more per "load more"
  hasMore: false,
  selectedId: null,
  detail: null,
  flags: new Map(), // message id → intent, flagged in this session
};

// --- signing in again -----------------------------------------------------------------

function signInAgain() {
  rememberCsrf(null);
  location.assign("/login");
}

setUnauthorizedHandler(signInAgain);

// --- the queue ------------------------------------------------------------------------

const queueList = $("queue-list");
const PAGE = 50; // about what the column shows; the service pages with limit/has_more
const MAX_ROWS = 500; // the service's largest page
state.limit = PAGE;
let listRequest = 0;
let listTimer = null;

function drawQueue() {
  renderQueue(queueList, state.conversations, {
    selectedId: state.selectedId,
    search: state.search,
    me: state.me && state.me.username,
    onOpen: openConversation,
    hasMore: state.hasMore && state.limit < MAX_ROWS,
    onMore: loadMore,
  });
  renderCounts(state.counts);
}

async function loadQueue() {
  const mine = ++listRequest;
  try {
    const answer = await api.conversations(state.filter, state.limit);
    if (mine !== listRequest) return; // a newer request is on its way
    state.conversations = answer.conversations || [];
    state.hasMore = Boolean(answer.has_more);
    state.counts = answer.counts || null;
    drawQueue();
  } catch (error) {
    report(error);
  }
}

/** One more page; live reloads keep asking for all the rows shown so far. */
function loadMore() {
  state.limit = Math.min(state.limit + PAGE, MAX_ROWS);
  loadQueue();
}

/** Reloads the list soon, once for a burst of events. */
function queueSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(loadQueue, 200);
}

function setFilter(filter) {
  if (!FILTERS.includes(filter)) return;
  state.filter = filter;
  state.conversations = null;
  state.limit = PAGE;
  state.hasMore = false;
  selectFilter(filter);
  drawQueue();
  loadQueue();
}

// --- the open conversation ------------------------------------------------------------

const transcript = $("transcript");
let composer = null;
let alertStrip = { reload: () => {}, redraw: () => {} };

function transcriptOptions() {
  return { me: state.me.username, flags: state.flags, onFlag: flagTurn, onResend: resendTurn };
}

function drawConversation({ keepScroll = false } = {}) {
  const detail = state.detail;
  $("conv-empty").hidden = Boolean(detail);
  $("conv-body").hidden = !detail;
  if (!detail) {
    clearContext($("context"));
    return;
  }
  const { composerVisible, canReply } = renderHeader(detail, state.me.username);
  // Personal data is masked; the agent holding the conversation or an admin may show it.
  $("reveal-button").hidden = !(detail.assignee === state.me.username || state.me.role === "admin");
  $("composer").hidden = !composerVisible;
  composer.setCanReply(canReply);
  const scroll = transcript.scrollTop;
  renderTranscript(transcript, detail.messages || [], transcriptOptions());
  if (keepScroll) transcript.scrollTop = scroll;
  renderContext($("context"), detail);
}

async function openConversation(id, { focus = true } = {}) {
  const switching = id !== state.selectedId;
  state.selectedId = id;
  if (switching) composer.reset();
  history.replaceState(null, "", `#/c/${encodeURIComponent(id)}`);
  drawQueue();
  try {
    const detail = await api.conversation(id);
    if (state.selectedId !== id) return;
    state.detail = detail;
    drawConversation({ keepScroll: !switching });
    const local = (state.conversations || []).find((c) => c.id === id);
    if (local) local.unread = 0;
    drawQueue();
    if (switching && focus) $("reply-input").focus({ preventScroll: true });
  } catch (error) {
    report(error);
  }
}

let detailTimer = null;
function reloadConversationSoon() {
  clearTimeout(detailTimer);
  if (state.selectedId) {
    detailTimer = setTimeout(() => openConversation(state.selectedId, { focus: false }), 150);
  }
}

function addMessage(message) {
  const detail = state.detail;
  if (!detail || !message) return;
  detail.messages = detail.messages || [];
  if (message.id !== undefined && detail.messages.some((m) => m.id === message.id)) return;
  detail.messages.push(message);
  appendTurn(transcript, detail.messages, transcriptOptions());
}

async function send(text, isPrivate) {
  try {
    const answer = await api.send(state.selectedId, text, isPrivate);
    if (answer && answer.message) addMessage(answer.message);
    else reloadConversationSoon();
    return true;
  } catch (error) {
    report(error);
    return false;
  }
}

async function act(run, done) {
  const id = state.selectedId;
  if (!id) return null;
  setBusy(true);
  try {
    await run(id);
    if (done) toast(done);
    await Promise.all([openConversation(id, { focus: false }), loadQueue()]);
    return null;
  } catch (error) {
    report(error);
    return problem(error);
  } finally {
    setBusy(false);
  }
}

async function reveal() {
  const id = state.selectedId;
  if (!id) return;
  try {
    const detail = await api.reveal(id);
    if (state.selectedId !== id) return;
    state.detail = detail;
    drawConversation({ keepScroll: true });
    toast(t("revealed"));
  } catch (error) {
    report(error);
  }
}

/** "Send again" on a reply that was not delivered; the transcript then shows the outcome. */
async function resendTurn(message) {
  const id = state.selectedId;
  if (!id) return;
  try {
    await api.resend(id, message.id);
    toast(t("sentAgain"));
  } catch (error) {
    report(error);
  }
  await openConversation(id, { focus: false });
}

async function flagTurn(message) {
  let intents;
  try {
    intents = await intentNames();
  } catch (error) {
    report(error);
    return;
  }
  const answered = answeredMessage(state.detail.messages, message);
  openFlagDialog(intents, answered ? answered.text : "", async (intent) => {
    try {
      await api.flag(message.id, intent);
      state.flags.set(message.id, intent);
      drawConversation({ keepScroll: true });
      toast(t("flagSaved"));
      return null;
    } catch (error) {
      return problem(error);
    }
  });
}

async function transfer() {
  let agents = [];
  try {
    const answer = await api.agents();
    agents = Array.isArray(answer) ? answer : answer.agents || [];
  } catch (_) {
    // No agent list from the service: the dialog takes a typed username.
  }
  openTransferDialog(agents, state.me.username, (target) =>
    act((id) => api.transfer(id, target), t("transferred")));
}

// --- live events ----------------------------------------------------------------------

// A new alert, or a change that can end a long wait.
const ALERT_EVENTS = new Set([
  "alert.raised", "alert.cleared", "conversation.assigned", "conversation.resolved", "conversation.handed_back",
]);

function onEvent(event) {
  const conversation = event.conversation || {};
  const current = conversation.id && conversation.id === state.selectedId;
  if (event.type === "message.created" && current) {
    addMessage(event.message);
    if (state.detail) Object.assign(state.detail, { ...conversation, messages: state.detail.messages, context: state.detail.context });
  } else if (current) {
    reloadConversationSoon();
  }
  if (event.type === "conversation.handed_off" && state.me.online !== false) {
    chime(Boolean(conversation.urgent));
    notify(
      t("newHandoffTitle"),
      t("newHandoffBody", { channel: label("channel", channelOf(conversation)), reason: label("reason", conversation.reason) }),
      `handoff:${conversation.id}`,
      () => openConversation(conversation.id),
    );
  }
  if (ALERT_EVENTS.has(event.type)) alertStrip.reload();
  queueSoon();
}

// --- the top bar ----------------------------------------------------------------------

async function togglePresence() {
  const online = state.me.online === false;
  if (online) askPermission().then(() => drawTopBar(state.me)); // a user gesture: a good moment to ask
  try {
    const answer = await api.setPresence(online);
    state.me.online = answer && typeof answer.online === "boolean" ? answer.online : online;
    drawTopBar(state.me);
  } catch (error) {
    report(error);
  }
}

async function logout() {
  try {
    await api.logout();
  } catch (_) {
    // Leaving anyway: the session cookie expires on its own.
  }
  rememberCsrf(null);
  location.assign("/login");
}

function wireControls() {
  setupTopBar({
    onPresence: togglePresence,
    onNotify: async () => {
      await askPermission();
      drawTopBar(state.me);
    },
    onLanguage: () => setLanguage(language() === "zh" ? "en" : "zh"),
    onLogout: logout,
  });
  setupQueueFilters({
    current: () => state.filter,
    onFilter: setFilter,
    onSearch: (text) => {
      state.search = text;
      drawQueue();
    },
  });
  $("back-button").addEventListener("click", () => {
    state.selectedId = null;
    state.detail = null;
    history.replaceState(null, "", location.pathname);
    drawConversation();
    drawQueue();
  });
  $("claim-button").addEventListener("click", () => act(api.claim, t("claimed")));
  $("transfer-button").addEventListener("click", transfer);
  $("handback-button").addEventListener("click", () => act(api.handBack, t("handedBack")));
  $("resolve-button").addEventListener("click", () => act(api.resolve, t("resolvedToast")));
  $("reveal-button").addEventListener("click", reveal);
}

// --- start ----------------------------------------------------------------------------

async function start() {
  translatePage();
  try {
    state.me = await api.me();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(problem(error), "error");
    return;
  }
  document.body.dataset.state = "ready";
  unlockOnGesture();
  composer = setupComposer({
    onSend: send,
    loadCanned: () =>
      cannedResponses().catch((error) => {
        report(error);
        throw error;
      }),
    conversationLanguage: () => (state.detail && state.detail.language) || "",
  });
  wireControls();
  $("audit-link").hidden = state.me.role !== "admin";
  $("accounts-link").hidden = state.me.role !== "admin";
  drawTopBar(state.me);
  enableArrowKeys(queueList);
  onLanguageChange(() => {
    drawTopBar(state.me);
    drawQueue();
    composer.refresh();
    drawConversation({ keepScroll: true });
  });
  alertStrip = setupAlerts($("alert-strip"), { load: api.alerts, onOpen: (id) => openConversation(id) });
  onLanguageChange(() => alertStrip.redraw());
  alertStrip.reload();
  selectFilter(state.filter);
  drawQueue();
  drawConversation();
  const fromHash = location.hash.match(/^#\/c\/(.+)$/);
  await loadQueue();
  if (fromHash) openConversation(decodeURIComponent(fromHash[1]), { focus: false });
  new LiveConnection({
    onEvent,
    onState: setLiveState,
    onReconnect: () => {
      loadQueue();
      reloadConversationSoon();
    },
    onUnauthorized: signInAgain,
  }).start();
  setInterval(() => tickWaiting(queueList), 30000);
}

start();
