// draw.js: the event-loop page's panes, drawn from the LoopModel: the controls, what runs now,
// the ready queue, the timers (with live countdowns), the exceptions and the demos' states.
// `view` holds what the page itself chose: the selected demo, task and message. Labels and
// names are user data: text nodes and attributes only. Every text is looked up at each draw
// (t(), words.js), so a switch of language redraws them all.

import { clear, h } from "../lib/dom.js";
import { fmtSeconds } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { field, fillNodes, sayNodes } from "./words.js";

export const BLOCKING = 0.1; // a callback running longer than this is "blocking the loop"

const $ = (id) => document.getElementById(id);

const KIND = {
  task_step: [() => t("task step"), "k-step"],
  task_wakeup: [() => t("wake-up"), "k-wakeup"],
  done_callback: [() => t("done-callback"), "k-done"],
  timer: [() => t("timer"), "k-timer"],
  threadsafe: [() => t("from another thread"), "k-thread"],
  io: [() => t("I/O"), "k-io"],
  callback: [() => t("callback"), "k-callback"],
};

const MODE_TEXT = {
  running: () => t("running"),
  paused: () => t("paused"),
  stopping: () => t("stopping"),
  stopped: () => t("stopped"),
  "not started": () => t("not started"),
  connecting: () => t("connecting…"),
};

// What asyncio itself says of an exception no one handled: kept in its own words (a student
// meets them in real logs), with what they mean beside them.
const ASYNCIO_SAYS = {
  "Task exception was never retrieved": () => t("a task failed, and nobody awaited it or asked for its exception"),
};

function kindChip(kind) {
  const [label, cls] = KIND[kind] || [() => kind || t("callback"), "k-callback"];
  return h("span", { class: `kind-chip ${cls}` }, label());
}

/** A source line: `function() line N: code`. */
export function lineNode(line) {
  if (!line) return null;
  return h(
    "p",
    { class: "at-line" },
    h("span", { class: "muted" }, t("%(function)s() line %(line)s: ", { function: line.function, line: line.line })),
    h("code", {}, line.code || ""),
  );
}

function messageButton(id) {
  return h(
    "button",
    {
      type: "button",
      class: "linkish message-ref",
      dataset: { message: String(id) },
      title: t("Show the task that handles this message"),
    },
    t("message #%(id)s", { id }),
  );
}

export const slowText = (seconds) => (Number(seconds) ? `${Number(seconds).toFixed(2)} s` : t("off"));

export function renderControls(model, view) {
  const gate = model.gate;
  const mode = gate.mode;
  document.body.dataset.loopMode = mode;
  document.body.dataset.loopSteps = String(gate.steps);
  const badge = $("mode");
  badge.dataset.mode = mode;
  let text = MODE_TEXT[mode]?.() ?? mode;
  if (mode === "paused" && gate.waiting_at_gate) text = t("paused: held before the next callback");
  if (gate.slow_motion) text += ` · ${t("slow motion %(seconds)s s", { seconds: gate.slow_motion })}`;
  badge.textContent = text;
  $("steps").textContent = String(gate.steps);
  $("btn-run").setAttribute("aria-pressed", mode === "running" ? "true" : "false");
  $("btn-pause").setAttribute("aria-pressed", mode === "paused" ? "true" : "false");
  const slider = $("slow");
  if (document.activeElement !== slider && !view.slowPending) slider.value = String(gate.slow_motion);
  $("slow-value").textContent = slowText(slider.value);
}

const idleText = (next, now) =>
  next
    ? t("Waiting in select() for the next timer (%(time)s) or for another thread.", { time: fmtSeconds(next.when - now) })
    : t("Waiting in select() for I/O or for a callback from another thread.");

