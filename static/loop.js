// loop.js: the event-loop page. A real asyncio loop in the server, shown one callback at a time.
//
// One websocket (/ws/loop) brings a snapshot of the loop, then ~20 batches a second: the loop's
// events (a callback queued, a timer set or due, a callback run, a task stepped, a lag sample,
// narration, an exception), the ids of the ready queue and timers in order (to check the copy
// kept here), the gate (running / paused / slow motion), the line running now, and what happened
// to the messages of the consumer-service queue. Controls and demos are POSTs to /api/loop/….
//
// Everything shown may hold user data (message bodies, names): DOM is built with createElement
// and textContent only (lib/dom.js h()/s()), never innerHTML.
//
// <body data-loop-live> is "connecting", "open" (a snapshot is drawn) or "closed"; tests wait for
// body[data-loop-live="open"]. <body data-loop-mode> is the gate's mode, data-loop-steps its count,
// data-loop-generation the loop's number (it changes with "New loop").

import { api } from "./lib/api.js";
import { clear, h, s, showError } from "./lib/dom.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";

const DEMOS = JSON.parse(document.getElementById("demo-data").textContent);
const DEMO_BY_NAME = new Map(DEMOS.map((demo) => [demo.name, demo]));
const DEMO_FILES = new Set(DEMOS.map((demo) => demo.file));
const QUEUE = document.getElementById("queue-name").textContent;
const LAG_WINDOW = 30; // seconds of loop lag on the chart
const LOG_LIMIT = 400;
const MESSAGE_LIMIT = 60;
const TASK_LIMIT = 40;
const BLOCKING = 0.1; // a callback running longer than this is "blocking the loop"

const KIND = {
  task_step: ["task step", "k-step"],
  task_wakeup: ["wake-up", "k-wakeup"],
  done_callback: ["done-callback", "k-done"],
  timer: ["timer", "k-timer"],
  threadsafe: ["from another thread", "k-thread"],
  io: ["I/O", "k-io"],
  callback: ["callback", "k-callback"],
};

const $ = (id) => document.getElementById(id);

// --- state ------------------------------------------------------------------------------------

const state = {
  generation: 0,
  ready: new Map(), // id -> entry, in FIFO order
  readyTotal: 0,
  timers: new Map(), // id -> entry, soonest first after each `order`
  timersTotal: 0,
  current: null,
  tasks: new Map(), // id -> task
  exceptions: [],
  lag: [],
  gate: { mode: "connecting", slow_motion: 0, steps: 0, waiting_at_gate: false, idle: false },
  running: null, // {line, for}
  clock: { now: 0, at: performance.now() },
  runs: new Map(),
  messages: new Map(), // message id -> {id, body, steps: Set, order: [], redelivered}
  depth: null,
  selectedDemo: null,
  selectedTask: null, // a task name (handle-message-7) or null
  selectedMessage: null,
};

const dirty = new Set();
let renderQueued = false;

function touch(...panes) {
  for (const pane of panes) dirty.add(pane);
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(render);
  }
}

const loopNow = () => state.clock.now + (performance.now() - state.clock.at) / 1000;

function setClock(now) {
  if (typeof now === "number") state.clock = { now, at: performance.now() };
}

// --- formatting -------------------------------------------------------------------------------

function fmtSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const abs = Math.abs(seconds);
  if (abs >= 1) return `${seconds.toFixed(2)} s`;
  if (abs >= 0.01) return `${Math.round(seconds * 1000)} ms`;
  return `${(seconds * 1000).toFixed(1)} ms`;
}

const fmtT = (t) => (typeof t === "number" ? t.toFixed(3) : "");

function kindChip(kind) {
  const [label, cls] = KIND[kind] || [kind || "callback", "k-callback"];
  return h("span", { class: `kind-chip ${cls}` }, label);
}

function taskName(id) {
  return id === null || id === undefined ? null : state.tasks.get(id)?.name ?? `#${id}`;
}

// --- applying frames --------------------------------------------------------------------------

function applySnapshot(frame) {
  const snap = frame.snapshot;
  const newLoop = frame.generation !== state.generation;
  state.generation = frame.generation;
  document.body.dataset.loopGeneration = String(frame.generation);
  state.ready = new Map(snap.ready.map((entry) => [entry.id, entry]));
  state.readyTotal = snap.ready_total;
  state.timers = new Map(snap.timers.map((entry) => [entry.id, entry]));
  state.timersTotal = snap.timers_total;
  state.current = snap.current;
  state.tasks = new Map(snap.tasks.map((task) => [task.id, task]));
  state.exceptions = snap.exceptions.slice();
  const samples = snap.lag.samples;
  if (newLoop || !samples.length) state.lag = samples.slice();
  else state.lag = [...state.lag.filter((sample) => sample.t < samples[0].t), ...samples];
  if (newLoop) {
    if (logStarted) logLine("control", null, `a new loop (#${frame.generation}): every task before it was cancelled`);
    logStarted = true;
    for (const note of snap.notes) logNote(note);
  } else {
    logLine("control", null, "caught up with a fresh snapshot of the loop");
  }
  state.messages = new Map();
  for (const item of frame.flow || []) applyFlow(item, false);
  applyLive(frame);
  lastRuns = "";
  applyRuns(frame.runs);
  if ("orders" in frame) state.depth = frame.orders;
  touch("all");
}

function applyLive(frame) {
  if (frame.gate) {
    state.gate = frame.gate;
    if (lastControl.mode === null) lastControl = { mode: frame.gate.mode, slow_motion: frame.gate.slow_motion };
  }
  if (frame.order) {
    setClock(frame.order.now);
    reconcile(frame.order);
  }
  state.running = frame.running || null;
  touch("controls", "running", "code");
}

