/*
 * How the inbox tells an agent that something failed.
 */

import { ApiError } from "./api.js";
import { t } from "./i18n.js";
import { toast } from "./views/toast.js";

/** The failure in the agent's language. */
export function problem(error) {
  if (error instanceof ApiError) {
    return error.status === 0 ? t("errorNetwork") : t("errorStatus", { status: error.status, detail: error.detail });
  }
  return String(error);
}

/** Shows the failure as a toast (not a 401: the page is on its way to /login). */
export function report(error) {
  if (error instanceof ApiError && error.status === 401) return;
  toast(problem(error), "error");
}
