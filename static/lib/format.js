// format.js: numbers, times and text as the pages show them, in the page's locale (i18n.js).
// Widths count a Chinese character (or any wide one) as two columns, as a monospace font draws
// it, so labels cut, wrapped and measured here fit in both scripts.

import { locale, t } from "./i18n.js";

export function fmtTime(seconds) {
  const date = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function fmtNumber(n) {
  if (n === undefined || n === null) return "–";
  return Number(n).toLocaleString(locale());
}

/** A rate per second: "12/s", "0.4/s" (Chinese "12/秒"). */
export function fmtRate(n) {
  const rounded = !n ? 0 : n >= 100 ? Math.round(n) : Math.round(n * 10) / 10;
  return t("%(rate)s/s", { rate: fmtNumber(rounded) });
}

/** A duration: "1.25 s", "120 ms", "3.4 ms", or "–" when unknown. */
export function fmtSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const abs = Math.abs(seconds);
  const number = (value, digits) =>
    value.toLocaleString(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
  if (abs >= 1) return t("%(seconds)s s", { seconds: number(seconds, 2) });
  if (abs >= 0.01) return `${number(Math.round(seconds * 1000), 0)} ms`;
  return `${number(seconds * 1000, 1)} ms`;
}

// East Asian wide characters: CJK ideographs and punctuation, kana, hangul, full-width forms.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/;

/** How many columns `text` takes in a monospace font: two for a wide character. */
export function displayWidth(text) {
  let width = 0;
  for (const char of String(text ?? "")) width += WIDE.test(char) ? 2 : 1;
  return width;
}

/** `text` cut to at most `max` columns, with "…" where it was cut. */
export function shorten(text, max = 24) {
  const value = String(text ?? "");
  if (displayWidth(value) <= max) return value;
  let out = "";
  let width = 0;
  for (const char of value) {
    const w = WIDE.test(char) ? 2 : 1;
    if (width + w > max - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}

/** `text` in lines of at most `width` columns: Latin text breaks between words, Chinese between
 * any two characters (and never before a closing mark). */
export function wrapText(text, width) {
  const pieces = String(text ?? "").match(/\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef][\u3001\u3002\uff0c\uff1a\uff1b\uff09\uff01\uff1f]*|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+/g) || [];
  const lines = [];
  let line = "";
  for (const piece of pieces) {
    if (/^\s+$/.test(piece)) {
      if (line) line += " ";
      continue;
    }
    if (line.trim() && displayWidth(line + piece) > width) {
      lines.push(line.trimEnd());
      line = piece;
    } else {
      line += piece;
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

export function jsonText(value) {
  try {
    return typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
