// tasks.js: the event-loop page's tasks (what each awaits, the line it resumes at) and the
// consumer-service queue's messages, each followed from publish to its task and its ack.

import { clear, h } from "../lib/dom.js";
import { t, tn } from "../lib/i18n.js";
import { lineNode } from "./draw.js";
import { TERMINAL } from "./model.js";
import { field, sayNodes, fillNodes } from "./words.js";

// A task's state as the page says it (the state itself stays in data-state and the classes).
const STATE_TEXT = {
  pending: () => t("pending"),
  running: () => t("running"),
  done: () => t("done"),
  cancelled: () => t("cancelled"),
  failed: () => t("failed"),
};
const stateText = (state) => STATE_TEXT[state]?.() ?? state;

// A message's steps at the broker, as the chain says them.
const STEP_TEXT = {
  published: () => t("published"),
  delivered: () => t("delivered"),
  redelivered: () => t("redelivered"),
  acked: () => t("acked"),
  nacked: () => t("nacked"),
  rejected: () => t("rejected"),
  requeued: () => t("requeued"),
  dropped: () => t("dropped"),
  "dead-lettered": () => t("dead-lettered"),
  expired: () => t("expired"),
};
const stepText = (step) => STEP_TEXT[step]?.() ?? step;

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
    list.append(h("li", { class: "more muted" }, t("… %(n)s more finished", { n: tasks.length - shown.length })));
  }
  if (!tasks.length) list.append(h("li", { class: "empty muted" }, t("no tasks")));
}

/** What a task is doing: running, waiting (and on what), or how it ended. */
function taskDetail(model, demos, task, running) {
  if (running) {
    return [h("p", { class: "task-await" }, t("running a step now")), model.running?.line ? lineNode(model.running.line) : null];
  }
  if (!TERMINAL.has(task.state)) {
    const line = demos.frameOf(task) || task.line;
    const waiting = !task.started
      ? h("p", { class: "task-line muted" }, t("not started yet: its first step is queued"))
      : task.awaiting
        ? h("p", { class: "task-await" }, ...fillNodes(t("awaits %(what)s"), { what: field(task, "awaiting") }))
        : null;
    return [waiting, line ? lineNode(line) : null];
  }
  if (task.state === "done") {
    const result = h("code", {}, task.result ?? "");
    return [h("p", { class: "task-result" }, ...fillNodes(t("result %(value)s"), { value: result }))];
  }
  // Python's own words for the exception: code, as the exceptions pane shows them.
  if (task.state === "failed") return [h("p", { class: "task-error" }, task.error ? h("code", {}, task.error) : t("failed"))];
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
      title: t("Click to show this task's line in the code"),
    },
    h(
      "div",
      { class: "task-head" },
      h("span", { class: "task-name" }, task.name),
      h("span", { class: `state-chip s-${shownState}` }, stateText(shownState)),
      ready && !running ? h("span", { class: "ready-tag" }, t("in ready queue")) : null,
    ),
    ...taskDetail(model, demos, task, running),
    h("p", { class: "task-meta muted" }, ...taskMeta(task)),
  );
  if (view.selectedTask === task.name) li.classList.add("selected");
  return li;
}

/** "3 steps · created by task main". */
function taskMeta(task) {
  const steps = tn("%(n)s step", "%(n)s steps", task.steps, { n: task.steps });
  if (!task.created_by) return [steps];
  return [steps, " · ", ...fillNodes(t("created by %(who)s"), { who: field(task, "created_by") })];
}

function messageChain(model, message, taskName) {
  const task = model.taskByName(taskName);
  const steps = new Set(message.steps);
  const chain = [h("span", { class: "flow-step s-published" }, stepText("published"))];
  if (steps.has("delivered")) {
    chain.push(" → ", h("span", { class: "flow-step s-delivered" }, stepText(message.redelivered ? "redelivered" : "delivered")));
  }
  const callback = [...model.ready.values()].find((entry) => entry.message === message.id);
  if (callback) chain.push(" → ", h("span", { class: "flow-step s-callback" }, t("callback queued")));
  if (task || steps.has("acked")) {
    const taskState = task ? task.state : "done";
    const text = task
      ? fillNodes(t("task %(task)s (%(state)s)"), { task: taskName, state: { plain: stateText(task.state) } })
      : fillNodes(t("task %(task)s"), { task: taskName });
    chain.push(" → ", h("span", { class: `flow-step s-task state-${taskState}` }, ...text));
  }
  for (const step of steps) {
    if (!DRAWN_APART.has(step)) chain.push(" → ", h("span", { class: `flow-step s-${step}` }, stepText(step)));
  }
  return chain;
}

export function renderMessages(model, view) {
  const depth = model.depth;
  $("queue-depth").textContent = depth
    ? tn("%(ready)s ready · %(unacked)s unacked · %(n)s consumer", "%(ready)s ready · %(unacked)s unacked · %(n)s consumers", depth[2], {
        ready: depth[0],
        unacked: depth[1],
      })
    : t("no queue yet");
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
        title: t("Click: highlight the task that handled it"),
      },
      h("span", { class: "message-id" }, `#${message.id}`),
      h("span", { class: "message-body" }, message.body === null ? "" : message.body),
      h("span", { class: "flow" }, ...messageChain(model, message, taskName)),
    );
    if (view.selectedMessage === message.id) li.classList.add("selected");
    list.append(li);
  }
  if (!messages.length) list.append(h("li", { class: "empty muted" }, t("no messages yet")));
}
