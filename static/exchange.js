// exchange.js: one exchange. Publish (once, or many times through a simulated producer), add
// and remove bindings, and watch the routing trace: for each message that passed through, every
// binding the exchange checked, whether it matched, and if not, why not.

import { ApiError, api, pages, paths } from "./lib/api.js";
import { clear, h, keepDrawn, phrase, showError, showOk } from "./lib/dom.js";
import { fmtNumber, fmtRate, fmtTime } from "./lib/format.js";
import { checked, numberValue, onSubmit, readKV, value } from "./lib/forms.js";
import { confirmThen, refresher } from "./lib/fragments.js";
import { t } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import { said } from "./lib/phrases.js";
import "./lib/projector.js";
import { traceLoader, unroutableReason } from "./lib/routing.js";
import { simulationList } from "./lib/simulations.js";
import "./lib/title.js";
import { isTopology } from "./lib/vocabulary.js";

const VHOST = document.body.dataset.vhost || "/";
const meta = document.querySelector('meta[name="ql-entity"]');
const NAME = meta.dataset.name;
const refresh = refresher(500);
const MAX_TRACES = 12;
const MAX_TRACE_ROWS = 24;

const traceList = document.getElementById("trace-list");
const traceNone = document.getElementById("trace-none");
const publishForm = document.getElementById("publish");
const publishResult = document.getElementById("publish-result");
const bindForm = document.getElementById("bind");
const bindResult = document.getElementById("bind-result");
const unbindResult = document.getElementById("unbind-result");
const producers = document.getElementById("producers");
const producerList = document.getElementById("producer-list");
const destinationNames = document.getElementById("destination-names");

const names = { queue: new Set(), exchange: new Set() };
const withTrace = traceLoader({ perSecond: 2, backlog: 4 });
const waiting = new Map(); // message id → the result area that waits to explain it
const producerSims = simulationList({
  list: producerList,
  mine: (sim) => sim.kind === "producer" && (sim.options?.exchange ?? "") === NAME,
  resultBox: publishResult,
  onRender: (shown) => {
    producers.hidden = shown.length === 0;
  },
});

// --- publishing ------------------------------------------------------------------------------

function properties(form) {
  const props = {};
  const headers = readKV(form.querySelector('fieldset[data-kv="headers"]'));
  if (Object.keys(headers).length) props.headers = headers;
  if (checked(form, "persistent")) props.delivery_mode = 2;
  for (const key of ["content_type", "message_id", "correlation_id", "reply_to"]) {
    const text = value(form, key);
    if (text !== "") props[key] = text;
  }
  const expiration = value(form, "expiration").trim();
  if (expiration !== "") props.expiration = expiration; // a string of ms, as AMQP wants
  const priority = numberValue(form, "priority");
  if (priority !== undefined) props.priority = priority;
  return props;
}

onSubmit(publishForm, publishResult, async (form) => {
  const routingKey = value(form, "routing_key");
  const payload = value(form, "payload");
  const props = properties(form);
  const count = numberValue(form, "count", () => t("count")) ?? 1;
  if (count > 1) {
    const rate = numberValue(form, "rate", () => t("rate/s")) ?? 5;
    const { headers = {}, ...otherProperties } = props;
    const sim = await api("POST", paths.simulations(), {
      kind: "producer",
      vhost: VHOST,
      exchange: NAME,
      rate,
      count,
      routing_key: routingKey,
      body: payload,
      headers,
      properties: otherProperties,
    });
    showOk(publishResult, () => t("Started a simulated producer: %(count)s messages at %(rate)s.", { count: fmtNumber(count), rate: fmtRate(rate) }));
    if (sim) producerSims.add(sim);
    return;
  }
  const result = await api("POST", paths.publish(VHOST, NAME), {
    routing_key: routingKey,
    payload,
    payload_encoding: "string",
    properties: props,
    mandatory: checked(form, "mandatory"),
  });
  const id = result?.message_id;
  const known = id !== undefined && id !== null;
  if (result?.routed) {
    const queues = result.queues || [];
    showOk(publishResult, () => {
      const links = queues.flatMap((q, i) => [i ? t(", ") : "", h("a", { href: pages.queue(VHOST, q), class: "entity-link" }, q)]);
      const said = known ? t("Routed (message %(id)s) to %(queues)s.") : t("Routed to %(queues)s.");
      return phrase(said, { id: String(id), queues: queues.length ? h("span", {}, links) : t("its queues") });
    });
  } else {
    const mandatory = checked(form, "mandatory");
    const reason = h("div", { class: "reason", "data-reason-for": String(id ?? "") });
    keepDrawn(publishResult, () => {
      const said = mandatory
        ? known
          ? t("Unroutable (message %(id)s): no binding matched, so it was returned to the publisher.", { id })
          : t("Unroutable: no binding matched, so it was returned to the publisher.")
        : known
          ? t("Unroutable (message %(id)s): no binding matched, so it was dropped.", { id })
          : t("Unroutable: no binding matched, so it was dropped.");
      if (reasons.has(id)) reason.textContent = t("Why: %(reason)s", { reason: unroutableReason(reasons.get(id)) });
      return h("div", { class: "notice warn", role: "status" }, said, reason);
    });
    if (known) waiting.set(id, publishResult);
    explainWaiting();
  }
});

