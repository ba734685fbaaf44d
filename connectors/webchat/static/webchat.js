/*
 * The shop assistant's web chat page. Plain JavaScript, no build step.
 *
 * It speaks Rasa's socket.io protocol (session_request/session_confirm,
 * user_uttered/bot_uttered), keeps the session id in localStorage so a reload
 * or a reconnect continues the same conversation, and fetches the
 * conversation's past turns from ./history after a reload.
 *
 * Message text, the customer's and the bot's, is only ever put on the page
 * with textContent: it is shown, never interpreted as HTML.
 */
(function () {
  "use strict";

  var STRINGS = {
    en: {
      title: "Customer service",
      welcome: "Hi! Ask me about your orders, deliveries, returns and refunds.",
      placeholder: "Type a message…",
      send: "Send",
      connecting: "Connecting…",
      online: "Online",
      reconnecting: "Reconnecting…",
      offline: "Offline",
      typing: "The assistant is typing",
      thumbsDown: "This answer did not help",
      thanks: "Thanks, a trainer will look at it",
      feedbackFailed: "Could not send the feedback",
      privacy:
        "What you write here, including any phone number, address or order details, is used only to " +
        "serve you; our agents see personal data masked. By sending a message you agree to this.",
      privacyLink: "Privacy notice",
    },
    "zh-Hans": {
      title: "在线客服",
      welcome: "您好！订单、物流、退换货、退款的问题都可以问我。",
      placeholder: "输入消息…",
      send: "发送",
      connecting: "正在连接…",
      online: "在线",
      reconnecting: "正在重新连接…",
      offline: "已断开",
      typing: "客服正在输入",
      thumbsDown: "这个回答没有帮助",
      thanks: "谢谢，训练师会查看",
      feedbackFailed: "反馈发送失败",
      privacy: "您在此发送的内容（包括手机号、地址和订单信息）仅用于为您提供服务，客服人员看到的个人信息已脱敏。发送消息即表示您同意。",
      privacyLink: "隐私政策",
    },
    "zh-Hant": {
      title: "線上客服",
      welcome: "您好！訂單、物流、退換貨、退款的問題都可以問我。",
      placeholder: "輸入訊息…",
      send: "傳送",
      connecting: "正在連線…",
      online: "線上",
      reconnecting: "正在重新連線…",
      offline: "已中斷",
      typing: "客服正在輸入",
      thumbsDown: "這個回答沒有幫助",
      thanks: "謝謝，訓練師會查看",
      feedbackFailed: "回饋傳送失敗",
      privacy: "您在此傳送的內容（包括手機號碼、地址和訂單資訊）僅用於為您提供服務，客服人員看到的個人資料已遮蔽。傳送訊息即表示您同意。",
      privacyLink: "隱私權政策",
    },
  };
  var STORAGE_KEY = "shop-assistant:webchat:session";
  // The page numbers its messages; the server handles them in that order.
  var SEQ_KEY = "shop-assistant:webchat:seq";
  // Hide the typing dots if no answer comes (e.g. a human agent took over).
  var TYPING_TIMEOUT_MS = 30000;

  function uiLanguage(tag) {
    var lower = String(tag || "").toLowerCase();
    if (lower.indexOf("zh") === 0) {
      return /hant|-tw|-hk|-mo/.test(lower) ? "zh-Hant" : "zh-Hans";
    }
    return "en";
  }

  var query = new URLSearchParams(window.location.search);
  var languageTag = query.get("lang") || navigator.language || "en";
  var language = uiLanguage(languageTag);
  var t = STRINGS[language];

  var body = document.body;
  var basePath = body.getAttribute("data-base-path") || "./";
  var socketioPath = body.getAttribute("data-socketio-path") || "/socket.io";
  var log = document.getElementById("chat-log");
  var typing = document.getElementById("chat-typing");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var sendButton = document.getElementById("chat-send");
  var statusLabel = document.getElementById("chat-status");

  document.documentElement.lang = language;
  document.title = t.title;
  document.getElementById("chat-title").textContent = t.title;
  document.getElementById("chat-welcome").textContent = t.welcome;
  showPrivacyNotice(body.getAttribute("data-privacy-url"));
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  sendButton.textContent = t.send;
  typing.setAttribute("aria-label", t.typing);
  typing.title = t.typing;

  // Storage can be refused (privacy settings, third-party iframes): the
  // chat then works for as long as the page stays open.
  var memory = {};
  function load(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return memory[key] || null;
    }
  }
  function store(key, value) {
    memory[key] = value;
    try {
      window.localStorage.setItem(key, value);
    } catch (error) {
      /* kept in memory only */
    }
  }

  // The notice is on the page before the first message. The link is the
  // deployment's PRIVACY_NOTICE_URL, filled in by the server; an unfilled or
  // non-http(s) value shows the notice without a link.
  function showPrivacyNotice(url) {
    document.getElementById("chat-privacy-text").textContent = t.privacy;
    var link = document.getElementById("chat-privacy-link");
    if (url && /^https?:\/\//i.test(url)) {
      link.href = url;
      link.textContent = t.privacyLink;
      link.hidden = false;
    }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b < 16 ? "0" : "") + b.toString(16);
      })
      .join("");
  }

  var sessionId = load(STORAGE_KEY);
  var historyLoaded = false;
  var awaitingReply = false;
  var typingTimer = null;

  function setStatus(state) {
    statusLabel.setAttribute("data-state", state);
    statusLabel.textContent = t[state];
  }

  function setComposerEnabled(enabled) {
    input.disabled = !enabled;
    sendButton.disabled = !enabled;
  }

  function setTyping(on) {
    awaitingReply = on;
    typing.hidden = !on;
    window.clearTimeout(typingTimer);
    if (on) {
      typingTimer = window.setTimeout(function () {
        setTyping(false);
      }, TYPING_TIMEOUT_MS);
      scrollDown();
    }
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function buttonsOf(message) {
    var raw = message.quick_replies || message.buttons || [];
    if (!Array.isArray(raw)) {
      return [];
    }
    return raw.filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    });
  }

  function disableGroup(group) {
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
      b.disabled = true;
    });
  }

  // A thumbs-down on a bot answer: the server forwards it to the trainers' queue.
  function sendFeedback(control, text) {
    control.disabled = true;
    window
      .fetch(basePath + "feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "omit",
        body: JSON.stringify({ session_id: sessionId, text: text, rating: "down" }),
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("feedback: HTTP " + response.status);
        }
        control.classList.add("sent");
        control.setAttribute("aria-pressed", "true");
        control.title = t.thanks;
        control.setAttribute("aria-label", t.thanks);
      })
      .catch(function (error) {
        window.console.warn("web chat: could not send the feedback", error);
        control.disabled = false;
        control.title = t.feedbackFailed;
      });
  }

  function feedbackControl(text) {
    var control = document.createElement("button");
    control.type = "button";
    control.className = "thumbs-down";
    control.textContent = "\uD83D\uDC4E"; // thumbs down
    control.title = t.thumbsDown;
    control.setAttribute("aria-label", t.thumbsDown);
    control.setAttribute("aria-pressed", "false");
    control.addEventListener("click", function () {
      sendFeedback(control, text);
    });
    return control;
  }

  function addTurn(role, text, buttons, active) {
    var turn = document.createElement("div");
    turn.className = "turn " + role;
    if (text) {
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.textContent = text; // shown as text, never parsed as markup
      turn.appendChild(bubble);
      if (role === "bot") {
        turn.appendChild(feedbackControl(text));
      }
    }
    if (buttons && buttons.length) {
      var group = document.createElement("div");
      group.className = "buttons";
      buttons.forEach(function (button) {
        var element = document.createElement("button");
        element.type = "button";
        element.textContent = button.title;
        element.addEventListener("click", function () {
          disableGroup(group);
          element.classList.add("chosen");
          send(button.payload, button.title);
        });
        group.appendChild(element);
      });
      if (!active) {
        disableGroup(group);
      }
      turn.appendChild(group);
    }
    log.insertBefore(turn, typing);
    scrollDown();
    return turn;
  }

  function clearTurns() {
    Array.prototype.forEach.call(log.querySelectorAll(".turn"), function (turn) {
      turn.remove();
    });
  }

  function renderHistory(turns) {
    clearTurns();
    turns.forEach(function (turn, index) {
      var last = index === turns.length - 1;
      if (turn.role === "user" || turn.role === "bot") {
        addTurn(turn.role, String(turn.text || ""), buttonsOf(turn), last);
      }
    });
  }

  function loadHistory() {
    if (!sessionId) {
      return Promise.resolve();
    }
    var url = basePath + "history?session_id=" + encodeURIComponent(sessionId);
    return window
      .fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("history: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        // A reply that arrived meanwhile would be lost by a re-render.
        if (!awaitingReply && Array.isArray(data.turns)) {
          renderHistory(data.turns);
        }
      })
      .catch(function (error) {
        window.console.warn("web chat: could not load the history", error);
      });
  }

  var socket = window.io({
    path: socketioPath,
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    // Messages wait in a queue until the server acknowledges them, and are
    // sent again after a reconnect; the server answers each message id once.
    ackTimeout: 10000,
    retries: 5,
  });

  function send(text, shown) {
    if (!text || !text.trim()) {
      return;
    }
    addTurn("user", shown || text, [], false);
    setTyping(true);
    var seq = (parseInt(load(SEQ_KEY), 10) || 0) + 1;
    store(SEQ_KEY, String(seq));
    socket.emit("user_uttered", {
      seq: seq,
      message: text,
      session_id: sessionId,
      message_id: newId(),
      metadata: { language_code: languageTag },
    });
  }

  socket.on("connect", function () {
    setStatus("online");
    socket.emit("session_request", { session_id: sessionId });
  });

  socket.on("session_confirm", function (payload) {
    var id = payload && typeof payload === "object" ? payload.session_id : payload;
    if (typeof id !== "string" || !id) {
      return;
    }
    var changed = id !== sessionId;
    sessionId = id;
    store(STORAGE_KEY, id);
    // After a reload, and after a reconnect (replies sent while the
    // connection was down are in the history), show the conversation.
    if (!historyLoaded || changed || !awaitingReply) {
      loadHistory().then(function () {
        historyLoaded = true;
        setComposerEnabled(true);
      });
    }
  });

  socket.on("bot_uttered", function (message) {
    if (!message || typeof message !== "object") {
      return;
    }
    setTyping(false);
    var text = typeof message.text === "string" ? message.text : "";
    var buttons = buttonsOf(message);
    if (text || buttons.length) {
      addTurn("bot", text, buttons, true);
    }
  });

  socket.on("disconnect", function () {
    setStatus("offline");
  });
  socket.io.on("reconnect_attempt", function () {
    setStatus("reconnecting");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter is a new line; never while an IME composes.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        sendButton.click();
      }
    }
  });

  setStatus("connecting");
  setComposerEnabled(false);
})();
