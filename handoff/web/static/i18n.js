/*
 * The inbox's words in Chinese and English.
 *
 * The language comes from localStorage (the agent's last choice) or else the
 * browser; `setLanguage` stores the choice and tells listeners, which redraw.
 * Static markup names its strings with data-i18n (text), data-i18n-placeholder,
 * data-i18n-aria-label and data-i18n-title; `translatePage` fills them in.
 */

const STORAGE_KEY = "inbox:lang";

const STRINGS = {
  en: {
    appName: "Support inbox",
    online: "Online",
    away: "Away",
    presenceHint: "Your status: only online agents get new conversations",
    switchLanguage: "中文",
    switchLanguageLabel: "切换到中文",
    logout: "Log out",
    enableNotifications: "Enable notifications",
    notificationsOn: "Notifications on",
    liveConnecting: "Connecting…",
    liveOnline: "Live",
    liveReconnecting: "Reconnecting…",
    queueLabel: "Conversations",
    filterPending: "Pending",
    filterMine: "Mine",
    filterOpen: "All open",
    filterResolved: "Resolved",
    searchPlaceholder: "Search id, text…",
    queueEmpty: "Nothing here. Nice work!",
    loadMore: "Load more",
    loading: "Loading…",
    waiting: "Waiting {time}",
    flaggedWait: "Waiting too long",
    alertsLabel: "Alerts",
    alertMore: "and {n} more",
    alertLongWait: "{id} has waited {minutes} min for an agent",
    alertFallbackJump: "The bot misunderstands more than usual today: fallback rate {rate} (usual {base})",
    urgent: "Urgent",
    unread: "{n} new",
    noMessages: "No messages yet",
    channel_telegram: "Telegram",
    channel_wechat: "WeChat",
    channel_webchat: "Web chat",
    channel_rest: "API",
    reason_explicit_request: "Asked for a human",
    reason_repeated_misunderstanding: "Bot misunderstood",
    reason_unresolved: "Not resolved by the bot",
    reason_sensitive_topic: "Sensitive topic",
    reason_complaint: "Complaint",
    reason_form_failed: "Form failed",
    reason_shop_unavailable: "Shop unavailable",
    team_after_sales: "After-sales",
    team_logistics: "Logistics",
    team_billing: "Billing",
    team_complaints: "Complaints",
    status_bot: "With the bot",
    status_pending: "Pending",
    status_open: "Open",
    status_resolved: "Resolved",
    role_customer: "Customer",
    role_bot: "Bot",
    role_agent: "Agent",
    role_activity: "Activity",
    you: "You",
    pickConversation: "Pick a conversation from the queue",
    pickConversationHint: "New handoffs appear on the left as they arrive.",
    assignedTo: "Assigned to {name}",
    unassigned: "Unassigned",
    claim: "Claim",
    transfer: "Transfer",
    handBack: "Hand back to bot",
    resolve: "Resolve",
    understood: "Understood: {intent} {confidence}",
    flagMisunderstood: "Flag as misunderstood",
    flagged: "Flagged: should be {intent}",
    privateNote: "Private note",
    notDelivered: "Not delivered: {reason}",
    sendAgain: "Send again",
    sentAgain: "Sent",
    privateNoteHint: "Only agents see notes",
    replyPlaceholder: "Reply to the customer — Enter sends, Shift+Enter for a new line, / for canned responses",
    notePlaceholder: "Write a private note for your team — the customer never sees it",
    send: "Send",
    addNote: "Add note",
    cannedResponses: "Canned responses",
    cannedEmpty: "No canned response matches",
    claimToReply: "Claim this conversation to reply to the customer (private notes are always possible).",
    resolvedBanner: "This conversation is resolved. If the customer writes again, the bot answers first.",
    botBanner: "The bot has this conversation again.",
    transferTitle: "Transfer the conversation",
    transferToAgent: "To an agent",
    transferToTeam: "To a team",
    agentName: "Agent",
    team: "Team",
    cancel: "Cancel",
    confirmTransfer: "Transfer",
    flagTitle: "What did the customer mean?",
    flagHelp: "The customer message this bot turn answered gets this label in the trainers' queue.",
    searchIntents: "Filter intents",
    confirmFlag: "Save label",
    close: "Close",
    contextLabel: "Context",
    reason: "Reason",
    summary: "Summary",
    slots: "Slots",
    slot_order_id: "Order id",
    slot_language: "Language",
    recentIntents: "Recent intents",
    history: "History",
    earlierConversations: "Earlier conversations",
    csatAverage: "Average CSAT",
    afterSalesCases: "After-sales cases",
    order: "Order",
    shipping: "Shipping",
    total: "Total",
    orderStatus: "Status",
    back: "← Queue",
    skipToConversation: "Skip to the conversation",
    carrier: "Carrier",
    trackingNo: "Tracking no.",
    eta: "Expected",
    address: "Address",
    none: "None",
    noOrder: "No order linked",
    conversationLanguage: "Customer language: {lang}",
    justNow: "under a minute",
    minutes: "{n} min",
    hoursMinutes: "{h} h {m} min",
    days: "{n} d",
    errorNetwork: "Cannot reach the server. Check your connection.",
    errorStatus: "That did not work ({status}): {detail}",
    sessionExpired: "Your session has ended. Please sign in again.",
    claimed: "You claimed the conversation",
    transferred: "Conversation transferred",
    handedBack: "Handed back to the bot",
    resolvedToast: "Resolved; the customer is asked for a rating",
    reveal: "Show personal data",
    revealHint: "Phone numbers, addresses and card numbers are masked; showing them is recorded",
    revealed: "Personal data shown (recorded); it is masked again on the next update",
    auditLink: "Access records",
    accountsLink: "Agents and teams",
    flagSaved: "Thanks! Label saved for the trainers",
    activity_handed_off: "Handed off by the bot: {reason}",
    activity_claimed: "Claimed by {agent}",
    activity_auto_assigned: "Assigned to {agent} automatically",
    activity_transferred_to_agent: "Transferred to {agent} by {by}",
    activity_transferred_to_team: "Transferred to the {team} team by {by}",
    activity_handed_back: "Handed back to the bot by {agent}",
    activity_resolved: "Resolved by {agent}",
    activity_released: "Back in the queue: {agent} can no longer reply (changed by {by})",
    activity_resumed_outside: "The bot took over again outside the inbox",
    newHandoffTitle: "New conversation waiting",
    newHandoffBody: "{channel} · {reason}",
    loginTitle: "Sign in to the support inbox",
    username: "Username",
    password: "Password",
    signIn: "Sign in",
    signingIn: "Signing in…",
    loginInvalid: "Wrong username or password.",
    loginRateLimited: "Too many attempts. Try again in {seconds} seconds.",
    oneTimeCode: "6-digit code from your authenticator app",
    loginCodeNeeded: "Enter the 6-digit code from your authenticator app.",
    loginCodeWrong: "Wrong or already used code. Wait for the next one.",
    loginEnrol: "Admins need a second factor. Add this key to your authenticator app, then enter its code:",
    loginMissing: "Enter your username and password.",
  },
  zh: {
    appName: "客服工作台",
    online: "在线",
    away: "离开",
    presenceHint: "你的状态：只有在线的客服会被分配新会话",
    switchLanguage: "English",
    switchLanguageLabel: "Switch to English",
    logout: "退出登录",
    enableNotifications: "开启通知",
    notificationsOn: "通知已开启",
    liveConnecting: "正在连接…",
    liveOnline: "实时",
    liveReconnecting: "正在重新连接…",
    queueLabel: "会话列表",
    filterPending: "待接入",
    filterMine: "我的",
    filterOpen: "全部进行中",
    filterResolved: "已解决",
    searchPlaceholder: "搜索会话号、内容…",
    queueEmpty: "这里没有会话，干得漂亮！",
    loadMore: "加载更多",
    loading: "加载中…",
    waiting: "已等待 {time}",
    flaggedWait: "等待超时",
    alertsLabel: "告警",
    alertMore: "另有 {n} 条",
    alertLongWait: "{id} 已等待人工 {minutes} 分钟",
    alertFallbackJump: "今天机器人听不懂的情况明显增多：兜底率 {rate}（平时 {base}）",
    urgent: "紧急",
    unread: "{n} 条新消息",
    noMessages: "暂无消息",
    channel_telegram: "Telegram",
    channel_wechat: "微信",
    channel_webchat: "网页聊天",
    channel_rest: "API",
    reason_explicit_request: "客户要求人工",
    reason_repeated_misunderstanding: "机器人多次未理解",
    reason_unresolved: "机器人未能解决",
    reason_sensitive_topic: "敏感话题",
    reason_complaint: "投诉",
    reason_form_failed: "信息收集失败",
    reason_shop_unavailable: "商城系统不可用",
    team_after_sales: "售后",
    team_logistics: "物流",
    team_billing: "账务",
    team_complaints: "投诉",
    status_bot: "机器人处理中",
    status_pending: "待接入",
    status_open: "进行中",
    status_resolved: "已解决",
    role_customer: "客户",
    role_bot: "机器人",
    role_agent: "客服",
    role_activity: "动态",
    you: "我",
    pickConversation: "从左侧列表选择一个会话",
    pickConversationHint: "新转人工的会话会实时出现在左侧。",
    assignedTo: "处理人：{name}",
    unassigned: "未分配",
    claim: "接入",
    transfer: "转接",
    handBack: "交还机器人",
    resolve: "解决",
    understood: "识别：{intent} {confidence}",
    flagMisunderstood: "标记为误解",
    flagged: "已标记：应为 {intent}",
    privateNote: "内部备注",
    notDelivered: "未送达：{reason}",
    sendAgain: "重新发送",
    sentAgain: "已发送",
    privateNoteHint: "备注仅客服可见",
    replyPlaceholder: "回复客户 — Enter 发送，Shift+Enter 换行，输入 / 使用快捷回复",
    notePlaceholder: "给团队写内部备注 — 客户看不到",
    send: "发送",
    addNote: "添加备注",
    cannedResponses: "快捷回复",
    cannedEmpty: "没有匹配的快捷回复",
    claimToReply: "接入此会话后才能回复客户（内部备注随时可写）。",
    resolvedBanner: "此会话已解决。客户再次来信时由机器人先接待。",
    botBanner: "此会话已交还机器人。",
    transferTitle: "转接会话",
    transferToAgent: "转给客服",
    transferToTeam: "转给团队",
    agentName: "客服",
    team: "团队",
    cancel: "取消",
    confirmTransfer: "转接",
    flagTitle: "客户的真实意图是？",
    flagHelp: "这条机器人回复所回应的客户消息会带着这个标签进入训练队列。",
    searchIntents: "筛选意图",
    confirmFlag: "保存标签",
    close: "关闭",
    contextLabel: "会话信息",
    reason: "转人工原因",
    summary: "摘要",
    slots: "已收集信息",
    slot_order_id: "订单号",
    slot_language: "语言",
    recentIntents: "最近的意图",
    history: "历史",
    earlierConversations: "以往会话",
    csatAverage: "平均满意度",
    afterSalesCases: "售后工单",
    order: "订单",
    shipping: "物流",
    total: "合计",
    orderStatus: "状态",
    back: "← 列表",
    skipToConversation: "跳到会话内容",
    carrier: "快递公司",
    trackingNo: "运单号",
    eta: "预计送达",
    address: "收货地址",
    none: "无",
    noOrder: "未关联订单",
    conversationLanguage: "客户语言：{lang}",
    justNow: "不到 1 分钟",
    minutes: "{n} 分钟",
    hoursMinutes: "{h} 小时 {m} 分钟",
    days: "{n} 天",
    errorNetwork: "无法连接服务器，请检查网络。",
    errorStatus: "操作失败（{status}）：{detail}",
    sessionExpired: "登录已过期，请重新登录。",
    claimed: "已接入会话",
    transferred: "会话已转接",
    handedBack: "已交还机器人",
    resolvedToast: "已解决，系统会请客户评分",
    reveal: "显示个人信息",
    revealHint: "手机号、地址、卡号等已脱敏；查看完整信息会被记录",
    revealed: "已显示个人信息（已记录）；下次更新时将重新脱敏",
    auditLink: "访问记录",
    accountsLink: "坐席与团队",
    flagSaved: "谢谢！标签已提交给训练师",
    activity_handed_off: "机器人转人工：{reason}",
    activity_claimed: "{agent} 已接入",
    activity_auto_assigned: "已自动分配给 {agent}",
    activity_transferred_to_agent: "{by} 转接给 {agent}",
    activity_transferred_to_team: "{by} 转接到{team}组",
    activity_released: "{agent} 已无法回复，会话已退回队列（{by} 更改）",
    activity_handed_back: "{agent} 已交还机器人",
    activity_resolved: "{agent} 已标记解决",
    activity_resumed_outside: "机器人已在工作台外恢复接待",
    newHandoffTitle: "有新会话等待接入",
    newHandoffBody: "{channel} · {reason}",
    loginTitle: "登录客服工作台",
    username: "用户名",
    password: "密码",
    signIn: "登录",
    signingIn: "正在登录…",
    loginInvalid: "用户名或密码错误。",
    loginRateLimited: "尝试次数过多，请 {seconds} 秒后再试。",
    oneTimeCode: "身份验证器中的 6 位验证码",
    loginCodeNeeded: "请输入身份验证器中的 6 位验证码。",
    loginCodeWrong: "验证码错误或已使用，请等待下一个验证码。",
    loginEnrol: "管理员需要开启两步验证。请将以下密钥添加到身份验证器，然后输入验证码：",
    loginMissing: "请输入用户名和密码。",
  },
};

