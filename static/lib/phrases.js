// phrases.js: what the broker wrote for people, in the page's language.
//
// The broker explains in English (why a binding did not match, why a message was dropped or a
// queue deleted, why a channel closed), and the web layer sends each explanation with its message
// beside it: `reason` and `reason_i18n` = {msgid, args}, an argument at times a message itself
// (broker/translatable.py, web/serialize.py). said() says a field in the page's language; a field
// without a message (RabbitMQ's reply texts, a reason a program gave) is shown as it was written.
// Pages call it at every draw, so a switch of language says it again.

import { t } from "./i18n.js";

const isMessage = (value) => value !== null && typeof value === "object" && typeof value.msgid === "string";

/** A message ({msgid, args}) in the page's language, its message arguments said too. */
export function say(message) {
  const args = {};
  for (const [name, value] of Object.entries(message.args || {})) args[name] = isMessage(value) ? say(value) : value;
  return t(message.msgid, args);
}

/** `object[name]` in the page's language when the server sent its message, else as it is. */
export function said(object, name) {
  if (!object) return undefined;
  const message = object[`${name}_i18n`];
  return isMessage(message) ? say(message) : object[name];
}
