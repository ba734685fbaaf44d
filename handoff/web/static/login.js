/* The login page: POST /api/auth/login, keep the CSRF token, go to the inbox. */

import { ApiError, api, rememberCsrf } from "./api.js";
import { language, onLanguageChange, setLanguage, t, translatePage } from "./i18n.js";

const form = document.getElementById("login-form");
const username = document.getElementById("username");
const password = document.getElementById("password");
const error = document.getElementById("login-error");
const button = document.getElementById("login-button");
const codeField = document.getElementById("code-field");
const code = document.getElementById("code");
const enrolKey = document.getElementById("enrol-key");
const enrolSecret = document.getElementById("enrol-secret");
let lastError = null; // a key and values, so a language switch re-translates it

function showError(key, vars = {}) {
  lastError = key ? { key, vars } : null;
  error.textContent = key ? t(key, vars) : "";
  for (const input of [username, password]) input.setAttribute("aria-invalid", String(Boolean(key)));
}

/** The service wants a one-time code: show the field (and, to enrol, the new key once). */
async function askForCode(failure) {
  const first = codeField.hidden;
  codeField.hidden = false;
  if (failure.secondFactor === "enrol" && !enrolSecret.textContent) {
    const enrolled = await api.enrolSecondFactor(username.value.trim(), password.value);
    enrolSecret.textContent = enrolled.secret; // text, never markup
    enrolKey.hidden = false;
  }
  code.focus();
  return first || !code.value ? ["loginCodeNeeded", {}] : ["loginCodeWrong", {}];
}

function errorFor(failure) {
  if (!(failure instanceof ApiError)) return ["errorNetwork", {}];
  if (failure.status === 401 || failure.status === 403) return ["loginInvalid", {}];
  if (failure.status === 429) return ["loginRateLimited", { seconds: failure.retryAfter || 60 }];
  if (failure.status === 0) return ["errorNetwork", {}];
  return ["errorStatus", { status: failure.status, detail: failure.detail }];
}

/** Only same-site paths under /inbox/ or /trainers/ are followed after login. */
function destination() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/(inbox|trainers)\/[^/\\]?/.test(next) && !next.startsWith("//") ? next : "/inbox/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!username.value.trim() || !password.value) {
    showError("loginMissing");
    (username.value.trim() ? password : username).focus();
    return;
  }
  button.disabled = true;
  button.textContent = t("signingIn");
  try {
    const answer = await api.login(username.value.trim(), password.value, code.value.trim());
    rememberCsrf(answer && answer.csrf_token);
    location.assign(destination());
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401 && failure.secondFactor) {
      try {
        showError(...(await askForCode(failure)));
      } catch (enrolFailure) {
        showError(...errorFor(enrolFailure));
      }
      code.select();
    } else {
      showError(...errorFor(failure));
      password.select();
    }
    button.disabled = false;
    button.textContent = t("signIn");
  }
});

document.getElementById("lang-toggle").addEventListener("click", () => {
  setLanguage(language() === "zh" ? "en" : "zh");
});
onLanguageChange(() => {
  if (lastError) showError(lastError.key, lastError.vars);
  document.title = t("appName");
});

translatePage();
document.title = t("appName");
username.focus();