// The ids in order, as the loop has them now: keep the copy built from events honest.
function reconcile(order) {
  const ready = new Map();
  for (const id of order.ready) if (state.ready.has(id)) ready.set(id, state.ready.get(id));
  const before = [...state.ready.keys()];
  if (ready.size !== before.length || ![...ready.keys()].every((id, i) => id === before[i])) {
    touch("ready");
  }
  state.ready = ready;
  state.readyTotal = order.ready_total;
  const timers = new Map();
  for (const id of order.timers) if (state.timers.has(id)) timers.set(id, state.timers.get(id));
  if (timers.size !== state.timers.size) touch("timers");
  state.timers = timers;
  state.timersTotal = order.timers_total;
  if (order.current === null && state.current !== null) {
    state.current = null;
    touch("running");
  }
}

let lastControl = { mode: null, slow_motion: null };
const openRuns = new Map(); // callback id -> its log line, until it has run

function applyEvent(event) {
  switch (event.type) {
    case "ready": {
      const entry = event.entry;
      state.ready.delete(entry.id);
      state.ready.set(entry.id, entry);
      touch("ready", "tasks");
      break;
    }
    case "timer":
      state.timers.set(event.entry.id, event.entry);
      touch("timers");
      break;
    case "timer_due":
      state.timers.delete(event.entry.id);
      state.ready.delete(event.entry.id);
      state.ready.set(event.entry.id, event.entry);
      touch("timers", "ready");
      break;
    case "removed":
      state.ready.delete(event.id);
      state.timers.delete(event.id);
      touch("timers", "ready");
      break;
    case "run": {
      const entry = event.entry;
      state.ready.delete(entry.id);
      state.timers.delete(entry.id);
      state.current = { ...entry, started: event.t };
      if (!quietCallbacks) {
        const line = logLine("callback", event.t, `▶ ${entry.label}`, { kind: entry.kind, task: entry.task });
        openRuns.set(entry.id, line);
      }
      touch("ready", "timers", "running", "code", "tasks");
      break;
    }
    case "ran": {
      if (state.current && state.current.id === event.id) state.current = null;
      const line = openRuns.get(event.id);
      openRuns.delete(event.id);
      if (line) {
        const took = h("span", { class: "took" }, ` ${fmtSeconds(event.duration)}`);
        if (event.duration >= BLOCKING) took.classList.add("slow");
        line.append(took);
        if (event.error) line.append(h("span", { class: "log-error" }, ` raised ${event.error}`));
      }
      if (openRuns.size > 200) openRuns.delete(openRuns.keys().next().value);
      touch("running", "code", "tasks");
      break;
    }
    case "task":
      state.tasks.set(event.task.id, event.task);
      touch("tasks", "code", "messages");
      break;
    case "lag":
      state.lag.push({ t: event.t, lag: event.lag, source: event.source });
      touch("lag");
      break;
    case "note":
      logNote(event);
      break;
    case "exception":
      state.exceptions.push(event.exception);
      if (state.exceptions.length > 50) state.exceptions.shift();
      logException(event.exception);
      touch("exceptions");
      break;
    case "control":
      // A step pauses (again) each time: log only what changed.
      if (event.mode !== lastControl.mode || event.slow_motion !== lastControl.slow_motion) {
        logLine("control", event.t, describeControl(event));
      }
      lastControl = { mode: event.mode, slow_motion: event.slow_motion };
      state.gate = { ...state.gate, mode: event.mode, slow_motion: event.slow_motion };
      touch("controls", "running");
      break;
    default:
      break;
  }
}

function describeControl(event) {
  const slow = event.slow_motion ? `, slow motion ${event.slow_motion} s per callback` : "";
  return `loop ${event.mode}${slow}`;
}

let lastSkipNote = -Infinity;
let quietCallbacks = false;
const CALLBACKS_PER_FRAME = 120; // more in one frame: the log sums them up
let lastRuns = "";

function applyBatch(frame) {
  if (frame.generation !== state.generation) return;
  // The broker's message events and the loop's events, in the order they happened.
  const flow = frame.flow || [];
  const runs = frame.events.reduce((count, event) => count + (event.type === "run"), 0);
  quietCallbacks = runs > CALLBACKS_PER_FRAME;
  if (quietCallbacks) logLine("callback", frame.events[0].t, `▶ … ${runs} callbacks ran (too many to list one by one)`);
  let f = 0;
  for (const event of frame.events) {
    while (f < flow.length && flow[f].t <= event.t) applyFlow(flow[f++], true);
    applyEvent(event);
  }
  while (f < flow.length) applyFlow(flow[f++], true);
  quietCallbacks = false;
  if (frame.skipped && performance.now() - lastSkipNote > 2000) {
    lastSkipNote = performance.now();
    logLine("control", null, `${frame.skipped} events in a moment: too many to show one by one (snapshots instead)`);
  }
  if ("orders" in frame && String(frame.orders) !== String(state.depth)) {
    state.depth = frame.orders;
    touch("messages");
  }
  if (frame.runs) applyRuns(frame.runs);
  applyLive(frame);
  trimLag();
}

function trimLag() {
  const from = loopNow() - LAG_WINDOW - 2;
  let drop = 0;
  while (drop < state.lag.length && state.lag[drop].t < from) drop += 1;
  if (drop) state.lag.splice(0, drop);
}

const finishedLogged = new Set();

function applyRuns(runs) {
  if (!runs) return;
  const text = JSON.stringify(runs);
  if (text === lastRuns) return;
  lastRuns = text;
  const before = state.runs;
  state.runs = new Map(runs.map((run) => [run.name, run]));
  for (const run of runs) {
    const old = before.get(run.name);
    const key = `${run.name}@${run.started}`;
    if (old && old.state === "running" && run.state !== "running" && !finishedLogged.has(key)) {
      finishedLogged.add(key);
      const text =
        run.state === "done" ? `demo ${run.name} finished: ${run.result}` :
        run.state === "failed" ? `demo ${run.name} failed: ${run.error}` :
        `demo ${run.name} was cancelled`;
      logLine("note", null, text, { cls: run.state === "failed" ? "log-error" : "log-demo" });
    }
  }
  touch("demos");
}

// --- the consumer-service queue: message flow -------------------------------------------------