const listeners = new Set();

function initialLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch (_) {
    // Storage may be disabled; fall back to the browser's language.
  }
  if (stored && STRINGS[stored]) return stored;
  const browser = (navigator.languages && navigator.languages[0]) || navigator.language || "";
  return browser.toLowerCase().startsWith("zh") ? "zh" : "en";
}

let current = initialLanguage();

/** The current language: "zh" or "en". */
export function language() {
  return current;
}

/** A BCP 47 tag for Intl and the html lang attribute. */
export function locale() {
  return current === "zh" ? "zh-CN" : "en";
}

/**
 * A string in the current language, with {placeholders} filled in.
 * Unknown keys come back as the key itself, so a gap shows but breaks nothing.
 */
export function t(key, vars = {}) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) =>
    name in vars ? String(vars[name]) : match,
  );
}

/** Whether a key exists (e.g. a reason the service may add later). */
export function has(key) {
  return key in STRINGS.en;
}

/** A label for a code such as a reason or team, or the code itself. */
export function label(prefix, code) {
  if (code === null || code === undefined || code === "") return "";
  return has(`${prefix}_${code}`) ? t(`${prefix}_${code}`) : String(code);
}

/** Stores the language and tells every listener. */
export function setLanguage(lang) {
  if (!STRINGS[lang] || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch (_) {
    // Not persisted: the choice holds for this page only.
  }
  translatePage();
  for (const listener of listeners) listener(lang);
}

/** Calls `listener(lang)` after every language change. */
export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** Fills in the data-i18n* attributes under `root`. */
export function translatePage(root = document) {
  document.documentElement.lang = locale();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
  }
}
