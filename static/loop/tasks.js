// tasks.js: the event-loop page's tasks (what each awaits, the line it resumes at) and the
// consumer-service queue's messages, each followed from publish to its task and its ack.

import { clear, h } from "../lib/dom.js";
import { lineNode } from "./draw.js";
import { TERMINAL } from "./model.js";

const TASK_LIMIT = 40;
// A message's steps the chain draws in their own places; the others follow in the order
// they happened (acked, or nacked → requeued, dead-lettered …).
const DRAWN_APART = new Set(["published", "enqueued", "delivered"]);

const $ = (id) => document.getElementById(id);

export function renderTasks(model, view, demos) {
  const list = clear($("task-list"));
  const readyTasks = new Set([...model.ready.values()].map((entry) => entry.task));
  const tasks = [...model.tasks.values()];
  const live = tasks.filter((task) => !TERMINAL.has(task.state)).sort((a, b) => a.id - b.id);
  const finished = tasks
    .filter((task) => TERMINAL.has(task.state))
    .sort((a, b) => (b.finished_at ?? 0) - (a.finished_at ?? 0) || b.id - a.id);
  $("task-count").textContent = String(live.length);
  const shown = [...live, ...finished].slice(0, TASK_LIMIT);
  for (const task of shown) list.append(taskItem(model, view, demos, task, readyTasks.has(task.id)));
  if (tasks.length > shown.length) {
    list.append(h("li", { class: "more muted" }, `… ${tasks.length - shown.length} more finished`));
  }
  if (!tasks.length) list.append(h("li", { class: "empty muted" }, "no tasks"));
}

/** What a task is doing: running, waiting (and on what), or how it ended. */
function taskDetail(model, demos, task, running) {
  if (running) {
    return [h("p", { class: "task-await" }, "running a step now"), model.running?.line ? lineNode(model.running.line) : null];
  }
  if (!TERMINAL.has(task.state)) {
    const line = demos.frameOf(task) || task.line;
    const waiting = !task.started
      ? h("p", { class: "task-line muted" }, "not started yet: its first step is queued")
      : task.awaiting
        ? h("p", { class: "task-await" }, h("span", { class: "muted" }, "awaits "), task.awaiting)
        : null;
    return [waiting, line ? lineNode(line) : null];
  }
  if (task.state === "done") return [h("p", { class: "task-result" }, h("span", { class: "muted" }, "result "), h("code", {}, task.result ?? ""))];
  if (task.state === "failed") return [h("p", { class: "task-error" }, task.error || "failed")];
  return [];
}

function taskItem(model, view, demos, task, ready) {
  const running = model.current && model.current.task === task.id;
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
    ...taskDetail(model, demos, task, running),
    h("p", { class: "task-meta muted" }, `${task.steps} step${task.steps === 1 ? "" : "s"}${task.created_by ? ` · created by ${task.created_by}` : ""}`),
  );
  if (view.selectedTask === task.name) li.classList.add("selected");
  return li;
}

function messageChain(model, message, taskName) {
  const task = model.taskByName(taskName);
  const steps = new Set(message.steps);
  const chain = [h("span", { class: "flow-step s-published" }, "published")];
  if (steps.has("delivered")) {
    chain.push(" → ", h("span", { class: "flow-step s-delivered" }, message.redelivered ? "redelivered" : "delivered"));
  }
  const callback = [...model.ready.values()].find((entry) => entry.message === message.id);
  if (callback) chain.push(" → ", h("span", { class: "flow-step s-callback" }, "callback queued"));
  if (task || steps.has("acked")) {
    const taskState = task ? task.state : "done";
    chain.push(" → ", h("span", { class: `flow-step s-task state-${taskState}` }, `task ${taskName}`, task ? ` (${task.state})` : ""));
  }
  for (const step of steps) {
    if (!DRAWN_APART.has(step)) chain.push(" → ", h("span", { class: `flow-step s-${step}` }, step));
  }
  return chain;
}

export function renderMessages(model, view) {
  const depth = model.depth;
  $("queue-depth").textContent = depth
    ? `${depth[0]} ready · ${depth[1]} unacked · ${depth[2]} consumer${depth[2] === 1 ? "" : "s"}`
    : "no queue yet";
  $("queue-depth").classList.toggle("piling", Boolean(depth && depth[0] >= 3));
  const list = clear($("message-list"));
  const messages = [...model.messages.values()].reverse();
  for (const message of messages) {
    const taskName = `handle-message-${message.id}`;
    const li = h(
      "li",
      {
        class: "message-row",
        tabindex: "0",
        dataset: { message: String(message.id), task: taskName, done: message.steps.includes("acked") ? "acked" : "" },
        title: "Click: highlight the task that handled it",
      },
      h("span", { class: "message-id" }, `#${message.id}`),
      h("span", { class: "message-body" }, message.body === null ? "" : message.body),
      h("span", { class: "flow" }, ...messageChain(model, message, taskName)),
    );
    if (view.selectedMessage === message.id) li.classList.add("selected");
    list.append(li);
  }
  if (!messages.length) list.append(h("li", { class: "empty muted" }, "no messages yet"));
}