const FLOW_STEP = {
  published: "published",
  delivered: "delivered",
  acked: "acked",
  nacked: "nacked",
  rejected: "rejected",
  requeued: "requeued",
  expired: "expired",
  dropped: "dropped",
  "dead-lettered": "dead-lettered",
};

function applyFlow(item, live) {
  let message = state.messages.get(item.message);
  if (!message) {
    message = { id: item.message, body: null, steps: [], redelivered: false };
    state.messages.set(item.message, message);
    while (state.messages.size > MESSAGE_LIMIT) {
      state.messages.delete(state.messages.keys().next().value);
    }
  }
  if (item.step === "published") message.body = item.body;
  if (item.step === "delivered" && item.redelivered) message.redelivered = true;
  message.steps.push(item.step);
  if (live && item.step === "acked") {
    const task = `handle-message-${item.message}`;
    const known = [...state.tasks.values()].some((t) => t.name === task);
    logLine("message", item.t, `message #${item.message} → task ${known ? task : "?"} → acked`, {
      message: item.message,
    });
  } else if (live && item.step === "published") {
    const body = item.body.length > 40 ? `${item.body.slice(0, 39)}…` : item.body;
    logLine("message", item.t, `message #${item.message} published to ${QUEUE}: ${body}`, { message: item.message });
  }
  touch("messages");
}

// --- rendering --------------------------------------------------------------------------------

function render() {
  renderQueued = false;
  const panes = new Set(dirty);
  dirty.clear();
  const all = panes.has("all");
  const is = (pane) => all || panes.has(pane);
  if (is("controls")) renderControls();
  if (is("running")) renderRunning();
  if (is("ready")) renderReady();
  if (is("timers")) renderTimers();
  if (is("tasks")) renderTasks();
  if (is("exceptions")) renderExceptions();
  if (is("lag")) renderLag();
  if (is("demos")) renderDemos();
  if (is("messages")) renderMessages();
  if (is("code") || is("tasks") || is("ready")) renderCodeMarks();
  if (is("log")) flushLog();
}

// Controls ---------------------------------------------------------------------------------------

const MODE_TEXT = {
  running: "running",
  paused: "paused",
  stopping: "stopping",
  stopped: "stopped",
  "not started": "not started",
  connecting: "connecting…",
};

function renderControls() {
  const gate = state.gate;
  const mode = gate.mode;
  document.body.dataset.loopMode = mode;
  document.body.dataset.loopSteps = String(gate.steps);
  const badge = $("mode");
  badge.dataset.mode = mode;
  let text = MODE_TEXT[mode] || mode;
  if (mode === "paused" && gate.waiting_at_gate) text = "paused: held before the next callback";
  if (gate.slow_motion) text += ` · slow motion ${gate.slow_motion} s`;
  badge.textContent = text;
  $("steps").textContent = String(gate.steps);
  $("btn-run").setAttribute("aria-pressed", mode === "running" ? "true" : "false");
  $("btn-pause").setAttribute("aria-pressed", mode === "paused" ? "true" : "false");
  const slider = $("slow");
  if (document.activeElement !== slider && !slowPending) slider.value = String(gate.slow_motion);
  $("slow-value").textContent = Number(slider.value) ? `${Number(slider.value).toFixed(2)} s` : "off";
}

// Running now -------------------------------------------------------------------------------------

function lineNode(line) {
  if (!line) return null;
  return h(
    "p",
    { class: "at-line" },
    h("span", { class: "muted" }, `${line.function}() line ${line.line}: `),
    h("code", {}, line.code || ""),
  );
}

function renderRunning() {
  const box = clear($("running"));
  const gate = state.gate;
  const current = state.current;
  box.dataset.state = current ? "running" : gate.mode === "paused" ? "paused" : "idle";
  if (current) {
    const seconds = runningFor();
    box.append(
      h("div", { class: "running-kind" }, kindChip(current.kind)),
      h("p", { class: "running-label", id: "running-label" }, current.label),
      current.task !== null && current.task !== undefined
        ? h("p", { class: "muted" }, `task ${taskName(current.task)}`)
        : null,
      h("p", { class: "running-for", id: "running-for" }, `running for ${fmtSeconds(seconds)}`),
      lineNode(state.running?.line),
      h(
        "p",
        { class: "blocking-warning", id: "blocking-warning", hidden: seconds < BLOCKING },
        "Blocking the loop: no other callback, timer or task can run until this returns.",
      ),
    );
    return;
  }
  const head = state.ready.values().next().value;
  if (gate.mode === "paused") {
    if (head) {
      box.append(
        h("p", { class: "running-label idle" }, "Paused before the next callback:"),
        h("p", { class: "next-label" }, kindChip(head.kind), " ", head.label),
        h("p", { class: "muted" }, "Press Step to run just that one."),
      );
    } else {
      box.append(
        h("p", { class: "running-label idle" }, "Paused, nothing ready."),
        h("p", { class: "muted" }, "Timers that come due and other threads can still queue callbacks; start a demo, then Step."),
      );
    }
    return;
  }
  const next = state.timers.values().next().value;
  box.append(
    h("p", { class: "running-label idle" }, "Idle: nothing to run."),
    h(
      "p",
      { class: "muted", id: "idle-detail" },
      next ? `Waiting in select() for the next timer (${fmtSeconds(next.when - loopNow())}) or for another thread.` :
        "Waiting in select() for I/O or for a callback from another thread.",
    ),
  );
}

function runningFor() {
  if (!state.current) return 0;
  return Math.max(0, loopNow() - (state.current.started ?? loopNow()));
}

// Ready queue -----------------------------------------------------------------------------------

