// queues.js: the queues list. Declares (with x-arguments), purges and deletes through the JSON
// API. Ready / unacked / consumer counts update from every live batch; the rest of the table is a
// server-drawn fragment that htmx reloads when the live stream reports a change.

import { ApiError, api, pages, paths } from "./lib/api.js";
import { h, phrase, showError, showOk } from "./lib/dom.js";
import { fmtNumber } from "./lib/format.js";
import { checked, numberValue, onSubmit, readKV, value } from "./lib/forms.js";
import { confirmThen, refresher } from "./lib/fragments.js";
import { t } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import "./lib/title.js";
import { hasField, isClient, isTopology } from "./lib/vocabulary.js";

const VHOST = document.body.dataset.vhost || "/";
const form = document.getElementById("declare-queue");
const declareResult = document.getElementById("declare-result");
const actionResult = document.getElementById("action-result");
const table = document.getElementById("queues-table");
const refresh = refresher(600);
const COUNTED = new Set(["delivered", "acked"]); // the table's Delivered and Acked columns
// The table changes with the topology, a consumer coming or going (a client event about a
// queue), and the events it counts; ready / unacked / consumers come with every batch.
const changesTable = (type) => isTopology(type) || (isClient(type) && hasField(type, "queue")) || COUNTED.has(type);

const NUMERIC_ARGS = ["x-message-ttl", "x-expires", "x-max-length", "x-max-length-bytes", "x-max-priority"];
const STRING_ARGS = ["x-overflow", "x-dead-letter-exchange", "x-dead-letter-routing-key"];

onSubmit(form, declareResult, async () => {
  const name = value(form, "name");
  if (!name.trim()) {
    throw new ApiError({
      words: () => ({
        reason: t("Give the queue a name"),
        hint: t("AMQP clients may leave it empty to get a server-named queue (amq.gen-…); here, name it so you can find it."),
      }),
    });
  }
  const args = readKV(form.querySelector('fieldset[data-kv="arguments"]'));
  for (const key of NUMERIC_ARGS) {
    const number = numberValue(form, key);
    if (number !== undefined) args[key] = number;
  }
  for (const key of STRING_ARGS) {
    const text = value(form, key);
    if (text !== "") args[key] = text;
  }
  if (value(form, "x-single-active-consumer") === "true") args["x-single-active-consumer"] = true;
  await api("PUT", paths.queue(VHOST, name), {
    durable: checked(form, "durable"),
    auto_delete: checked(form, "auto_delete"),
    arguments: args,
  });
  showOk(declareResult, () =>
    phrase(t("Declared queue %(name)s. Bind it to an exchange, or publish to it through the default exchange."), {
      name: h("a", { href: pages.queue(VHOST, name), class: "entity-link" }, name),
    }),
  );
  form.elements.namedItem("name").value = "";
  refresh();
});

table.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const name = button.dataset.name;
  if (button.dataset.action === "purge-queue") {
    confirmThen(button, async () => {
      try {
        await api("DELETE", paths.contents(VHOST, name));
        showOk(actionResult, () => t("Purged %(name)s: its ready messages are gone (unacked ones stay with their consumers).", { name }));
        refresh();
      } catch (error) {
        showError(actionResult, error);
      }
    });
  } else if (button.dataset.action === "delete-queue") {
    confirmThen(button, async () => {
      try {
        await api("DELETE", paths.queue(VHOST, name));
        showOk(actionResult, () => t("Deleted queue %(name)s, its messages and its bindings.", { name }));
        refresh();
      } catch (error) {
        showError(actionResult, error);
      }
    });
  }
});

function updateCounts(queues) {
  for (const row of table.querySelectorAll("tbody tr[data-name]")) {
    const counts = queues[row.dataset.name];
    if (!counts) continue;
    const [ready, unacked, consumers] = counts;
    const set = (cell, n) => {
      const el = row.querySelector(`[data-cell="${cell}"]`);
      if (el) el.textContent = fmtNumber(n);
    };
    set("ready", ready);
    set("unacked", unacked);
    set("total", ready + unacked);
    set("consumers", consumers);
  }
}

// A table fragment is a snapshot from when it was asked for; batches that came in while it
// travelled are newer, so their counts win.
let lastCounts = null;
let lastBatchAt = 0;
let askedAt = 0;
table.addEventListener("htmx:beforeRequest", () => {
  askedAt = performance.now();
});
table.addEventListener("htmx:afterSwap", () => {
  if (lastCounts && lastBatchAt > askedAt) updateCounts(lastCounts);
});

connectLive({
  onSnapshot: refresh,
  onBatch(frame) {
    if (frame.queues) {
      lastCounts = frame.queues;
      lastBatchAt = performance.now();
      updateCounts(frame.queues);
    }
    if ((frame.events || []).some((e) => changesTable(e.type))) refresh();
  },
});
