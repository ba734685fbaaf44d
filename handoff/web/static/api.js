/*
 * The handoff service's JSON API, as the inbox uses it.
 *
 * The session is an HttpOnly cookie; the CSRF token returned by the login goes
 * in X-CSRF-Token on every state-changing request (double submit). It is kept
 * in sessionStorage, so it lives as long as the tab.
 */

const CSRF_KEY = "inbox:csrf";

/** An API call that did not succeed: `status` 0 means the network failed. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

/** Stores the CSRF token from the login answer. */
export function rememberCsrf(token) {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch (_) {
    // Storage disabled: state-changing calls will be refused and ask for a login.
  }
}

function csrfToken() {
  try {
    const stored = sessionStorage.getItem(CSRF_KEY);
    if (stored) return stored;
  } catch (_) {
    // fall through to the cookie
  }
  // The service's double-submit cookie, readable by scripts (a new tab has no sessionStorage).
  const match = document.cookie.match(/(?:^|;\s*)handoff_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function detailOf(body, fallback) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((item) => item.msg || JSON.stringify(item)).join("; ");
  }
  return fallback;
}

let onUnauthorized = () => {};

/** What to do when the session has ended (401): the app sends the agent to /login. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * One request. JSON in, JSON out.
 * @param {string} method
 * @param {string} path e.g. "/api/conversations"
 * @param {Object} [body]
 * @returns {Promise<any>} the parsed body (null when empty)
 */
export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, String(error && error.message ? error.message : error));
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch (_) {
      parsed = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, detailOf(parsed, response.statusText));
    error.retryAfter = Number(response.headers.get("Retry-After")) || null;
    error.secondFactor = response.headers.get("X-Second-Factor"); // "required" | "enrol" | null
    if (response.status === 401 && !path.startsWith("/api/auth/")) onUnauthorized(error);
    throw error;
  }
  return parsed;
}

const enc = encodeURIComponent;

export const api = {
  login: (username, password, code) =>
    request("POST", "/api/auth/login", code ? { username, password, code } : { username, password }),
  enrolSecondFactor: (username, password) =>
    request("POST", "/api/auth/totp/enrol", { username, password }),
  logout: () => request("POST", "/api/auth/logout"),
  me: () => request("GET", "/api/me"),
  setPresence: (online) => request("POST", "/api/me/presence", { online }),
  conversations: (status, limit) =>
    request("GET", `/api/conversations?status=${enc(status)}&limit=${enc(limit)}`),
  conversation: (id) => request("GET", `/api/conversations/${enc(id)}`),
  claim: (id) => request("POST", `/api/conversations/${enc(id)}/assign`),
  transfer: (id, target) => request("POST", `/api/conversations/${enc(id)}/assign`, target),
  send: (id, text, isPrivate) =>
    request("POST", `/api/conversations/${enc(id)}/messages`, { text, private: isPrivate }),
  resend: (id, messageId) =>
    request("POST", `/api/conversations/${enc(id)}/messages/${enc(messageId)}/resend`),
  handBack: (id) => request("POST", `/api/conversations/${enc(id)}/handback`),
  resolve: (id) => request("POST", `/api/conversations/${enc(id)}/resolve`),
  reveal: (id) => request("POST", `/api/conversations/${enc(id)}/reveal`),
  flag: (messageId, intent) => request("POST", `/api/messages/${enc(messageId)}/flag`, { intent }),
  intents: () => request("GET", "/api/intents"),
  cannedResponses: () => request("GET", "/api/canned-responses"),
  agents: () => request("GET", "/api/agents"),
  alerts: () => request("GET", "/api/metrics/alerts"),
};
