// dom.js: building DOM from user data, safely, and showing a result or an error in place.
//
// Everything shown may be user data (names, routing keys, bodies, headers), so DOM is built
// with createElement + textContent + setAttribute only, never parsed from markup: strings
// become text nodes, and event-handler attributes are refused.
//
// Text a script writes must follow a language switch: keepDrawn(target, draw) draws now and
// again on `ql-language`; showOk and showError draw that way.

import { t } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") element.textContent = String(value);
    else if (name === "class") element.setAttribute("class", value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "on") {
      for (const [type, handler] of Object.entries(value)) element.addEventListener(type, handler);
    } else if (/^on/i.test(name)) throw new Error(`refusing event-handler attribute ${name}`);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h("td", {class: "num"}, "42"). Strings become text nodes, never markup. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same rules as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

const drawn = new Map(); // element → {draw, nodes}: how to draw its content in another language

/** Draw `draw()` (the target's new children) into `target` now, and again after a language
 * switch as long as nothing else has written into the target since. */
export function keepDrawn(target, draw) {
  const nodes = [draw()].flat().filter((child) => child !== null && child !== undefined);
  target.replaceChildren(...nodes);
  drawn.set(target, { draw, nodes: [...target.childNodes] });
}

document.addEventListener("ql-language", () => {
  for (const [target, { draw, nodes }] of drawn) {
    const untouched =
      target.isConnected && target.childNodes.length === nodes.length && nodes.every((node, i) => target.childNodes[i] === node);
    if (untouched) keepDrawn(target, draw);
    else drawn.delete(target);
  }
});

/** A translated sentence with DOM nodes in its placeholders: phrase(t("Declared %(name)s."),
 * {name: link}). Call t() without those args, so the placeholders are still there to fill. */
export function phrase(text, nodes) {
  const parts = String(text).split(/%\((\w+)\)s/);
  return parts.map((part, i) => (i % 2 ? (nodes[part] ?? `%(${part})s`) : part)).filter((part) => part !== "");
}

/** A success line in a form's result area; `content` is a function (drawn again on a language
 * switch) or the nodes and strings themselves. */
export function showOk(target, ...content) {
  const draw = typeof content[0] === "function" ? content[0] : () => content;
  keepDrawn(target, () => h("div", { class: "notice ok" }, draw()));
}

/** An error as a lesson: RabbitMQ's reason text (never translated), then what to do about it.
 * A page's own errors carry `words()`, which says them in the current language. */
export function showError(target, error) {
  keepDrawn(target, () => {
    const said = typeof error?.words === "function" ? error.words() : error;
    const reason = said?.reason || String(error);
    return h(
      "div",
      { class: "notice error", role: "alert" },
      h("p", { class: "reason" }, h("code", {}, reason)),
      said?.hint ? h("p", { class: "hint" }, said.hint) : null,
    );
  });
}

/** A message body for display: text (or base64, marked) cut at `limit` characters. */
export function payloadNode(payload, encoding, limit = 600) {
  const text = String(payload ?? "");
  const pre = h("pre", { class: "payload" });
  if (encoding === "base64") pre.append(h("span", { class: "badge" }, "base64"), " ");
  if (text.length > limit) {
    pre.append(
      text.slice(0, limit),
      h("span", { class: "muted" }, " ", t("… (%(count)s characters in all)", { count: text.length })),
    );
  } else {
    pre.append(text === "" ? h("span", { class: "muted" }, t("(empty body)")) : text);
  }
  return pre;
}
