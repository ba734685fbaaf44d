/* Times, durations and numbers in the agent's language. */

import { locale, t } from "./i18n.js";

/**
 * A time from the API as a Date: ISO 8601 text or seconds since the epoch
 * (the Rasa side's timestamps). Null when missing or unreadable.
 */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date =
    typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** How long since `value`, e.g. "12 min" / "12 分钟". */
export function since(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return "";
  const minutes = Math.max(0, Math.floor((now - date.getTime()) / 60000));
  if (minutes < 1) return t("justNow");
  if (minutes < 60) return t("minutes", { n: minutes });
  if (minutes < 60 * 24) return t("hoursMinutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
  return t("days", { n: Math.floor(minutes / (60 * 24)) });
}

/** A clock time, with the date when not today. */
export function clock(value) {
  const date = toDate(value);
  if (!date) return "";
  const today = new Date().toDateString() === date.toDateString();
  const options = today
    ? { hour: "2-digit", minute: "2-digit" }
    : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

/** A full date and time, for title attributes. */
export function fullTime(value) {
  const date = toDate(value);
  return date
    ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date)
    : "";
}

/** 0.913 → "91%". */
export function percent(confidence) {
  if (typeof confidence !== "number" || Number.isNaN(confidence)) return "";
  return `${Math.round(confidence * 100)}%`;
}

/** A short single-line preview of a message. */
export function preview(text, length = 80) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
