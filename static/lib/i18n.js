// i18n.js: the page's language, from the same gettext catalogs the server uses (web/i18n.py).
//
// The server embeds the catalog in every page (<script type="application/json" id="i18n-catalog">:
// {lang, messages: {msgid: msgstr | [plural forms]}}); English is the msgid itself. Messages use
// named placeholders, "%(name)s", so translators see whole sentences:
//
//   t("%(count)s messages ready in %(queue)s", {count: fmtNumber(n), queue: name})
//
// Text the server rendered carries its msgid (data-i18n, data-i18n-title, data-i18n-placeholder,
// data-i18n-aria-label, with data-i18n-args for placeholders), so switching the language changes
// the page in place: setLanguage() loads the other catalog, retranslates those elements and
// fires `ql-language` on document, on which each page redraws what its script wrote.

const element = document.getElementById("i18n-catalog");
let catalog = element ? JSON.parse(element.textContent) : { lang: "en", messages: {} };

const ATTRIBUTES = ["title", "placeholder", "aria-label"];

/** The page's language code ("en" or "zh"). */
export const lang = () => catalog.lang;

/** The BCP 47 tag for Intl formatting and <html lang>. */
export const locale = () => (catalog.lang === "zh" ? "zh-CN" : "en");

function fill(text, args) {
  if (!args) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in args ? String(args[name]) : whole));
}

/** A message in the page's language, its %(name)s placeholders filled from args. */
export function t(msgid, args) {
  const found = catalog.messages[msgid];
  const text = typeof found === "string" && found ? found : msgid;
  return fill(text, args);
}

/** A message with a singular and a plural form, chosen by n (Chinese has one form). */
export function tn(singular, plural, n, args) {
  const forms = catalog.messages[singular];
  const values = { n, ...args };
  if (Array.isArray(forms) && forms.length) {
    const index = catalog.lang === "zh" ? 0 : n === 1 ? 0 : 1;
    return fill(forms[Math.min(index, forms.length - 1)] || (n === 1 ? singular : plural), values);
  }
  return fill(n === 1 ? singular : plural, values);
}

/** Retranslate what the server rendered with data-i18n attributes, under root. */
export function translateTree(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n, argsOf(node));
  }
  for (const name of ATTRIBUTES) {
    const key = `data-i18n-${name}`;
    for (const node of root.querySelectorAll(`[${key}]`)) {
      node.setAttribute(name, t(node.getAttribute(key), argsOf(node)));
    }
  }
}

function argsOf(node) {
  const raw = node.dataset.i18nArgs;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Switch the page to another language in place: remember it (cookie), load its catalog,
 * retranslate the server's text and let the page redraw its own (`ql-language`). */
export async function setLanguage(code) {
  const saved = await fetch(`/lang/${encodeURIComponent(code)}`, { method: "POST" });
  if (!saved.ok) throw new Error(`language ${code}: ${saved.status}`);
  const response = await fetch(`/i18n/${encodeURIComponent(code)}.json`);
  if (!response.ok) throw new Error(`catalog ${code}: ${response.status}`);
  catalog = await response.json();
  document.documentElement.lang = locale();
  translateTree();
  document.dispatchEvent(new CustomEvent("ql-language", { detail: catalog.lang }));
}

function setupSwitch() {
  const select = document.getElementById("language-switch");
  if (!select) return;
  select.addEventListener("change", () => {
    setLanguage(select.value).catch(() => {
      select.value = catalog.lang;
    });
  });
}

setupSwitch();
