// events.js: the event log page. Filter by type (or a group of types) and by entity name, pause
// and resume, and click a message number to see that message's whole story from
// /api/messages/{id}/history: publish → route → enqueue → deliver → ack, or dead letter.

import { api, paths } from "./lib/api.js";
import { clear, h, payloadNode, showError } from "./lib/dom.js";
import { fmtNumber, fmtTime, jsonText } from "./lib/format.js";
import { lang, t, tn } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import { said } from "./lib/phrases.js";
import "./lib/projector.js";
import { unroutableReason } from "./lib/routing.js";
import "./lib/title.js";
import { eventTypes, isClient, isFlow, isProblem, isTopology } from "./lib/vocabulary.js";
import { describeEvent, eventLabel, eventNames, eventWhere } from "./events/describe.js";

const MAX_KEPT = 3000;
const MAX_SHOWN = 250;
const FLUSH_EVERY_MS = 250;
const FLUSH_ROWS = 30;

// The type filter's groups (the template's "group:…" options) come from the event vocabulary;
// a row's colour is its first group (a problem first), "other" for none.
const GROUPS = { problems: isProblem, messages: isFlow, topology: isTopology, clients: isClient };
const category = (type) => Object.keys(GROUPS).find((group) => GROUPS[group](type)) || "other";

const body = document.getElementById("log-body");
const status = document.getElementById("log-status");
const typeSelect = document.getElementById("filter-type");
const entityInput = document.getElementById("filter-entity");
const pauseButton = document.getElementById("pause");
const typeOptions = document.getElementById("type-options");

let events = [];
let lastSeq = 0;
let paused = false;
let buffered = 0;
const knownTypes = new Set(eventTypes());

// The event's type as the broker names it (a student meets these names again in RabbitMQ's
// tools), and in a translated page its name in that language beside it.
const translated = () => lang() !== "en";

function fillTypes() {
  const chosen = typeSelect.value;
  clear(typeOptions);
  for (const type of [...knownTypes].sort()) {
    typeOptions.append(h("option", { value: type }, translated() ? t("%(type)s (%(name)s)", { type, name: eventLabel(type) }) : type));
  }
  typeSelect.value = chosen;
}

function typeCell(e) {
  return [
    h("span", { class: `event-type cat-${category(e.type)}` }, e.type),
    translated() ? h("span", { class: "event-label" }, eventLabel(e.type)) : null,
  ];
}

function matches(e) {
  const type = typeSelect.value;
  if (type.startsWith("group:")) {
    if (!GROUPS[type.slice(6)](e.type)) return false;
  } else if (type && e.type !== type) {
    return false;
  }
  const needle = entityInput.value.trim().toLowerCase();
  if (!needle) return true;
  return eventNames(e).some((name) => name.toLowerCase().includes(needle));
}

function row(e) {
  const hasMessage = e.message_id !== undefined && e.message_id !== null;
  return h(
    "tr",
    { class: `event cat-${category(e.type)}`, "data-type": e.type, "data-seq": String(e.seq) },
    h("td", { class: "num muted" }, String(e.seq)),
    h("td", { class: "time" }, fmtTime(e.time)),
    h("td", { class: "event" }, typeCell(e)),
    h("td", { class: "where" }, eventWhere(e)),
    h("td", { class: "details" }, describeEvent(e)),
    h("td", {}, hasMessage ? h("button", { type: "button", class: "linkish", "data-message-id": String(e.message_id) }, `#${e.message_id}`) : ""),
  );
}

function render() {
  waitingRows = [];
  skipped = 0;
  const shown = events.filter(matches).slice(-MAX_SHOWN).reverse();
  body.replaceChildren(...shown.map(row));
  showStatus(shown.length);
}

function showStatus(count = body.children.length) {
  const parts = [t("%(shown)s shown of %(kept)s kept", { shown: fmtNumber(count), kept: fmtNumber(Math.min(events.length, MAX_KEPT)) })];
  if (skipped) parts.push(t("%(count)s passed too fast to list (pause, or filter, to read them all)", { count: fmtNumber(skipped) }));
  if (paused) parts.push(tn("paused, %(n)s new event waiting", "paused, %(n)s new events waiting", buffered, { n: fmtNumber(buffered) }));
  status.textContent = parts.join(" · ");
}

function add(list) {
  const fresh = [];
  let newTypes = false;
  for (const e of list) {
    if (e.seq <= lastSeq) continue;
    lastSeq = e.seq;
    fresh.push(e);
    if (!knownTypes.has(e.type)) {
      knownTypes.add(e.type);
      newTypes = true;
    }
  }
  events.push(...fresh);
  if (events.length > MAX_KEPT * 1.5) events = events.slice(-MAX_KEPT);
  if (newTypes) fillTypes();
  return fresh;
}

// New rows are drawn a few times a second, at most FLUSH_ROWS at a time (the newest): at
// thousands of events a second nobody reads every row, and the page must stay smooth.
let waitingRows = [];
let flushTimer = null;
let skipped = 0;

function appendLive(list) {
  const fresh = add(list);
  if (paused) {
    buffered += fresh.length;
    showStatus();
    return;
  }
  waitingRows.push(...fresh.filter(matches));
  if (!flushTimer) flushTimer = setTimeout(flush, FLUSH_EVERY_MS);
}