export function renderRunning(model) {
  const box = clear($("running"));
  const { gate, current } = model;
  box.dataset.state = current ? "running" : gate.mode === "paused" ? "paused" : "idle";
  if (current) {
    const seconds = model.runningFor();
    box.append(
      h("div", { class: "running-kind" }, kindChip(current.kind)),
      h("p", { class: "running-label", id: "running-label" }, ...sayNodes(field(current, "label"))),
      current.task !== null && current.task !== undefined
        ? h("p", { class: "muted" }, ...fillNodes(t("task %(task)s"), { task: model.taskName(current.task) }))
        : null,
      h("p", { class: "running-for", id: "running-for" }, runningForText(seconds)),
      lineNode(model.running?.line),
      h(
        "p",
        { class: "blocking-warning", id: "blocking-warning", hidden: seconds < BLOCKING },
        t("Blocking the loop: no other callback, timer or task can run until this returns."),
      ),
    );
    return;
  }
  const head = model.ready.values().next().value;
  if (gate.mode === "paused") {
    if (head) {
      box.append(
        h("p", { class: "running-label idle" }, t("Paused before the next callback:")),
        h("p", { class: "next-label" }, kindChip(head.kind), " ", ...sayNodes(field(head, "label"))),
        h("p", { class: "muted" }, t("Press Step to run just that one.")),
      );
    } else {
      box.append(
        h("p", { class: "running-label idle" }, t("Paused, nothing ready.")),
        h("p", { class: "muted" }, t("Timers that come due and other threads can still queue callbacks; start a demo, then Step.")),
      );
    }
    return;
  }
  box.append(
    h("p", { class: "running-label idle" }, t("Idle: nothing to run.")),
    h("p", { class: "muted", id: "idle-detail" }, idleText(model.timers.values().next().value, model.loopNow())),
  );
}

function entryItem(model, view, entry, position) {
  const li = h(
    "li",
    { class: "entry", dataset: { id: String(entry.id), kind: entry.kind || "callback" } },
    h("span", { class: "pos" }, String(position)),
    h(
      "div",
      { class: "entry-body" },
      h("span", { class: "entry-label" }, ...sayNodes(field(entry, "label"))),
      h("span", { class: "entry-meta" }, kindChip(entry.kind), entry.message !== undefined ? messageButton(entry.message) : null),
    ),
  );
  if (entry.task !== null && entry.task !== undefined) li.dataset.task = model.taskName(entry.task) || "";
  if (view.selectedTask && li.dataset.task === view.selectedTask) li.classList.add("selected");
  return li;
}

export function renderReady(model, view) {
  const list = clear($("ready-list"));
  $("ready-count").textContent = String(model.readyTotal);
  let position = 1;
  for (const entry of model.ready.values()) {
    const li = entryItem(model, view, entry, position);
    if (entry.when !== undefined) {
      // A timer that came due: it waits its turn like any callback (late if the loop is busy).
      li.classList.add("timer", "fired");
      li.dataset.when = String(entry.when);
      li.querySelector(".entry-body").append(h("span", { class: "countdown" }, ""));
    }
    if (position === 1) {
      li.classList.add("head");
      li.querySelector(".entry-meta").prepend(h("span", { class: "next-tag" }, model.gate.mode === "paused" ? t("next (held)") : t("next")));
    }
    list.append(li);
    position += 1;
  }
  if (model.readyTotal > model.ready.size) {
    list.append(h("li", { class: "more muted" }, t("… and %(n)s more", { n: model.readyTotal - model.ready.size })));
  }
  if (!model.ready.size) list.append(h("li", { class: "empty muted" }, t("empty")));
  updateCountdowns(model);
}

export function renderTimers(model, view) {
  const list = clear($("timer-list"));
  $("timer-count").textContent = String(model.timersTotal);
  const timers = [...model.timers.values()].sort((a, b) => a.when - b.when || a.id - b.id);
  timers.forEach((timer, i) => {
    const li = entryItem(model, view, timer, i + 1);
    li.classList.add("timer");
    li.dataset.when = String(timer.when);
    li.dataset.queued = String(timer.queued_at);
    li.querySelector(".entry-body").append(
      h("span", { class: "countdown" }, ""),
      h("span", { class: "bar" }, h("span", { class: "bar-fill" })),
    );
    list.append(li);
  });
  if (!timers.length) list.append(h("li", { class: "empty muted" }, t("no timers")));
  updateCountdowns(model);
}

