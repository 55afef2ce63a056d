// format.js: numbers, times and text as the pages show them, in the page's locale (i18n.js).

import { locale } from "./i18n.js";

export function fmtTime(seconds) {
  const date = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function fmtNumber(n) {
  if (n === undefined || n === null) return "–";
  return Number(n).toLocaleString(locale());
}

export function fmtRate(n) {
  if (!n) return "0/s";
  return n >= 100 ? `${Math.round(n)}/s` : `${Math.round(n * 10) / 10}/s`;
}

/** A duration: "1.25 s", "120 ms", "3.4 ms", or "–" when unknown. */
export function fmtSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const abs = Math.abs(seconds);
  if (abs >= 1) return `${seconds.toFixed(2)} s`;
  if (abs >= 0.01) return `${Math.round(seconds * 1000)} ms`;
  return `${(seconds * 1000).toFixed(1)} ms`;
}

export function shorten(text, max = 24) {
  const value = String(text ?? "");
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

export function jsonText(value) {
  try {
    return typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
