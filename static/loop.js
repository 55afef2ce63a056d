// loop.js: the event-loop page. A real asyncio loop in the server, shown one callback at a time.
//
// One websocket (/ws/loop) brings a snapshot of the loop, then ~20 batches a second: the loop's
// events, the ids of the ready queue and timers in order, the gate (running / paused / slow
// motion), the line running now, and what happened to the messages of the consumer-service
// queue. loop/model.js turns them into the page's state; the panes are drawn from it
// (loop/draw.js, tasks.js, lag.js, code.js, log.js) once per animation frame, only those that
// changed. Controls and demos are POSTs to /api/loop/… (loop/controls.js).
//
// <body data-loop-live> is "connecting", "open" (a snapshot is drawn) or "closed"; tests wait for
// body[data-loop-live="open"]. <body data-loop-mode> is the gate's mode, data-loop-steps its count,
// data-loop-generation the loop's number (it changes with "New loop").
//
// Language: every text is said at each draw (t(), loop/words.js: the loop's own texts come as
// English with their messages beside them), so on `ql-language` the page draws everything
// again, says the log's lines and its notices again, and stays the same page (no reload).

import { connectLive } from "./lib/live.js";
import { t } from "./lib/i18n.js";
import "./lib/projector.js";
import { Demos, renderCodeMarks, showDemoCode, showDemoTitle } from "./loop/code.js";
import { setControlResult, wireControls, wireDemos, wireLog, wirePublish } from "./loop/controls.js";
import {
  renderControls,
  renderDemos,
  renderExceptions,
  renderReady,
  renderRunning,
  renderTimers,
  updateCountdowns,
} from "./loop/draw.js";
import { renderLag } from "./loop/lag.js";
import { flushLog, relabelLog } from "./loop/log.js";
import { LoopModel } from "./loop/model.js";
import { renderMessages, renderTasks } from "./loop/tasks.js";
import { sayAgain } from "./loop/words.js";

const $ = (id) => document.getElementById(id);
const demos = new Demos(JSON.parse($("demo-data").textContent));
const QUEUE = $("queue-name").textContent;

let renderQueued = false;
const model = new LoopModel({
  queue: QUEUE,
  onChange: () => {
    if (!renderQueued) {
      renderQueued = true;
      requestAnimationFrame(render);
    }
  },
});
// What the page itself chose (not the loop's state): the demo whose code shows, the selected
// task and message, and a slow-motion change not yet sent.
const view = { selectedDemo: null, selectedTask: null, selectedMessage: null, slowPending: null };

function render() {
  renderQueued = false;
  const panes = new Set(model.dirty);
  model.dirty.clear();
  const all = panes.has("all");
  const is = (pane) => all || panes.has(pane);
  if (is("controls")) renderControls(model, view);
  if (is("running")) renderRunning(model);
  if (is("ready")) renderReady(model, view);
  if (is("timers")) renderTimers(model, view);
  if (is("tasks")) renderTasks(model, view, demos);
  if (is("exceptions")) renderExceptions(model);
  if (is("lag")) renderLag(model);
  if (is("demos")) renderDemos(model);
  if (is("messages")) renderMessages(model, view);
  if (is("code") || is("tasks") || is("ready")) renderCodeMarks(model, view, demos);
  if (is("log")) flushLog(model);
}

// --- selection: a demo's code, a task, a message ----------------------------------------------

function selectDemo(name) {
  const demo = demos.byName.get(name);
  if (!demo || view.selectedDemo === name) return;
  view.selectedDemo = name;
  showDemoCode(demo);
  model.touch("code");
}

function selectTask(name) {
  view.selectedTask = name;
  const task = model.taskByName(name);
  const demo = demos.forLine(task ? demos.frameOf(task) : null) || (name.startsWith("handle-message-") ? demos.byName.get("consumer_service") : null);
  if (demo) selectDemo(demo.name);
  model.touch("tasks", "code", "ready");
  requestAnimationFrame(() => {
    const row = document.querySelector(`#task-list li[data-task-name="${CSS.escape(name)}"]`);
    if (row) {
      row.scrollIntoView({ block: "nearest", behavior: "smooth" });
      setControlResult(null);
    } else {
      setControlResult(() => t("task %(task)s is not in the list (it finished a while ago, or has not started yet)", { task: name }), "warn");
    }
  });
}

function selectMessage(id) {
  view.selectedMessage = id;
  selectTask(`handle-message-${id}`);
  model.touch("messages", "ready");
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

// --- layout: sticky bars below the site header, whatever its height ---------------------------

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

// --- language: a switch in place --------------------------------------------------------------

const LIVE_TEXT = () => t("loop live");

function wireLanguage() {
  document.addEventListener("ql-language", () => {
    const demo = demos.byName.get(view.selectedDemo);
    if (demo) showDemoTitle(demo);
    relabelLog();
    sayAgain();
    // The header's status, which live.js wrote when the socket opened.
    const status = document.getElementById("live-status");
    if (status && document.body.dataset.loopLive === "open") status.textContent = LIVE_TEXT();
    model.touch("all");
  });
}

// --- start --------------------------------------------------------------------------------------

trackStickyOffsets();
wireControls(model, view);
wireDemos(model, selectDemo);
wireSelection();
wirePublish(QUEUE);
wireLog();
wireLanguage();
selectDemo(demos.list[0]?.name);
setInterval(() => updateCountdowns(model), 100);
setInterval(() => model.touch("lag"), 1000);
document.addEventListener("ql-projector", () => model.touch("lag"));
model.touch("all");
connectLive({
  path: "/ws/loop",
  // Read when the socket opens (live.js sets it as text): in the language of that moment.
  openText: { toString: LIVE_TEXT },
  onSnapshot: (frame) => {
    model.applySnapshot(frame);
    document.body.dataset.loopGeneration = String(frame.generation);
  },
  onBatch: (frame) => model.applyBatch(frame),
  onError: (reason) => setControlResult(reason, "error"),
  onState: (live) => {
    document.body.dataset.loopLive = live;
    if (live === "closed") model.disconnected();
  },
});