// The reason arrives with the `unroutable` event (kept here with its trace, to be said in the
// page's language at each draw); it may come before or after the HTTP answer.
const reasons = new Map(); // message id → its unroutable event
function explainWaiting() {
  for (const [id, area] of waiting) {
    const unroutable = reasons.get(id);
    if (unroutable === undefined) continue;
    const slot = area.querySelector("[data-reason-for]");
    if (slot && slot.dataset.reasonFor === String(id)) slot.textContent = t("Why: %(reason)s", { reason: unroutableReason(unroutable) });
    waiting.delete(id);
  }
}

// --- bindings --------------------------------------------------------------------------------

if (bindForm) {
  const kindSelect = bindForm.elements.namedItem("destination_type");
  const destination = bindForm.elements.namedItem("destination");
  const showPlaceholder = () => {
    destination.placeholder = kindSelect.value === "exchange" ? t("exchange name") : t("queue name");
  };
  kindSelect.addEventListener("change", () => {
    showPlaceholder();
    fillDestinations();
  });
  document.addEventListener("ql-language", showPlaceholder);

  onSubmit(bindForm, bindResult, async (form) => {
    const kind = value(form, "destination_type");
    const destination = value(form, "destination");
    if (!destination) {
      throw new ApiError({
        words: () => ({
          reason: t("Choose where the binding leads"),
          hint: kind === "exchange" ? t("Type an exchange name.") : t("Type a queue name."),
        }),
      });
    }
    const args = readKV(form.querySelector('fieldset[data-kv="arguments"]'));
    const xMatch = form.elements.namedItem("x-match");
    if (xMatch) args["x-match"] = xMatch.value;
    const routingKey = form.elements.namedItem("routing_key") ? value(form, "routing_key") : "";
    await api("POST", paths.bind(VHOST, NAME, kind, destination), { routing_key: routingKey, arguments: args });
    showOk(bindResult, () => {
      const link = h("a", { href: kind === "queue" ? pages.queue(VHOST, destination) : pages.exchange(VHOST, destination), class: "entity-link" }, destination);
      const said =
        kind === "queue"
          ? routingKey
            ? t("Bound queue %(name)s with key %(key)s.")
            : t("Bound queue %(name)s.")
          : routingKey
            ? t("Bound exchange %(name)s with key %(key)s.")
            : t("Bound exchange %(name)s.");
      return phrase(said, { name: link, key: routingKey });
    });
    refresh();
  });

  document.getElementById("bindings").addEventListener("click", (event) => {
    const button = event.target.closest('button[data-action="unbind"]');
    if (!button) return;
    const { destination, destinationType, props } = button.dataset;
    confirmThen(button, async () => {
      try {
        await api("DELETE", paths.unbind(VHOST, NAME, destinationType, destination, props));
        showOk(unbindResult, () =>
          destinationType === "exchange"
            ? t("Removed the binding to exchange %(name)s.", { name: destination })
            : t("Removed the binding to queue %(name)s.", { name: destination }),
        );
        refresh();
      } catch (error) {
        showError(unbindResult, error);
      }
    });
  });
}

