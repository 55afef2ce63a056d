// words.js: what the loop says, in the page's language.
//
// The loop speaks English (it runs on its own thread and knows no reader), but each text a
// student reads comes with its message beside it: an entry's `label` with `label_i18n`, a
// note's `text` with `text_i18n` …, a message being {msgid, args} whose args may be messages
// too (broker/translatable.py). say() translates one with the page's catalog; sayNodes() does the
// same but keeps the names it fills in (tasks, threads, callables: program data, never
// translated) apart in <span class="loop-name">, so they read as names. The page draws from these
// at every redraw, so a switch of language in place changes them too.

import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

const PLACEHOLDER = /%\((\w+)\)s/g;

const isMessage = (value) => value !== null && typeof value === "object" && typeof value.msgid === "string";

/** A field's message if the server sent one (`<name>_i18n`), else its English text. */
export function field(object, name) {
  if (!object) return null;
  return object[`${name}_i18n`] ?? object[name];
}

/** A message (or plain text) as a string in the page's language. */
export function say(message) {
  if (!isMessage(message)) return message === null || message === undefined ? "" : String(message);
  const args = {};
  for (const [name, value] of Object.entries(message.args || {})) args[name] = say(value);
  return t(message.msgid, args);
}

/** A message as nodes: the translated sentence, its text arguments in <span class="loop-name">. */
export function sayNodes(message) {
  if (!isMessage(message)) return [say(message)];
  return fillNodes(t(message.msgid), message.args || {});
}

/** A translated template filled in as nodes: `fillNodes(t("awaits %(what)s"), {what})` (t()
 * without args leaves the placeholders). An argument may be text (a name: <span class="loop-name">),
 * a number, a server message, a node, or {plain: text} (the page's language already). */

export function fillNodes(template, args = {}) {
  const nodes = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) nodes.push(template.slice(last, match.index));
    last = match.index + match[0].length;
    const name = match[1];
    if (!(name in args)) {
      nodes.push(match[0]);
      continue;
    }
    nodes.push(...argNodes(args[name]));
  }
  if (last < template.length) nodes.push(template.slice(last));
  return nodes;
}

function argNodes(value) {
  if (isMessage(value)) return sayNodes(value);
  if (value instanceof Node) return [value];
  if (value && typeof value === "object" && "plain" in value) return [value.plain];
  if (typeof value === "number") return [String(value)];
  return [h("span", { class: "loop-name" }, String(value ?? ""))];
}

/** The text of nodes from sayNodes() / fillNodes(). */
export function nodesText(nodes) {
  return nodes.map((node) => (node instanceof Node ? node.textContent : String(node))).join("");
}

// Notices the page wrote (a step's result, a published message …), with how to say them, so
// that a switch of language says them again (sayAgain), until they are replaced or removed.
const notices = new Map(); // element → say()

/** Fill `element` with what `say()` returns (text or nodes), and again after a switch. */
export function said(element, say) {
  const content = say();
  element.replaceChildren(...(Array.isArray(content) ? content : [content]));
  notices.set(element, say);
  return element;
}

/** Say every notice still on the page again, in the page's language now. */
export function sayAgain() {
  for (const [element, say] of notices) {
    if (element.isConnected) said(element, say);
    else notices.delete(element);
  }
}