function entryItem(entry, position) {
  const li = h(
    "li",
    {
      class: "entry",
      dataset: { id: String(entry.id), kind: entry.kind || "callback" },
    },
    h("span", { class: "pos" }, String(position)),
    h(
      "div",
      { class: "entry-body" },
      h("span", { class: "entry-label" }, entry.label),
      h(
        "span",
        { class: "entry-meta" },
        kindChip(entry.kind),
        entry.message !== undefined ? messageButton(entry.message) : null,
      ),
    ),
  );
  if (entry.task !== null && entry.task !== undefined) li.dataset.task = taskName(entry.task) || "";
  if (state.selectedTask && li.dataset.task === state.selectedTask) li.classList.add("selected");
  return li;
}

function renderReady() {
  const list = clear($("ready-list"));
  $("ready-count").textContent = String(state.readyTotal);
  let position = 1;
  for (const entry of state.ready.values()) {
    const li = entryItem(entry, position);
    if (entry.when !== undefined) {
      // A timer that came due: it waits its turn like any callback (late if the loop is busy).
      li.classList.add("timer", "fired");
      li.dataset.when = String(entry.when);
      li.querySelector(".entry-body").append(h("span", { class: "countdown" }, ""));
    }
    if (position === 1) {
      li.classList.add("head");
      li.querySelector(".entry-meta").prepend(
        h("span", { class: "next-tag" }, state.gate.mode === "paused" ? "next (held)" : "next"),
      );
    }
    list.append(li);
    position += 1;
  }
  if (state.readyTotal > state.ready.size) {
    list.append(h("li", { class: "more muted" }, `… and ${state.readyTotal - state.ready.size} more`));
  }
  if (!state.ready.size) list.append(h("li", { class: "empty muted" }, "empty"));
  updateCountdowns();
}

// Timers ----------------------------------------------------------------------------------------

function renderTimers() {
  const list = clear($("timer-list"));
  $("timer-count").textContent = String(state.timersTotal);
  const timers = [...state.timers.values()].sort((a, b) => a.when - b.when || a.id - b.id);
  for (const timer of timers) {
    const li = entryItem(timer, timers.indexOf(timer) + 1);
    li.classList.add("timer");
    li.dataset.when = String(timer.when);
    li.dataset.queued = String(timer.queued_at);
    li.querySelector(".entry-body").append(
      h("span", { class: "countdown" }, ""),
      h("span", { class: "bar" }, h("span", { class: "bar-fill" })),
    );
    list.append(li);
  }
  if (!timers.length) list.append(h("li", { class: "empty muted" }, "no timers"));
  updateCountdowns();
}

function updateCountdowns() {
  const now = loopNow();
  const paused = state.gate.mode === "paused";
  for (const li of $("ready-list").querySelectorAll("li.timer.fired")) {
    const late = now - Number(li.dataset.when);
    li.classList.toggle("late", late >= BLOCKING && !paused);
    li.querySelector(".countdown").textContent = `due ${fmtSeconds(Math.max(0, late))} ago${late >= BLOCKING && !paused ? ": the loop is busy" : ""}`;
  }
  for (const li of $("timer-list").querySelectorAll("li.timer")) {
    const when = Number(li.dataset.when);
    const queued = Number(li.dataset.queued);
    const left = when - now;
    const countdown = li.querySelector(".countdown");
    li.classList.toggle("late", left < 0 && !paused);
    li.classList.toggle("due", left < 0);
    countdown.textContent =
      left >= 0 ? `due in ${fmtSeconds(left)}` :
      paused ? `due ${fmtSeconds(-left)} ago: waits for the paused loop` :
      `late by ${fmtSeconds(-left)}: the loop is busy`;
    const span = Math.max(0.001, when - queued);
    const done = Math.min(1, Math.max(0, (now - queued) / span));
    li.querySelector(".bar-fill").style.width = `${(done * 100).toFixed(1)}%`;
  }
  if (state.current) {
    const seconds = runningFor();
    if (seconds >= BLOCKING) touch("lag");
    const text = $("running-for");
    if (text) text.textContent = `running for ${fmtSeconds(seconds)}`;
    const warning = $("blocking-warning");
    if (warning) warning.hidden = seconds < BLOCKING;
    $("running").classList.toggle("blocking", seconds >= BLOCKING);
  } else {
    $("running").classList.remove("blocking");
    const idle = $("idle-detail");
    const next = state.timers.values().next().value;
    if (idle && next) {
      idle.textContent = `Waiting in select() for the next timer (${fmtSeconds(next.when - now)}) or for another thread.`;
    }
  }
}

// Tasks -----------------------------------------------------------------------------------------

const TERMINAL = new Set(["done", "cancelled", "failed"]);

function renderTasks() {
  const list = clear($("task-list"));
  const readyTasks = new Set([...state.ready.values()].map((entry) => entry.task));
  const tasks = [...state.tasks.values()];
  const live = tasks.filter((task) => !TERMINAL.has(task.state)).sort((a, b) => a.id - b.id);
  const finished = tasks
    .filter((task) => TERMINAL.has(task.state))
    .sort((a, b) => (b.finished_at ?? 0) - (a.finished_at ?? 0) || b.id - a.id);
  $("task-count").textContent = String(live.length);
  const shown = [...live, ...finished].slice(0, TASK_LIMIT);
  for (const task of shown) list.append(taskItem(task, readyTasks.has(task.id)));
  if (tasks.length > shown.length) {
    list.append(h("li", { class: "more muted" }, `… ${tasks.length - shown.length} more finished`));
  }
  if (!tasks.length) list.append(h("li", { class: "empty muted" }, "no tasks"));
}