function fillDestinations() {
  if (!destinationNames || !bindForm) return;
  const kind = bindForm.elements.namedItem("destination_type").value;
  clear(destinationNames);
  for (const name of [...names[kind]].sort()) {
    if (name === "") continue;
    destinationNames.append(h("option", { value: name }));
  }
}

// --- deleting the exchange -----------------------------------------------------------------------

const deleteButton = document.getElementById("delete-exchange");
deleteButton?.addEventListener("click", () =>
  confirmThen(deleteButton, async () => {
    const area = document.getElementById("delete-result");
    try {
      await api("DELETE", paths.exchange(VHOST, NAME));
      showOk(area, () => t("Deleted. Its bindings went with it."));
    } catch (error) {
      showError(area, error);
    }
  }),
);

// --- the routing trace -----------------------------------------------------------------------------

function traceHead(e) {
  const routed = e.type === "routed";
  return h(
    "div",
    { class: "trace-head" },
    h("span", { class: "muted" }, fmtTime(e.time)),
    " ",
    ...phrase(t("%(message)s key %(key)s"), {
      message: h("a", { href: `/events?message=${encodeURIComponent(e.message_id)}`, class: "entity-link" }, t("message %(id)s", { id: e.message_id })),
      key: h("code", { class: "key" }, e.routing_key ?? ""),
    }),
    e.cause && e.cause !== "published" ? h("span", { class: "badge badge-dead-letter" }, e.cause) : null,
    " ",
    routed
      ? h("span", { class: "badge badge-ok" }, `→ ${(e.queues || []).join(", ")}`)
      : h("span", { class: "badge badge-error" }, t("unroutable")),
  );
}

