/*
 * The trainers' page's words in Chinese and English.
 *
 * The language is the one the agent chose in the inbox (same localStorage
 * key), else the browser's. Static markup names its strings with data-i18n,
 * data-i18n-placeholder, data-i18n-aria-label and data-i18n-title.
 */

const STORAGE_KEY = "inbox:lang";

const STRINGS = {
  en: {
    appName: "Trainers' queue",
    statusLabel: "Status",
    status_new: "To label",
    status_labelled: "Labelled",
    status_ignored: "Ignored",
    toInbox: "Inbox",
    switchLanguage: "中文",
    logout: "Log out",
    denied: "The trainers' queue needs the role trainer or admin.",
    queueLabel: "Messages to label",
    reasonFilter: "Why in the queue",
    reason_all: "All",
    reason_nlu_fallback: "Not understood",
    reason_ambiguous: "Ambiguous",
    reason_repeated_misunderstanding: "Repeated misunderstanding",
    reason_agent_flag: "Flagged by an agent",
    reason_low_csat: "Low rating (1–2)",
    reason_thumbs_down: "Thumbs down",
    reason_out_of_scope: "Out of scope",
    queueEmpty: "Nothing to label. Nice work!",
    pickItem: "Pick a message on the left.",
    itemTitle: "Message",
    times: "×{n}",
    predicted: "Predicted",
    secondIntent: "Runner-up",
    why: "Why",
    agentSuggests: "Agent suggests",
    label: "Label",
    labelledBy: "Labelled by",
    group: "Group",
    groupSize: "{count} messages, {size} wordings",
    markOrderId: "Mark order_id",
    selectSpanHint: "Select the order number in the text, then mark it.",
    selectFirst: "Select part of the message text first.",
    removeSpan: "Remove",
    intent: "Intent",
    searchIntents: "Search intents…",
    labelGroup: "Label group ({n})",
    ignoreGroup: "Ignore group",
    pickIntent: "Pick an intent.",
    examples: "Wordings in this group",
    conversation: "Conversation",
    role_customer: "Customer",
    role_bot: "Bot",
    role_agent: "Agent",
    history: "History",
    historyEmpty: "No labels yet.",
    action_label: "labelled {intent}",
    action_ignore: "ignored",
    undo: "Undo",
    undone: "undone",
    labelled: "Labelled {n} messages as {intent}",
    ignored: "Ignored {n} messages",
    restored: "Undone: {n} messages back",
    failed: "That did not work: {detail}",
    retrain: "Retrain the model",
    retrain_running: "Retrain {n} running…",
    retrain_promoted: "Retrain {n}: the new model is served",
    retrain_unchanged: "Retrain {n}: nothing new to train on",
    retrain_refused: "Retrain {n} refused by the gate: the serving model stays",
    retrain_failed: "Retrain {n} failed",
    stage_exporting: "Export labels",
    stage_validating: "Validate data",
    stage_training: "Train",
    stage_scoring: "Score both models",
    stage_promoting: "Promote",
  },
  zh: {
    appName: "训练师队列",
    statusLabel: "状态",
    status_new: "待标注",
    status_labelled: "已标注",
    status_ignored: "已忽略",
    toInbox: "收件箱",
    switchLanguage: "English",
    logout: "退出",
    denied: "训练师队列需要训练师或管理员角色。",
    queueLabel: "待标注消息",
    reasonFilter: "进入队列的原因",
    reason_all: "全部",
    reason_nlu_fallback: "未理解",
    reason_ambiguous: "意图模糊",
    reason_repeated_misunderstanding: "多次未理解",
    reason_agent_flag: "客服标记",
    reason_low_csat: "低评分（1–2）",
    reason_thumbs_down: "点踩",
    reason_out_of_scope: "超出服务范围",
    queueEmpty: "没有待标注的消息，干得好！",
    pickItem: "请在左侧选择一条消息。",
    itemTitle: "消息",
    times: "×{n}",
    predicted: "预测意图",
    secondIntent: "次选意图",
    why: "原因",
    agentSuggests: "客服建议",
    label: "标注",
    labelledBy: "标注人",
    group: "分组",
    groupSize: "{count} 条消息，{size} 种说法",
    markOrderId: "标记 order_id",
    selectSpanHint: "在文本中选中订单号，然后标记。",
    selectFirst: "请先在消息文本中选中一段。",
    removeSpan: "移除",
    intent: "意图",
    searchIntents: "搜索意图…",
    labelGroup: "标注整组（{n}）",
    ignoreGroup: "忽略整组",
    pickIntent: "请选择一个意图。",
    examples: "本组的说法",
    conversation: "对话",
    role_customer: "顾客",
    role_bot: "机器人",
    role_agent: "客服",
    history: "历史",
    historyEmpty: "还没有标注。",
    action_label: "标注为 {intent}",
    action_ignore: "已忽略",
    undo: "撤销",
    undone: "已撤销",
    labelled: "已将 {n} 条消息标注为 {intent}",
    ignored: "已忽略 {n} 条消息",
    restored: "已撤销：{n} 条消息回到队列",
    failed: "操作失败：{detail}",
    retrain: "重新训练模型",
    retrain_running: "第 {n} 次重新训练进行中…",
    retrain_promoted: "第 {n} 次重新训练：新模型已上线",
    retrain_unchanged: "第 {n} 次重新训练：没有新的训练数据",
    retrain_refused: "第 {n} 次重新训练未通过把关：继续使用当前模型",
    retrain_failed: "第 {n} 次重新训练失败",
    stage_exporting: "导出标注",
    stage_validating: "校验数据",
    stage_training: "训练",
    stage_scoring: "评估两个模型",
    stage_promoting: "上线",
  },
};

function initial() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === "en") return "en";
    if (stored && stored.startsWith("zh")) return "zh";
  } catch (_) {
    // fall back to the browser
  }
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let current = initial();
const listeners = new Set();

/** The current language, "zh" or "en". */
export function language() {
  return current;
}

/** A string in the current language with {placeholders} filled in. */
export function t(key, vars = {}) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** A reason's label, or the code itself for reasons added later. */
export function reasonLabel(code) {
  return STRINGS.en[`reason_${code}`] ? t(`reason_${code}`) : String(code);
}

/** Switches between zh and en, remembers it, redraws. */
export function toggleLanguage() {
  current = current === "zh" ? "en" : "zh";
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch (_) {
    // not persisted
  }
  translatePage();
  for (const listener of listeners) listener(current);
}

/** Calls `listener` after each language change. */
export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** Fills in the data-i18n* attributes. */
export function translatePage(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