function taskItem(task, ready) {
  const running = state.current && state.current.task === task.id;
  const shownState = running ? "running" : task.state;
  const li = h(
    "li",
    {
      class: `task state-${shownState}`,
      tabindex: "0",
      dataset: { taskId: String(task.id), taskName: task.name, state: shownState },
      title: "Click to show this task's line in the code",
    },
    h(
      "div",
      { class: "task-head" },
      h("span", { class: "task-name" }, task.name),
      h("span", { class: `state-chip s-${shownState}` }, shownState),
      ready && !running ? h("span", { class: "ready-tag" }, "in ready queue") : null,
    ),
  );
  if (running) {
    li.append(h("p", { class: "task-await" }, "running a step now"));
    if (state.running?.line) li.append(lineNode(state.running.line));
  } else if (!TERMINAL.has(task.state)) {
    if (!task.started) li.append(h("p", { class: "task-line muted" }, "not started yet: its first step is queued"));
    else if (task.awaiting) li.append(h("p", { class: "task-await" }, h("span", { class: "muted" }, "awaits "), task.awaiting));
    const line = demoFrame(task) || task.line;
    if (line) li.append(lineNode(line));
  } else if (task.state === "done") {
    li.append(h("p", { class: "task-result" }, h("span", { class: "muted" }, "result "), h("code", {}, task.result ?? "")));
  } else if (task.state === "failed") {
    li.append(h("p", { class: "task-error" }, task.error || "failed"));
  }
  li.append(
    h(
      "p",
      { class: "task-meta muted" },
      `${task.steps} step${task.steps === 1 ? "" : "s"}${task.created_by ? ` · created by ${task.created_by}` : ""}`,
    ),
  );
  if (state.selectedTask === task.name) li.classList.add("selected");
  return li;
}

// Exceptions --------------------------------------------------------------------------------------

function renderExceptions() {
  const list = clear($("exception-list"));
  $("exception-count").textContent = String(state.exceptions.length);
  for (const exc of state.exceptions.slice().reverse()) {
    const where = [exc.task ? `task ${exc.task}` : null, exc.callback ? `callback ${exc.callback}` : null]
      .filter(Boolean)
      .join(" · ");
    list.append(
      h(
        "li",
        { class: `exception ${exc.handled ? "handled" : "unhandled"}` },
        h(
          "div",
          { class: "exception-head" },
          h("span", { class: `badge ${exc.handled ? "badge-handled" : "badge-error"}` }, exc.handled ? "handled" : "unhandled"),
          h("code", { class: "exception-type" }, `${exc.type}: ${exc.message}`),
        ),
        h("p", { class: "exception-how" }, exc.how),
        where ? h("p", { class: "muted exception-where" }, where) : null,
        exc.traceback
          ? h("details", {}, h("summary", {}, "traceback"), h("pre", { class: "traceback" }, exc.traceback))
          : null,
      ),
    );
  }
  if (!state.exceptions.length) list.append(h("li", { class: "empty muted" }, "none"));
}

// Lag chart ---------------------------------------------------------------------------------------