/** The numbers that move with time alone: countdowns, timer bars, "running for". */
export function updateCountdowns(model) {
  const now = model.loopNow();
  const paused = model.gate.mode === "paused";
  for (const li of $("ready-list").querySelectorAll("li.timer.fired")) {
    const late = now - Number(li.dataset.when);
    li.classList.toggle("late", late >= BLOCKING && !paused);
    const ago = { time: fmtSeconds(Math.max(0, late)) };
    li.querySelector(".countdown").textContent =
      late >= BLOCKING && !paused ? t("due %(time)s ago: the loop is busy", ago) : t("due %(time)s ago", ago);
  }
  for (const li of $("timer-list").querySelectorAll("li.timer")) {
    const when = Number(li.dataset.when);
    const queued = Number(li.dataset.queued);
    const left = when - now;
    li.classList.toggle("late", left < 0 && !paused);
    li.classList.toggle("due", left < 0);
    li.querySelector(".countdown").textContent =
      left >= 0 ? t("due in %(time)s", { time: fmtSeconds(left) }) :
      paused ? t("due %(time)s ago: waits for the paused loop", { time: fmtSeconds(-left) }) :
      t("late by %(time)s: the loop is busy", { time: fmtSeconds(-left) });
    const done = Math.min(1, Math.max(0, (now - queued) / Math.max(0.001, when - queued)));
    li.querySelector(".bar-fill").style.width = `${(done * 100).toFixed(1)}%`;
  }
  updateRunningFor(model, now);
}

function updateRunningFor(model, now) {
  if (model.current) {
    const seconds = model.runningFor();
    if (seconds >= BLOCKING) model.touch("lag");
    const text = $("running-for");
    if (text) text.textContent = runningForText(seconds);
    const warning = $("blocking-warning");
    if (warning) warning.hidden = seconds < BLOCKING;
    $("running").classList.toggle("blocking", seconds >= BLOCKING);
    return;
  }
  $("running").classList.remove("blocking");
  const idle = $("idle-detail");
  const next = model.timers.values().next().value;
  if (idle && next) idle.textContent = idleText(next, now);
}

const runningForText = (seconds) => t("running for %(time)s", { time: fmtSeconds(seconds) });

/** Where an exception happened: its task, its callback. */
function whereNodes(exc) {
  const parts = [];
  if (exc.task) parts.push(fillNodes(t("task %(task)s"), { task: exc.task }));
  if (exc.callback) parts.push(fillNodes(t("callback %(callback)s"), { callback: field(exc, "callback") }));
  return parts.flatMap((part, i) => (i ? [" · ", ...part] : part));
}

/** How it was met: our words (translated), or asyncio's own (kept, with what they mean). */
function howNodes(exc) {
  if (exc.how_i18n || exc.handled) return sayNodes(field(exc, "how"));
  const meaning = ASYNCIO_SAYS[exc.how];
  return [h("code", {}, exc.how ?? ""), meaning ? ` (${meaning()})` : null];
}

export function renderExceptions(model) {
  const list = clear($("exception-list"));
  $("exception-count").textContent = String(model.exceptions.length);
  for (const exc of model.exceptions.slice().reverse()) {
    const where = whereNodes(exc);
    list.append(
      h(
        "li",
        { class: `exception ${exc.handled ? "handled" : "unhandled"}` },
        h(
          "div",
          { class: "exception-head" },
          h("span", { class: `badge ${exc.handled ? "badge-handled" : "badge-error"}` }, exc.handled ? t("handled") : t("unhandled")),
          h("code", { class: "exception-type" }, `${exc.type}: ${exc.message}`),
        ),
        h("p", { class: "exception-how" }, ...howNodes(exc)),
        where.length ? h("p", { class: "muted exception-where" }, ...where) : null,
        exc.traceback ? h("details", {}, h("summary", {}, t("traceback")), h("pre", { class: "traceback" }, exc.traceback)) : null,
      ),
    );
  }
  if (!model.exceptions.length) list.append(h("li", { class: "empty muted" }, t("none")));
}

const RUN_STATUS = {
  running: () => [[t("running")], "badge-running"],
  done: (run) => [["✓ ", ...sayNodes(field(run, "result"))], "badge-ok"],
  failed: (run) => [["✗ ", h("code", {}, run.error ?? "")], "badge-error"],
};

export function renderDemos(model) {
  for (const item of document.querySelectorAll("#demo-list li.demo")) {
    const run = model.runs.get(item.dataset.demo);
    const status = item.querySelector(".demo-status");
    const running = run?.state === "running";
    item.dataset.state = run ? run.state : "idle";
    item.querySelector(".demo-stop").hidden = !running;
    item.querySelector(".demo-start").disabled = running;
    status.className = "demo-status";
    if (!run) {
      status.textContent = "";
      continue;
    }
    const [text, badge] = RUN_STATUS[run.state]?.(run) ?? [[t("stopped")], null];
    status.replaceChildren(...text);
    status.classList.add("badge");
    if (badge) status.classList.add(badge);
  }
}
