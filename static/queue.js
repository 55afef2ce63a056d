// queue.js: one queue. Live ready / unacked / consumer counts and a depth chart; get messages
// with each ack mode (showing the redelivered flag), publish to it, purge or delete it, and
// start or stop simulated consumers. Consumers and details are server-drawn fragments that
// htmx reloads when the live stream says this queue changed.

import { api, exchangeLabel, paths } from "./lib/api.js";
import { LineChart } from "./lib/chart.js";
import { h, payloadNode, showError, showOk } from "./lib/dom.js";
import { fmtNumber, jsonText } from "./lib/format.js";
import { numberValue, onSubmit, value } from "./lib/forms.js";
import { confirmThen, refresher } from "./lib/fragments.js";
import { t, tn } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import { simulationList } from "./lib/simulations.js";
import "./lib/title.js";

const VHOST = document.body.dataset.vhost || "/";
const NAME = document.querySelector('meta[name="ql-entity"]').dataset.name;
const refresh = refresher(500);

const counts = {
  ready: Number(document.getElementById("count-ready").textContent) || 0,
  unacked: Number(document.getElementById("count-unacked").textContent) || 0,
  consumers: Number(document.getElementById("count-consumers").textContent) || 0,
};
const chart = new LineChart(
  document.getElementById("depth-chart"),
  [
    { key: "ready", label: () => t("ready") },
    { key: "unacked", label: () => t("unacked") },
  ],
  { stacked: true, height: 130 },
);

function showCounts() {
  document.getElementById("count-ready").textContent = fmtNumber(counts.ready);
  document.getElementById("count-unacked").textContent = fmtNumber(counts.unacked);
  document.getElementById("count-total").textContent = fmtNumber(counts.ready + counts.unacked);
  document.getElementById("count-consumers").textContent = fmtNumber(counts.consumers);
}
setInterval(() => chart.push({ ready: counts.ready, unacked: counts.unacked }), 1000);
chart.push({ ready: counts.ready, unacked: counts.unacked });

// --- get -------------------------------------------------------------------------------------------

const AFTER = {
  ack_requeue_false: () => t("Acked: it is gone from the queue."),
  ack_requeue_true: () => t("Nacked with requeue: it is back in its place, marked redelivered."),
  nack_requeue_true: () => t("Nacked with requeue: it is back in its place, marked redelivered."),
  reject_requeue_true: () => t("Rejected with requeue: it is back in its place, marked redelivered."),
  reject_requeue_false: () =>
    t("Rejected without requeue: dead-lettered if the queue has x-dead-letter-exchange, otherwise dropped."),
};

function messageItem(m, index) {
  const props = m.properties || {};
  const propRows = [];
  for (const [key, val] of Object.entries(props)) {
    if (key === "headers" && val && typeof val === "object") {
      for (const [hk, hv] of Object.entries(val)) propRows.push(h("dt", {}, t("header %(name)s", { name: hk })), h("dd", {}, jsonText(hv)));
    } else {
      propRows.push(h("dt", {}, key), h("dd", {}, jsonText(val)));
    }
  }
  return h(
    "li",
    { class: "message", "data-redelivered": String(Boolean(m.redelivered)) },
    h(
      "div",
      { class: "message-head" },
      h("span", { class: "message-pos" }, `#${index + 1}`),
      m.redelivered
        ? h("span", { class: "badge badge-redelivered", title: t("delivered before and put back") }, "redelivered: true")
        : h("span", { class: "badge", title: t("first time anyone got this message") }, "redelivered: false"),
      h("span", { class: "muted" }, t("from")),
      " ",
      exchangeLabel(m.exchange ?? ""),
      " ",
      h("span", { class: "muted" }, t("key")),
      " ",
      h("code", { class: "key" }, m.routing_key ?? ""),
      " ",
      h("span", { class: "muted" }, t("%(count)s left", { count: fmtNumber(m.message_count ?? 0) })),
    ),
    propRows.length ? h("dl", { class: "props-list" }, propRows) : null,
    payloadNode(m.payload, m.payload_encoding),
  );
}

const getForm = document.getElementById("get");
const getResult = document.getElementById("get-result");
const getMessages = document.getElementById("get-messages");
let got = []; // the messages of the last get, drawn again after a language switch
const drawGot = () => getMessages.replaceChildren(...got.map((m, i) => messageItem(m, i)));
onSubmit(getForm, getResult, async (form) => {
  const ackmode = value(form, "ackmode");
  const count = numberValue(form, "count", () => t("Count")) ?? 1;
  got = (await api("POST", paths.get(VHOST, NAME), { count, ackmode, encoding: "auto" })) || [];
  drawGot();
  if (!got.length) {
    showOk(getResult, () => t("The queue has no ready messages (basic.get-empty)."));
    return;
  }
  const n = got.length;
  showOk(getResult, () => [tn("Got %(n)s message.", "Got %(n)s messages.", n, { n: fmtNumber(n) }), AFTER[ackmode]?.() || ""].join(" "));
});
document.addEventListener("ql-language", drawGot);