const CHART = { w: 600, h: 180, left: 52, right: 14, top: 18, bottom: 22 };
const projector = () => document.documentElement.dataset.projector === "on";

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function renderLag() {
  const svg = clear($("lag-chart"));
  svg.setAttribute("viewBox", `0 0 ${CHART.w} ${CHART.h}`);
  const now = loopNow();
  const from = now - LAG_WINDOW;
  const samples = state.lag.filter((sample) => sample.t >= from);
  const latest = state.lag[state.lag.length - 1];
  const max = samples.reduce((best, sample) => (sample.lag > best.lag ? sample : best), { lag: 0, t: now });
  const nowText = $("lag-now");
  nowText.textContent = latest ? fmtSeconds(latest.lag) : "–";
  nowText.dataset.seconds = String(latest ? latest.lag : 0);
  const maxText = $("lag-max");
  maxText.textContent = samples.length ? fmtSeconds(max.lag) : "–";
  maxText.dataset.seconds = String(max.lag);
  maxText.classList.toggle("spike", max.lag >= BLOCKING);
  $("lag-window").textContent = `(last ${LAG_WINDOW} s)`;

  CHART.left = projector() ? 80 : 52; // the shared stylesheet enlarges chart text for projectors
  const plotW = CHART.w - CHART.left - CHART.right;
  const plotH = CHART.h - CHART.top - CHART.bottom;
  // A callback blocking the loop right now: no timer can fire, so no sample comes until it
  // returns. The chart draws the lag it is building up, live.
  const blocked = state.current ? runningFor() : 0;
  const topMs = niceCeiling(Math.max(20, Math.max(max.lag, blocked) * 1000 * 1.1));
  const x = (t) => CHART.left + ((t - from) / LAG_WINDOW) * plotW;
  const y = (seconds) => CHART.top + plotH - Math.min(1, (seconds * 1000) / topMs) * plotH;
  const grid = s("g", { class: "chart-grid" });
  for (const fraction of [0, 0.5, 1]) {
    const ms = topMs * fraction;
    grid.append(
      s("line", { x1: CHART.left, x2: CHART.w - CHART.right, y1: y(ms / 1000), y2: y(ms / 1000) }),
      s("text", { x: CHART.left - 6, y: y(ms / 1000) + 4, "text-anchor": "end" }, ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`),
    );
  }
  grid.append(
    s("text", { x: CHART.left, y: CHART.h - 5 }, `−${LAG_WINDOW} s`),
    s("text", { x: CHART.w - CHART.right, y: CHART.h - 5, "text-anchor": "end" }, "now"),
  );
  svg.append(grid);
  if (topMs > 100) {
    svg.append(
      s("line", { class: "lag-threshold", x1: CHART.left, x2: CHART.w - CHART.right, y1: y(0.1), y2: y(0.1) }),
      s("text", { class: "lag-threshold-label", x: CHART.left + 4, y: y(0.1) - 4 }, "100 ms: people notice"),
    );
  }
  if (samples.length > 1) {
    const points = samples.map((sample) => `${x(sample.t).toFixed(1)},${y(sample.lag).toFixed(1)}`).join(" ");
    svg.append(s("polyline", { class: "line lag-line", points }));
  }
  for (const sample of samples) {
    if (sample.source !== "heartbeat" && sample.lag >= 0.01) {
      svg.append(s("circle", { class: "lag-timer", cx: x(sample.t), cy: y(sample.lag), r: 3 }, s("title", {}, `${sample.source}: ${fmtSeconds(sample.lag)} late`)));
    }
  }
  if (blocked >= BLOCKING) {
    svg.append(
      s("line", { class: "lag-building", x1: x(now - blocked), y1: y(0), x2: x(now), y2: y(blocked) }),
      s("text", { class: "lag-spike-label", x: x(now) - 6, y: Math.max(CHART.top + 10, y(blocked) + 14), "text-anchor": "end" }, `blocked: ${fmtSeconds(blocked)}…`),
    );
  }
  if (max.lag >= BLOCKING) {
    const px = x(max.t);
    const right = px > CHART.left + plotW / 2;
    svg.append(
      s("circle", { class: "lag-spike", cx: px, cy: y(max.lag), r: 5 }),
      s(
        "text",
        {
          class: "lag-spike-label",
          id: "lag-spike-label",
          x: right ? px - 9 : px + 9,
          y: Math.max(CHART.top + 10, y(max.lag) + 4),
          "text-anchor": right ? "end" : "start",
        },
        `${fmtSeconds(max.lag)} late`,
      ),
    );
  }
}

// Demos -------------------------------------------------------------------------------------------

function renderDemos() {
  for (const item of document.querySelectorAll("#demo-list li.demo")) {
    const name = item.dataset.demo;
    const run = state.runs.get(name);
    const status = item.querySelector(".demo-status");
    const running = run?.state === "running";
    item.dataset.state = run ? run.state : "idle";
    item.querySelector(".demo-stop").hidden = !running;
    item.querySelector(".demo-start").disabled = running;
    status.className = "demo-status";
    if (!run) {
      status.textContent = "";
    } else if (running) {
      status.textContent = "running";
      status.classList.add("badge", "badge-running");
    } else if (run.state === "done") {
      status.textContent = `✓ ${run.result}`;
      status.classList.add("badge", "badge-ok");
    } else if (run.state === "failed") {
      status.textContent = `✗ ${run.error}`;
      status.classList.add("badge", "badge-error");
    } else {
      status.textContent = "stopped";
      status.classList.add("badge");
    }
  }
}

// Code --------------------------------------------------------------------------------------------

const KEYWORDS =
  /(#.*$)|([rbfu]{0,2}"(?:[^"\\]|\\.)*"|[rbfu]{0,2}'(?:[^'\\]|\\.)*')|\b(await)\b|\b(async|def|return|with|for|in|if|else|elif|try|except|finally|raise|while|as|not|and|or|is|None|True|False|lambda|del|yield|import|from|pass|break|continue)\b/g;

function highlightPython(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(KEYWORDS)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const cls = match[1] ? "tok-comment" : match[2] ? "tok-string" : match[3] ? "tok-await" : "tok-kw";
    parts.push(h("span", { class: cls }, match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function selectDemo(name) {
  const demo = DEMO_BY_NAME.get(name);
  if (!demo || state.selectedDemo === name) return;
  state.selectedDemo = name;
  for (const button of document.querySelectorAll(".demo-code")) {
    button.setAttribute("aria-pressed", button.dataset.demo === name ? "true" : "false");
  }
  for (const item of document.querySelectorAll("#demo-list li.demo")) {
    item.classList.toggle("selected", item.dataset.demo === name);
  }
  $("code-title").textContent = `Code: ${demo.title}`;
  $("code-file").textContent = `${demo.file}, from line ${demo.first_line}`;
  const lines = demo.source.replace(/\n$/, "").split("\n");
  const list = h("ol", { class: "code-lines", start: String(demo.first_line) });
  lines.forEach((text, i) => {
    list.append(
      h(
        "li",
        { dataset: { line: String(demo.first_line + i) } },
        h("code", {}, ...highlightPython(text)),
        h("span", { class: "line-tags" }),
      ),
    );
  });
  clear($("code-view")).append(list);
  touch("code");
}

// The innermost frame of a task in a demo's own code (its `line` may be deeper, e.g. inside
// the asyncio client's queue iterator), so the code view can point at the demo's line.
function demoFrame(task) {
  const stack = task.stack || [];
  for (let i = stack.length - 1; i >= 0; i -= 1) if (DEMO_FILES.has(stack[i].file)) return stack[i];
  return null;
}

function demoForLine(line) {
  if (!line) return null;
  return DEMOS.find((demo) => {
    const count = demo.source.split("\n").length;
    return demo.file === line.file && line.line >= demo.first_line && line.line < demo.first_line + count;
  });
}

function renderCodeMarks() {
  const demo = DEMO_BY_NAME.get(state.selectedDemo);
  const view = $("code-view");
  if (!demo) return;
  const marks = new Map(); // line -> {classes: Set, tags: []}
  const mark = (line, cls, tag) => {
    if (!line || line.file !== demo.file) return;
    const entry = marks.get(line.line) || { classes: new Set(), tags: [] };
    entry.classes.add(cls);
    if (tag) entry.tags.push(tag);
    marks.set(line.line, entry);
  };
  const head = state.ready.values().next().value;
  for (const task of state.tasks.values()) {
    const line = demoFrame(task);
    if (TERMINAL.has(task.state) || !line) continue;
    if (state.current && state.current.task === task.id) continue; // marked as running below
    const next = head && head.task === task.id;
    mark(line, next ? "line-next" : "line-waiting", next ? `${task.name}: runs next` : task.name);
  }
  if (state.current && state.running?.line) mark(state.running.line, "line-running", "running now");
  if (state.selectedTask) {
    const task = [...state.tasks.values()].find((t) => t.name === state.selectedTask);
    const line = task ? demoFrame(task) : null;
    if (line) mark(line, "line-selected", null);
  }
  for (const li of view.querySelectorAll("li[data-line]")) {
    const entry = marks.get(Number(li.dataset.line));
    li.className = entry ? [...entry.classes].join(" ") : "";
    const tags = clear(li.querySelector(".line-tags"));
    if (entry && entry.tags.length) {
      const shown = entry.tags.slice(0, 4);
      const more = entry.tags.length - shown.length;
      tags.append(`◀ ${shown.join(", ")}${more > 0 ? ` +${more}` : ""}`);
    }
  }
}

// Messages ----------------------------------------------------------------------------------------

function messageButton(id) {
  return h(
    "button",
    {
      type: "button",
      class: "linkish message-ref",
      dataset: { message: String(id) },
      title: "Show the task that handles this message",
    },
    `message #${id}`,
  );
}

function renderMessages() {
  const depth = state.depth;
  $("queue-depth").textContent = depth
    ? `${depth[0]} ready · ${depth[1]} unacked · ${depth[2]} consumer${depth[2] === 1 ? "" : "s"}`
    : "no queue yet";
  $("queue-depth").classList.toggle("piling", Boolean(depth && depth[0] >= 3));
  const list = clear($("message-list"));
  const messages = [...state.messages.values()].reverse();
  for (const message of messages) {
    const taskName = `handle-message-${message.id}`;
    const task = [...state.tasks.values()].find((t) => t.name === taskName);
    const steps = new Set(message.steps);
    const chain = [h("span", { class: "flow-step s-published" }, "published")];
    if (steps.has("delivered")) {
      chain.push(" → ", h("span", { class: "flow-step s-delivered" }, message.redelivered ? "redelivered" : "delivered"));
    }
    const callback = [...state.ready.values()].find((entry) => entry.message === message.id);
    if (callback) chain.push(" → ", h("span", { class: "flow-step s-callback" }, "callback queued"));
    if (task || steps.has("acked")) {
      const taskState = task ? task.state : "done";
      chain.push(" → ", h("span", { class: `flow-step s-task state-${taskState}` }, `task ${taskName}`, task ? ` (${task.state})` : ""));
    }
    for (const end of ["acked", "rejected", "nacked", "requeued", "expired", "dropped", "dead-lettered"]) {
      if (steps.has(end)) chain.push(" → ", h("span", { class: `flow-step s-${end}` }, FLOW_STEP[end]));
    }
    const li = h(
      "li",
      {
        class: "message-row",
        tabindex: "0",
        dataset: { message: String(message.id), task: taskName, done: steps.has("acked") ? "acked" : "" },
        title: "Click: highlight the task that handled it",
      },
      h("span", { class: "message-id" }, `#${message.id}`),
      h("span", { class: "message-body" }, message.body === null ? "" : message.body),
      h("span", { class: "flow" }, ...chain),
    );
    if (state.selectedMessage === message.id) li.classList.add("selected");
    list.append(li);
  }
  if (!messages.length) list.append(h("li", { class: "empty muted" }, "no messages yet"));
}

function selectMessage(id) {
  state.selectedMessage = id;
  selectTask(`handle-message-${id}`);
  touch("messages", "ready");
}

function selectTask(name) {
  state.selectedTask = name;
  const task = [...state.tasks.values()].find((t) => t.name === name);
  const demo = demoForLine(task ? demoFrame(task) : null) || (name.startsWith("handle-message-") ? DEMO_BY_NAME.get("consumer_service") : null);
  if (demo) selectDemo(demo.name);
  touch("tasks", "code", "ready");
  requestAnimationFrame(() => {
    const row = document.querySelector(`#task-list li[data-task-name="${CSS.escape(name)}"]`);
    if (row) {
      row.scrollIntoView({ block: "nearest", behavior: "smooth" });
      setControlResult(null);
    } else {
      setControlResult(`task ${name} is not in the list (it finished a while ago, or has not started yet)`, "warn");
    }
  });
}

// --- the log ------------------------------------------------------------------------------------

let logStarted = false;

// Lines are built at once but join the page once per animation frame (one layout, one scroll),
// however many arrive: a flood of callbacks must not make the page fall behind the socket.
let pendingLog = [];

function logLine(category, t, text, { kind = null, task = null, message = null, cls = null } = {}) {
  const li = h(
    "li",
    { class: `log-${category}${cls ? ` ${cls}` : ""}`, dataset: { category } },
    h("span", { class: "log-time" }, t === null || t === undefined ? fmtT(loopNow()) : fmtT(t)),
  );
  if (message !== null) {
    li.append(h("button", { type: "button", class: "linkish log-message", dataset: { message: String(message) } }, text));
  } else {
    li.append(h("span", { class: "log-text" }, text));
  }
  if (kind) li.dataset.kind = kind;
  if (task !== null && task !== undefined) li.dataset.task = String(task);
  pendingLog.push(li);
  if (pendingLog.length > LOG_LIMIT) pendingLog = pendingLog.slice(-LOG_LIMIT);
  touch("log");
  return li;
}

function flushLog() {
  if (!pendingLog.length) return;
  const log = $("log");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 30;
  const fragment = document.createDocumentFragment();
  fragment.append(...pendingLog);
  pendingLog = [];
  log.append(fragment);
  let extra = log.childElementCount - LOG_LIMIT;
  while (extra-- > 0) log.firstElementChild.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function logNote(note) {
  const prefix = note.task && !note.text.startsWith(note.task) ? `[${note.task}] ` : "";
  logLine("note", note.t, `${prefix}${note.text}`);
}

function logException(exc) {
  logLine("exception", exc.t, `${exc.handled ? "handled" : "UNHANDLED"} ${exc.type}: ${exc.message} (${exc.how})`, {
    cls: exc.handled ? "log-handled" : "log-error",
  });
}

// --- talking to the server ----------------------------------------------------------------------

function setControlResult(text, kind = "ok") {
  const box = clear($("control-result"));
  if (text) box.append(h("span", { class: `control-note ${kind}` }, text));
}

async function control(body) {
  try {
    const answer = await api("POST", "/api/loop/control", body);
    if (answer.control) {
      state.gate = { ...state.gate, ...answer.control };
      touch("controls", "running");
    }
    if (body.action === "step") setControlResult(answer.message, answer.ran ? "ok" : "warn");
    else if (body.action === "reset") setControlResult("a fresh loop: every task of the old one was cancelled");
    else setControlResult(null);
    return answer;
  } catch (error) {
    setControlResult(error.hint ? `${error.reason} → ${error.hint}` : error.reason, "error");
    return null;
  }
}

let slowPending = null;

function wireControls() {
  for (const button of document.querySelectorAll(".loop-controls button[data-action]")) {
    button.addEventListener("click", () => control({ action: button.dataset.action }));
  }
  const slider = $("slow");
  slider.addEventListener("input", () => {
    $("slow-value").textContent = Number(slider.value) ? `${Number(slider.value).toFixed(2)} s` : "off";
    clearTimeout(slowPending);
    slowPending = setTimeout(async () => {
      await control({ action: "slow", seconds: Number(slider.value) });
      slowPending = null;
    }, 120);
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.toLowerCase();
    if (key === "s") control({ action: "step" });
    else if (key === "p") control({ action: state.gate.mode === "paused" ? "run" : "pause" });
    else if (key === "r") control({ action: "run" });
    else return;
    event.preventDefault();
  });
}

function wireDemos() {
  const list = $("demo-list");
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-demo]");
    if (!button) return;
    const name = button.dataset.demo;
    const result = list.querySelector(`.demo-result[data-demo="${CSS.escape(name)}"]`);
    if (button.classList.contains("demo-code")) {
      selectDemo(name);
      return;
    }
    clear(result);
    selectDemo(name);
    const path = `/api/loop/demos/${encodeURIComponent(name)}`;
    try {
      if (button.classList.contains("demo-stop")) {
        const answer = await api("DELETE", path);
        if (answer.hint) result.append(h("p", { class: "notice warn" }, answer.hint));
      } else {
        const answer = await api("POST", path, {});
        if (answer.run) {
          state.runs.set(name, answer.run);
          touch("demos");
        }
        if (answer.hint) result.append(h("p", { class: "notice warn" }, answer.hint));
      }
    } catch (error) {
      showError(result, error);
    }
  });
}