function traceBody(e) {
  const parts = [];
  const traced = Array.isArray(e.trace) && e.trace.length > 0;
  if (e.type === "unroutable" && !traced) parts.push(h("div", { class: "reason" }, unroutableReason(e)));
  if (!Array.isArray(e.trace)) {
    parts.push(h("p", { class: "muted trace-pending" }, t("checking the bindings…")));
    return parts;
  }
  const trace = e.trace;
  if (!trace.length) return parts;
  const rows = trace.slice(0, MAX_TRACE_ROWS).map((entry) =>
    h(
      "tr",
      { class: entry.matched ? "match" : "miss" },
      h("td", { class: "mark", "aria-label": entry.matched ? t("matched") : t("did not match") }, entry.matched ? "✓" : "✗"),
      h("td", {}, h("span", { class: "kind" }, entry.destination_type === "exchange" ? t("exchange") : t("queue")), " ", entry.destination ?? ""),
      h("td", {}, h("code", { class: "key" }, entry.routing_key ?? ""), Object.keys(entry.arguments || {}).length ? ` ${JSON.stringify(entry.arguments)}` : ""),
      h("td", { class: "why" }, entry.matched ? t("matched") : said(entry, "reason") || t("did not match")),
    ),
  );
  parts.push(
    h(
      "table",
      { class: "data trace-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, ""),
          h("th", { scope: "col" }, t("binding to")),
          h("th", { scope: "col" }, t("key / arguments")),
          h("th", { scope: "col" }, t("why")),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
  if (trace.length > MAX_TRACE_ROWS) {
    parts.push(h("p", { class: "muted" }, t("… and %(count)s more bindings", { count: fmtNumber(trace.length - MAX_TRACE_ROWS) })));
  }
  return parts;
}

const drawTrace = new WeakMap(); // a trace's <li> → draws it again (after a language switch)

function addTrace(e) {
  traceNone.hidden = true;
  const item = h("li", {
    class: `trace ${e.type === "routed" ? "trace-routed" : "trace-unroutable"}`,
    "data-message-id": String(e.message_id),
  });
  let full = null; // the event with its trace, or without one when it could not be fetched
  const body = () => {
    if (full === null || Array.isArray(full.trace)) return traceBody(full || e);
    // Too many messages to fetch every trace: fetch this one when asked.
    const why = h("button", { type: "button", class: "small ghost" }, t("check each binding"));
    why.addEventListener("click", () => {
      why.disabled = true;
      withTrace.now(e).then(show);
    });
    return [...(e.type === "unroutable" ? [h("div", { class: "reason" }, unroutableReason(e))] : []), why];
  };
  const draw = () => item.replaceChildren(traceHead(e), h("div", { class: "trace-body" }, body()));
  const show = (answer) => {
    if (answer.type === "unroutable" && Array.isArray(answer.trace)) {
      reasons.set(answer.message_id, answer);
      if (reasons.size > 200) reasons.delete(reasons.keys().next().value);
      explainWaiting();
    }
    full = answer;
    if (item.isConnected) draw();
  };
  draw();
  drawTrace.set(item, draw);
  traceList.prepend(item);
  while (traceList.children.length > MAX_TRACES) traceList.lastElementChild.remove();
  withTrace(e, () => item.isConnected).then(show);
}

// Traces are added a few times a second, newest only: a busy exchange must not flood the page.
let pendingTraces = [];
let traceTimer = null;
function queueTrace(e) {
  pendingTraces.push(e);
  if (pendingTraces.length > MAX_TRACES) pendingTraces.shift();
  if (!traceTimer) {
    traceTimer = setTimeout(() => {
      traceTimer = null;
      const batch = pendingTraces;
      pendingTraces = [];
      for (const event of batch) addTrace(event);
    }, 200);
  }
}

// --- live ------------------------------------------------------------------------------------------

let isDeleted = false;
function deleted() {
  isDeleted = true;
  document.body.dataset.gone = "yes"; // no more fragment refreshes: they would 404
  document.getElementById("deleted-banner").hidden = false;
  for (const form of document.querySelectorAll("form")) {
    for (const control of form.elements) control.disabled = true;
  }
}

function handle(e) {
  if ((e.type === "routed" || e.type === "unroutable") && e.exchange === NAME) queueTrace(e);
  if (e.type === "exchange.deleted" && e.name === NAME) deleted();
  if (e.type === "exchange.declared" && e.name === NAME && isDeleted) location.reload();
}

// The names the binding form offers; true when they changed.
function noteName(e) {
  if (e.type === "queue.declared") names.queue.add(e.name);
  else if (e.type === "queue.deleted") names.queue.delete(e.name);
  else if (e.type === "exchange.declared") names.exchange.add(e.name);
  else if (e.type === "exchange.deleted") names.exchange.delete(e.name);
  else return false;
  return true;
}

const COUNTED = new Set(["published", "routed", "unroutable"]); // the exchange's counters
const changesFragments = (type) => isTopology(type) || COUNTED.has(type);

// A language switch: the traces, said again (results and lists redraw themselves).
document.addEventListener("ql-language", () => {
  for (const item of traceList.children) drawTrace.get(item)?.();
});

connectLive({
  onSnapshot(frame) {
    const snap = frame.snapshot;
    names.queue = new Set(snap.queues.map((q) => q.name));
    names.exchange = new Set(snap.exchanges.map((x) => x.name));
    if (!names.exchange.has(NAME)) deleted();
    clear(traceList);
    traceNone.hidden = false;
    const mine = (frame.events || []).filter(
      (e) => (e.type === "routed" || e.type === "unroutable") && e.exchange === NAME,
    );
    for (const e of mine.slice(-MAX_TRACES)) addTrace(e);
    producerSims.set(frame.simulations || []);
    fillDestinations();
    refresh();
  },
  onBatch(frame) {
    producerSims.set(frame.simulations);
    let changed = false;
    let namesChanged = false;
    for (const e of frame.events || []) {
      handle(e);
      if (noteName(e)) namesChanged = true;
      if (changesFragments(e.type)) changed = true;
    }
    explainWaiting();
    if (namesChanged) fillDestinations();
    if (changed) refresh();
  },
});