// --- publish ---------------------------------------------------------------------------------------

const publishForm = document.getElementById("publish");
const publishResult = document.getElementById("publish-result");
onSubmit(publishForm, publishResult, async (form) => {
  const properties = {};
  const expiration = value(form, "expiration").trim();
  if (expiration) properties.expiration = expiration;
  const priority = form.elements.namedItem("priority") ? numberValue(form, "priority", () => t("priority")) : undefined;
  if (priority !== undefined) properties.priority = priority;
  const result = await api("POST", paths.publish(VHOST, ""), {
    routing_key: NAME,
    payload: value(form, "payload"),
    payload_encoding: "string",
    properties,
  });
  const id = result?.message_id;
  if (result && result.routed === false) {
    showError(publishResult, { words: () => ({ reason: t("Unroutable"), hint: t("This queue no longer exists.") }) });
  } else {
    showOk(publishResult, () => (id !== undefined ? t("Published message %(id)s.", { id }) : t("Published.")));
  }
});

// --- purge / delete --------------------------------------------------------------------------------

const adminResult = document.getElementById("admin-result");
const purgeButton = document.getElementById("purge-queue");
purgeButton.addEventListener("click", () =>
  confirmThen(purgeButton, async () => {
    try {
      await api("DELETE", paths.contents(VHOST, NAME));
      showOk(adminResult, () => t("Purged: the ready messages are gone. Unacked ones stay with their consumers."));
    } catch (error) {
      showError(adminResult, error);
    }
  }),
);
const deleteButton = document.getElementById("delete-queue");
deleteButton.addEventListener("click", () =>
  confirmThen(deleteButton, async () => {
    try {
      await api("DELETE", paths.queue(VHOST, NAME));
      showOk(adminResult, () => t("Deleted."));
    } catch (error) {
      showError(adminResult, error);
    }
  }),
);

// --- simulated consumers -------------------------------------------------------------------------------

const simForm = document.getElementById("simulate");
const simResult = document.getElementById("simulate-result");
const simList = document.getElementById("sim-list");
const consumerSims = simulationList({
  list: simList,
  mine: (sim) => sim.kind === "consumer" && sim.options?.queue === NAME,
  resultBox: simResult,
  onStopped: (sim) => {
    if (sim.state === "running") {
      showOk(simResult, () => t("Stopped: its connection closed, so its unacked messages went back to the queue."));
    }
  },
});

onSubmit(simForm, simResult, async (form) => {
  const failure = numberValue(form, "failure_rate", () => t("Failure rate (%)")) ?? 0;
  const sim = await api("POST", paths.simulations(), {
    kind: "consumer",
    vhost: VHOST,
    queue: NAME,
    ack_mode: value(form, "ack_mode"),
    prefetch: numberValue(form, "prefetch", () => t("Prefetch")) ?? 1,
    priority: numberValue(form, "priority", () => t("Priority")) ?? 0,
    processing_ms: numberValue(form, "processing_ms", () => t("Processing time (ms)")) ?? 0,
    failure_rate: Math.max(0, Math.min(1, failure / 100)),
    on_failure: value(form, "on_failure"),
  });
  showOk(simResult, () => t("Started a simulated consumer. Watch its unacked count, and the acks."));
  consumerSims.add(sim);
  refresh();
});

// --- live --------------------------------------------------------------------------------------------

function touchesThisQueue(e) {
  if (e.queue === NAME || e.name === NAME) return true;
  if (e.type.startsWith("binding.") && e.destination_type === "queue" && e.destination === NAME) return true;
  return Array.isArray(e.queues) && e.queues.includes(NAME);
}

let isDeleted = false;
function deleted() {
  isDeleted = true;
  document.body.dataset.gone = "yes"; // no more fragment refreshes: they would 404
  document.getElementById("deleted-banner").hidden = false;
  for (const form of document.querySelectorAll("form")) {
    for (const control of form.elements) control.disabled = true;
  }
}

connectLive({
  onSnapshot(frame) {
    const q = frame.snapshot.queues.find((item) => item.name === NAME);
    if (!q) {
      deleted();
      return;
    }
    counts.ready = q.messages_ready;
    counts.unacked = q.messages_unacknowledged;
    counts.consumers = q.consumers;
    showCounts();
    consumerSims.set(frame.simulations || []);
    refresh();
  },
  onBatch(frame) {
    const mine = frame.queues?.[NAME];
    if (mine) {
      [counts.ready, counts.unacked, counts.consumers] = mine;
      showCounts();
    }
    consumerSims.set(frame.simulations);
    let changed = false;
    for (const e of frame.events || []) {
      if (e.type === "queue.deleted" && e.name === NAME) deleted();
      if (e.type === "queue.declared" && e.name === NAME && isDeleted) location.reload();
      if (touchesThisQueue(e)) changed = true;
    }
    if (changed) refresh();
  },
});