function flush() {
  flushTimer = null;
  if (waitingRows.length > FLUSH_ROWS) {
    skipped += waitingRows.length - FLUSH_ROWS;
    waitingRows = waitingRows.slice(-FLUSH_ROWS);
  }
  const rows = waitingRows.map(row).reverse();
  waitingRows = [];
  if (rows.length) body.prepend(...rows);
  while (body.children.length > MAX_SHOWN) body.lastElementChild.remove();
  showStatus();
}

typeSelect.addEventListener("change", render);
entityInput.addEventListener("input", render);
document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
const showPause = () => {
  pauseButton.textContent = paused ? t("Resume") : t("Pause");
};
pauseButton.addEventListener("click", () => {
  paused = !paused;
  showPause();
  pauseButton.setAttribute("aria-pressed", String(paused));
  buffered = 0;
  if (!paused) render();
  else showStatus();
});
document.getElementById("clear").addEventListener("click", () => {
  events = [];
  buffered = 0;
  render();
});

// --- one message's history -----------------------------------------------------------------------

const historyPanel = document.getElementById("history");
const historyBody = document.getElementById("history-body");

function historyStep(e, t0) {
  const offset = e.time !== undefined && t0 !== undefined ? `+${fmtNumber(Math.round((e.time - t0) * 1000))} ms` : "";
  const item = h(
    "li",
    { class: `step cat-${category(e.type)}`, "data-type": e.type },
    h("div", { class: "step-head" }, typeCell(e), " ", h("span", { class: "muted" }, offset)),
    h("div", { class: "where" }, eventWhere(e)),
    h("div", { class: "details" }, describeEvent(e)),
  );
  if (e.type === "published" && e.message) {
    const props = e.message.properties || {};
    if (Object.keys(props).length) item.append(h("div", { class: "muted" }, t("properties %(properties)s", { properties: jsonText(props) })));
    item.append(payloadNode(e.message.payload, e.message.payload_encoding, 400));
  }
  if ((e.type === "routed" || e.type === "unroutable") && Array.isArray(e.trace) && e.trace.length) {
    const list = h("ul", { class: "trace-mini" });
    for (const entry of e.trace.slice(0, 12)) {
      list.append(traceStep(entry));
    }
    item.append(list);
  }
  if (e.type === "unroutable") item.append(h("div", { class: "reason" }, unroutableReason(e)));
  return item;
}

/** One binding a message's routing checked: matched, or why not. */
function traceStep(entry) {
  const kind = entry.destination_type === "exchange" ? t("exchange") : t("queue");
  return h(
    "li",
    { class: entry.matched ? "match" : "miss" },
    `${entry.matched ? "✓" : "✗"} ${kind} ${entry.destination} `,
    h("code", { class: "key" }, entry.routing_key ?? ""),
    entry.matched ? "" : `: ${said(entry, "reason") || ""}`,
  );
}

const layout = document.querySelector(".events-layout");
let history = null; // the message whose story is shown: {id, steps} (steps null while loading)

function drawHistory() {
  if (!history) return;
  const { steps } = history;
  if (steps === null) {
    clear(historyBody).append(h("p", { class: "muted" }, t("loading…")));
  } else if (!steps.length) {
    clear(historyBody).append(h("p", { class: "muted" }, t("No events kept for this message (the broker keeps the most recent ones).")));
  } else {
    const t0 = steps[0].time;
    clear(historyBody).append(h("ol", { class: "timeline" }, steps.map((e) => historyStep(e, t0))));
  }
}

async function showHistory(id) {
  historyPanel.hidden = false;
  layout.classList.add("with-history");
  document.getElementById("history-id").textContent = `#${id}`;
  history = { id, steps: null };
  drawHistory();
  try {
    const answer = (await api("GET", paths.history(id))) || [];
    if (history?.id !== id) return;
    history.steps = Array.isArray(answer) ? answer : answer.events || [];
    drawHistory();
  } catch (error) {
    history = null;
    showError(historyBody, error);
  }
}

body.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-message-id]");
  if (button) showHistory(button.dataset.messageId);
});
document.getElementById("history-close").addEventListener("click", () => {
  history = null;
  historyPanel.hidden = true;
  layout.classList.remove("with-history");
});

const wanted = new URLSearchParams(location.search).get("message");
if (wanted && /^\d+$/.test(wanted)) showHistory(wanted);

// --- a language switch: everything this page wrote, said again -------------------------------------

document.addEventListener("ql-language", () => {
  for (const group of document.querySelectorAll("#filters optgroup[data-i18n-label]")) {
    group.label = t(group.dataset.i18nLabel);
  }
  fillTypes();
  showPause();
  render();
  drawHistory();
});

// --- live --------------------------------------------------------------------------------------------

fillTypes();
connectLive({
  onSnapshot(frame) {
    // A restarted server starts its numbers again: then start the log again too.
    if ((frame.snapshot?.seq ?? 0) < lastSeq) {
      events = [];
      lastSeq = 0;
    }
    add(frame.events || []);
    render();
  },
  onBatch(frame) {
    appendLive(frame.events || []);
  },
});
