// unroutable.js: why a message was unroutable, said twice: in the list under the diagram (the
// last six), and as a note under its exchange for a few seconds. The live socket may leave the
// routing trace out; it is fetched from the message's history, a few a second.

import { exchangeLabel, pages } from "../lib/api.js";
import { clear, h, phrase, s } from "../lib/dom.js";
import { displayWidth, fmtTime, shorten, wrapText } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { traceLoader, unroutableReasons } from "../lib/routing.js";
import { LABEL_CHAR } from "./draw.js";

const LISTED = 6;
const NOTE_MS = 6000;

function wrap(text, width, maxLines) {
  const lines = wrapText(text, width);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = shorten(`${lines[maxLines - 1]} …`, width);
  }
  return lines.map((l) => shorten(l, width));
}

export class UnroutableNotes {
  /** @param {import("./draw.js").Diagram} diagram */
  constructor(diagram, { list, none, vhost }) {
    this.diagram = diagram;
    this.list = list;
    this.none = none;
    this.vhost = vhost;
    this.withTrace = traceLoader({ perSecond: 2, backlog: 3 });
    this.timers = new Map(); // exchange → when its note goes
    this.traced = new WeakMap(); // event → promise of the event with its trace
  }

  /** A fresh snapshot: the list starts again. */
  reset() {
    clear(this.list);
    this.listed = []; // the events listed, newest first: {event, full}
    this.none.hidden = false;
  }

  /** List an unroutable event; its reasons fill in when its trace arrives. */
  add(e) {
    const traced = this.withTrace(e);
    this.traced.set(e, traced);
    const entry = { event: e, full: e };
    this.listed = [entry, ...(this.listed || [])].slice(0, LISTED);
    const item = this.item(entry);
    this.none.hidden = true;
    this.list.prepend(item);
    while (this.list.children.length > LISTED) this.list.lastElementChild.remove();
    traced.then((full) => {
      entry.full = full;
      if (item.isConnected) item.querySelector(".reasons").replaceChildren(...this.reasonItems(full));
    });
  }

  /** The list again, in the current language (after a language switch). */
  redraw() {
    this.list.replaceChildren(...(this.listed || []).map((entry) => this.item(entry)));
  }

  reasonItems(event) {
    return unroutableReasons(event).map((r) => h("li", { class: "reason" }, r));
  }

  item({ event: e, full }) {
    const exchange = h("a", { href: pages.exchange(this.vhost, e.exchange), class: "entity-link" }, exchangeLabel(e.exchange));
    const key = h("code", { class: "key" }, e.routing_key ?? "");
    const reasons = h("ul", { class: "reasons" }, full === e ? this.reasonItems(e).slice(0, 1) : this.reasonItems(full));
    return h(
      "li",
      { "data-message-id": String(e.message_id) },
      h("span", { class: "muted" }, fmtTime(e.time)),
      " ",
      ...phrase(t("%(exchange)s key %(key)s"), { exchange, key }),
      reasons,
    );
  }

  /** The note under the event's exchange, again with the full reasons once they arrive. */
  showOnDiagram(e) {
    this.note(e);
    this.traced.get(e)?.then((full) => {
      if (full !== e) this.note(full);
    });
  }

  note(event) {
    const exchange = event.exchange;
    const node = this.diagram.view?.nodes.get(`x:${exchange}`);
    const layer = this.diagram.layers.notes;
    if (!node || !layer) return;
    for (const old of layer.querySelectorAll(".reason-note")) {
      if (old.dataset.exchange === exchange) old.remove();
    }
    const reasons = unroutableReasons(event);
    const key = JSON.stringify(event.routing_key ?? "");
    const text =
      reasons.length > 1
        ? t("✗ unroutable %(key)s: %(reason)s (and %(more)s more)", { key, reason: reasons[0], more: reasons.length - 1 })
        : t("✗ unroutable %(key)s: %(reason)s", { key, reason: reasons[0] });
    // Under the exchange, reaching left into the gap before it: the binding labels to its right
    // stay readable.
    const chars = Math.floor((node.w + 50) / LABEL_CHAR);
    const lines = wrap(text, chars, 4);
    const width = Math.max(...lines.map((l) => displayWidth(l))) * LABEL_CHAR + 14;
    const note = s(
      "g",
      { class: "reason-note", transform: `translate(${(node.x + node.w - width).toFixed(1)} ${(node.y + node.h + 5).toFixed(1)})` },
      s("title", {}, reasons.join("\n")),
      s("rect", { width: width.toFixed(1), height: lines.length * 15 + 8, rx: 4 }),
      ...lines.map((line, i) => s("text", { x: 7, y: 15 + i * 15 }, line)),
    );
    note.dataset.exchange = exchange;
    layer.append(note);
    clearTimeout(this.timers.get(exchange));
    this.timers.set(exchange, setTimeout(() => note.remove(), NOTE_MS));
  }
}
