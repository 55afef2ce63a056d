// dom.js: building DOM from user data, safely, and showing a result or an error in place.
//
// Everything shown may be user data (names, routing keys, bodies, headers), so DOM is built
// with createElement + textContent + setAttribute only, never parsed from markup: strings
// become text nodes, and event-handler attributes are refused.

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

/** A success line in a form's result area. */
export function showOk(target, ...content) {
  clear(target).append(h("div", { class: "notice ok" }, ...content));
}

/** An error as a lesson: RabbitMQ's reason text, then what to do about it. */
export function showError(target, error) {
  const reason = error?.reason || String(error);
  clear(target).append(
    h(
      "div",
      { class: "notice error", role: "alert" },
      h("p", { class: "reason" }, h("code", {}, reason)),
      error?.hint ? h("p", { class: "hint" }, error.hint) : null,
    ),
  );
}

/** A message body for display: text (or base64, marked) cut at `limit` characters. */
export function payloadNode(payload, encoding, limit = 600) {
  const text = String(payload ?? "");
  const pre = h("pre", { class: "payload" });
  if (encoding === "base64") pre.append(h("span", { class: "badge" }, "base64"), " ");
  if (text.length > limit) {
    pre.append(text.slice(0, limit), h("span", { class: "muted" }, ` … (${text.length} characters in all)`));
  } else {
    pre.append(text === "" ? h("span", { class: "muted" }, "(empty body)") : text);
  }
  return pre;
}
