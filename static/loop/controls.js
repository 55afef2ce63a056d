// controls.js: the event-loop page talking to the server: run / pause / step / slow motion /
// a new loop (buttons and keys S, P, R), starting and stopping demos, publishing to the
// consumer-service queue, and the log's filters. Everything else comes over the socket.

import { ApiError, api, paths } from "../lib/api.js";
import { clear, h, showError } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { slowText } from "./draw.js";
import { field, said, say, sayNodes } from "./words.js";

const $ = (id) => document.getElementById(id);

/** The line under the controls: what a step ran, or why a request was refused. `text` is a
 * string, or a function that says it (again after a switch of language). */
export function setControlResult(text, kind = "ok") {
  const box = clear($("control-result"));
  if (text) box.append(said(h("span", { class: `control-note ${kind}` }), typeof text === "function" ? text : () => text));
}

async function control(model, body) {
  try {
    const answer = await api("POST", "/api/loop/control", body);
    if (answer.control) model.setGate(answer.control);
    if (body.action === "step") setControlResult(() => sayNodes(field(answer, "message")), answer.ran ? "ok" : "warn");
    else if (body.action === "reset") setControlResult(() => t("a fresh loop: every task of the old one was cancelled"));
    else setControlResult(null);
    return answer;
  } catch (error) {
    setControlResult(error.hint ? `${error.reason} → ${error.hint}` : error.reason, "error");
    return null;
  }
}

/** The buttons, the slow-motion slider (sent 120 ms after it stops moving; `view.slowPending`
 * meanwhile, so a frame does not move it back) and the keys. */
export function wireControls(model, view) {
  for (const button of document.querySelectorAll(".loop-controls button[data-action]")) {
    button.addEventListener("click", () => control(model, { action: button.dataset.action }));
  }
  const slider = $("slow");
  slider.addEventListener("input", () => {
    $("slow-value").textContent = slowText(slider.value);
    clearTimeout(view.slowPending);
    view.slowPending = setTimeout(async () => {
      await control(model, { action: "slow", seconds: Number(slider.value) });
      view.slowPending = null;
    }, 120);
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.toLowerCase();
    if (key === "s") control(model, { action: "step" });
    else if (key === "p") control(model, { action: model.gate.mode === "paused" ? "run" : "pause" });
    else if (key === "r") control(model, { action: "run" });
    else return;
    event.preventDefault();
  });
}

/** Start, stop or show the code of a demo; `selectDemo(name)` shows its code. */
export function wireDemos(model, selectDemo) {
  const list = $("demo-list");
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-demo]");
    if (!button) return;
    const name = button.dataset.demo;
    selectDemo(name);
    if (button.classList.contains("demo-code")) return;
    const result = clear(list.querySelector(`.demo-result[data-demo="${CSS.escape(name)}"]`));
    const path = `/api/loop/demos/${encodeURIComponent(name)}`;
    try {
      const stopping = button.classList.contains("demo-stop");
      const answer = stopping ? await api("DELETE", path) : await api("POST", path, {});
      if (!stopping && answer.run) model.noteRun(answer.run);
      if (answer.hint) result.append(said(h("p", { class: "notice warn" }), () => say(field(answer, "hint"))));
    } catch (error) {
      showError(result, error);
    }
  });
}

/** The publish form: one message (its number counts up), or ten. */
export function wirePublish(queue) {
  const form = $("publish-form");
  const result = $("publish-result");
  const body = $("publish-body");
  const publish = async (payload) => {
    const answer = await api("POST", paths.publish("/", ""), {
      routing_key: queue,
      payload,
      payload_encoding: "string",
      properties: {},
    });
    if (!answer.routed) {
      throw new ApiError({
        reason: t("no queue '%(queue)s' yet: the message was dropped", { queue }),
        hint: t("start “%(demo)s” (it declares the queue), then publish", { demo: t("A consumer service") }),
      });
    }
    return answer;
  };
  const busy = async (button, action) => {
    clear(result);
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      showError(result, error);
    } finally {
      button.disabled = false;
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("publish-button"), async () => {
      const answer = await publish(body.value);
      const id = answer.message_id;
      result.append(said(h("p", { class: "notice ok" }), () => t("published message #%(id)s", { id })));
      const match = /^(.*?)(\d+)$/.exec(body.value);
      if (match) body.value = `${match[1]}${Number(match[2]) + 1}`;
    });
  });
  $("publish-ten").addEventListener("click", () =>
    busy($("publish-ten"), async () => {
      const base = body.value.replace(/\s*\d+$/, "") || t("order");
      for (let i = 1; i <= 10; i += 1) await publish(t("%(body)s %(i)s of %(n)s", { body: base, i, n: 10 }));
      result.append(said(h("p", { class: "notice ok" }), () => t("published %(n)s messages", { n: 10 })));
    }),
  );
}

/** The log's filters (callbacks, narration, messages, exceptions) and its Clear button. */
export function wireLog() {
  const log = $("log");
  for (const box of document.querySelectorAll(".log-filters input[data-filter]")) {
    box.addEventListener("change", () => log.classList.toggle(`hide-${box.dataset.filter}`, !box.checked));
  }
  $("log-clear").addEventListener("click", () => clear(log));
}
