/* Figures as a manager reads them: percentages, durations, counts. */

import { language, locale } from "/inbox/i18n.js";

/** 0.25 → "25.0%"; null → "–". */
export function percent(rate, digits = 1) {
  if (typeof rate !== "number" || Number.isNaN(rate)) return "–";
  return `${(rate * 100).toFixed(digits)}%`;
}

/** A signed change of a rate in percentage points: 0.25 → "+25.0 pp" / "+25.0 个百分点". */
export function points(change) {
  const sign = change > 0 ? "+" : change < 0 ? "−" : "";
  const value = Math.abs(change * 100).toFixed(1);
  return language() === "zh" ? `${sign}${value} 个百分点` : `${sign}${value} pp`;
}

const pad = (n) => String(n).padStart(2, "0");

/** 65 → "1 min 05 s" / "1 分 05 秒"; 0.5 → "0.5 s" / "0.5 秒"; 3725 → "1 h 02 min". */
export function duration(seconds) {
  if (typeof seconds !== "number" || Number.isNaN(seconds)) return "–";
  const zh = language() === "zh";
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? "−" : "";
  if (s < 10 && !Number.isInteger(s)) return `${sign}${s.toFixed(1)} ${zh ? "秒" : "s"}`;
  const whole = Math.round(s);
  if (whole < 60) return `${sign}${whole} ${zh ? "秒" : "s"}`;
  if (whole < 3600) {
    const m = Math.floor(whole / 60);
    return zh ? `${sign}${m} 分 ${pad(whole % 60)} 秒` : `${sign}${m} min ${pad(whole % 60)} s`;
  }
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  return zh ? `${sign}${h} 小时 ${pad(m)} 分` : `${sign}${h} h ${pad(m)} min`;
}

/** 12345 → "12,345". */
export function count(value) {
  if (typeof value !== "number" || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale()).format(value);
}

/** A figure of a unit: "rate", "s" or a plain number. */
export function figure(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "rate") return percent(value);
  if (unit === "s") return duration(value);
  return count(value);
}