function wireSelection() {
  const pick = (event) => {
    const ref = event.target.closest("[data-message]");
    if (ref && (ref.matches("button") || ref.matches("li.message-row"))) {
      selectMessage(Number(ref.dataset.message));
      return;
    }
    const task = event.target.closest("#task-list li.task");
    if (task) selectTask(task.dataset.taskName);
  };
  for (const id of ["message-list", "log", "ready-list", "timer-list", "task-list"]) {
    $(id).addEventListener("click", pick);
    $(id).addEventListener("keydown", (event) => {
      if (event.key === "Enter") pick(event);
    });
  }
}

function wirePublish() {
  const form = $("publish-form");
  const result = $("publish-result");
  const publish = async (body) => {
    const answer = await api("POST", "/api/exchanges/%2F/amq.default/publish", {
      routing_key: QUEUE,
      payload: body,
      payload_encoding: "string",
      properties: {},
    });
    if (!answer.routed) {
      throw {
        reason: `no queue '${QUEUE}' yet: the message was dropped`,
        hint: "start “A consumer service” (it declares the queue), then publish",
      };
    }
    return answer;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(result);
    const button = $("publish-button");
    button.disabled = true;
    try {
      const answer = await publish($("publish-body").value);
      result.append(h("p", { class: "notice ok" }, `published message #${answer.message_id}`));
      const match = /^(.*?)(\d+)$/.exec($("publish-body").value);
      if (match) $("publish-body").value = `${match[1]}${Number(match[2]) + 1}`;
    } catch (error) {
      showError(result, error);
    } finally {
      button.disabled = false;
    }
  });
  $("publish-ten").addEventListener("click", async () => {
    clear(result);
    const button = $("publish-ten");
    button.disabled = true;
    try {
      const base = $("publish-body").value.replace(/\s*\d+$/, "") || "order";
      for (let i = 1; i <= 10; i += 1) await publish(`${base} ${i} of 10`);
      result.append(h("p", { class: "notice ok" }, "published 10 messages"));
    } catch (error) {
      showError(result, error);
    } finally {
      button.disabled = false;
    }
  });
}

function wireLog() {
  const log = $("log");
  for (const box of document.querySelectorAll(".log-filters input[data-filter]")) {
    box.addEventListener("change", () => log.classList.toggle(`hide-${box.dataset.filter}`, !box.checked));
  }
  $("log-clear").addEventListener("click", () => clear(log));
}

// --- the socket -----------------------------------------------------------------------------------

function connect() {
  connectLive({
    path: "/ws/loop",
    openText: "loop live",
    onSnapshot: applySnapshot,
    onBatch: applyBatch,
    onError: (reason) => setControlResult(reason, "error"),
    onState: (live) => {
      document.body.dataset.loopLive = live;
      if (live === "closed") {
        state.gate = { ...state.gate, mode: "connecting" };
        touch("controls");
      }
    },
  });
}

// --- layout: sticky bars below the site header, whatever its height -----------------------------

function trackStickyOffsets() {
  const header = document.querySelector("header.site");
  const controls = document.querySelector(".loop-controls");
  const root = document.documentElement;
  const measure = () => {
    const top = header ? header.getBoundingClientRect().height : 0;
    const sticky = getComputedStyle(controls).position === "sticky";
    const below = sticky ? controls.getBoundingClientRect().height : 0;
    root.style.setProperty("--loop-header", `${Math.round(top)}px`);
    root.style.setProperty("--loop-sticky", `${Math.round(top + below + 12)}px`);
  };
  measure();
  window.addEventListener("resize", measure);
  if ("ResizeObserver" in window) {
    const observer = new ResizeObserver(measure);
    if (header) observer.observe(header);
    observer.observe(controls);
  }
}

// --- start ----------------------------------------------------------------------------------------

trackStickyOffsets();
wireControls();
wireDemos();
wireSelection();
wirePublish();
wireLog();
selectDemo(DEMOS[0]?.name);
setInterval(updateCountdowns, 100);
setInterval(() => touch("lag"), 1000);
document.addEventListener("ql-projector", () => touch("lag"));
touch("all");
connect();
