// lessons.js: the Lessons page. A lesson's text, steps and exercises beside the live picture.
//
// The lesson comes from /api/lessons/<id> in the page's language; starting (or resetting) it sets
// up its scenario in the broker. Each exercise is checked by the server: a build exercise is
// re-checked on every change of the topology (the live socket says when), so "solved" shows the
// moment it holds; predict, code and fix exercises are checked when the learner asks. The URL is
// a permalink: /lessons/<id>?step=N.

import { api } from "./lib/api.js";
import { clear, h, showError } from "./lib/dom.js";
import { t } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import { isTopology } from "./lib/vocabulary.js";

const layout = document.querySelector(".lessons-layout");
const pane = document.getElementById("lesson-pane");
const picture = document.getElementById("live-picture");
const enc = encodeURIComponent;

let lesson = null;
let progress = {};
let step = Math.max(1, Number(new URLSearchParams(location.search).get("step")) || 1);
let autoCheck = null;

function kindLabel(kind) {
  // Literal calls, so that the catalogs' extraction finds each label.
  const labels = { build: t("Build"), predict: t("Predict"), code: t("Code"), fix: t("Fix") };
  return labels[kind] || kind;
}

async function load() {
  const id = layout.dataset.current;
  progress = (await api("GET", "/api/lessons/progress")) || {};
  drawProgress();
  if (!id) return;
  lesson = await api("GET", `/api/lessons/${enc(id)}`);
  step = Math.min(step, Math.max(1, lesson.steps.length));
  draw();
}

function drawProgress() {
  for (const item of document.querySelectorAll("#lesson-list li[data-lesson]")) {
    const solved = Object.values(progress[item.dataset.lesson] || {}).filter((e) => e.solved).length;
    const total = Number(item.querySelector(".lesson-progress").dataset.exercises);
    item.querySelector(".lesson-progress").textContent = t("%(solved)s of %(total)s solved", { solved, total });
    item.dataset.done = total > 0 && solved === total ? "true" : "false";
  }
}

function draw() {
  clear(pane).append(
    h("h2", { text: lesson.title }),
    h("p", { class: "lede", text: lesson.summary }),
    h("p", {}, startButton()),
    drawSteps(),
    h("h3", { text: t("Exercises") }),
    ...lesson.exercises.map(drawExercise),
  );
  enhanceLesson();
}

function startButton() {
  const result = h("span", { class: "start-result", role: "status" });
  const button = h("button", {
    type: "button",
    id: "lesson-start",
    text: t("Start (or reset) this lesson"),
    on: {
      click: async () => {
        try {
          await api("POST", `/api/lessons/${enc(lesson.id)}/start`);
          result.textContent = t("The lesson's scenario is set up. Watch the live picture.");
          picture.contentWindow?.location.reload();
        } catch (error) {
          showError(result, error);
        }
      },
    },
  });
  return h("span", {}, button, " ", result);
}

function drawSteps() {
  const total = lesson.steps.length;
  if (!total) return h("div");
  const text = h("div", { class: "lesson-step", id: "lesson-step", text: lesson.steps[step - 1] });
  const counter = h("span", { id: "step-counter", text: t("Step %(step)s of %(total)s", { step, total }) });
  const go = (to) => {
    step = to;
    history.replaceState(null, "", `/lessons/${enc(lesson.id)}?step=${step}`);
    draw();
  };
  return h(
    "section",
    { class: "steps" },
    text,
    h(
      "p",
      {},
      h("button", { type: "button", id: "step-back", disabled: step <= 1, text: t("Back"), on: { click: () => go(step - 1) } }),
      " ",
      counter,
      " ",
      h("button", { type: "button", id: "step-next", disabled: step >= total, text: t("Next"), on: { click: () => go(step + 1) } }),
    ),
  );
}

function drawExercise(exercise) {
  const solved = progress[lesson.id]?.[exercise.id]?.solved === true;
  const verdict = h("p", { class: "verdict", role: "status" });
  const hint = h("p", { class: "hint" });
  const choices = exercise.choices.map((name) =>
    h("label", { class: "choice" }, h("input", { type: "checkbox", value: name }), " ", name),
  );
  const card = h(
    "article",
    { class: "exercise", dataset: { exercise: exercise.id, kind: exercise.kind, solved: String(solved) } },
    h("span", { class: "kind", text: kindLabel(exercise.kind) }),
    h("h4", { text: exercise.title }),
    h("p", { class: "task", text: exercise.task }),
    choices.length ? h("fieldset", { class: "choices" }, h("legend", { text: t("Your prediction") }), ...choices) : null,
    h("button", { type: "button", class: "check", text: t("Check"), on: { click: () => check(exercise, card, false) } }),
    verdict,
    hint,
    h("details", { class: "solution" }, h("summary", { text: t("Show the solution") }), h("p", { class: "lesson-step", text: exercise.solution })),
  );
  if (solved) verdict.textContent = t("Solved.");
  return card;
}

async function check(exercise, card, auto) {
  const answer = [...card.querySelectorAll(".choices input:checked")].map((box) => box.value);
  const verdict = card.querySelector(".verdict");
  try {
    const body = exercise.kind === "predict" || exercise.choices.length ? { answer, auto } : { auto };
    const result = await api("POST", `/api/lessons/${enc(lesson.id)}/exercises/${enc(exercise.id)}/check`, body);
    if (auto && !result.solved) return; // a quiet re-check says nothing until it holds
    card.dataset.solved = String(result.solved || card.dataset.solved === "true");
    verdict.className = result.solved ? "verdict solved" : "verdict";
    verdict.textContent = result.solved ? `${t("Solved.")} ${result.why}` : result.why;
    if (result.hint) card.querySelector(".hint").textContent = result.hint;
    if (result.solved) {
      progress[lesson.id] = { ...(progress[lesson.id] || {}), [exercise.id]: { solved: true } };
      drawProgress();
    }
  } catch (error) {
    showError(verdict, error);
  }
}

// --- code in the text, one line to choose, an order to arrange ------------------------------------
// A lesson's text may hold code between ``` fences: it shows as code, its indentation kept. An
// exercise's `pick` says how its choices are answered: "some" (checkboxes, as drawn), "one"
// (radio buttons: one line of code, one number) or "order" (every label once, arranged with the
// arrow buttons; the answer is the labels in that order, read by check() in document order).

const FENCE = /```[a-z]*\n([\s\S]*?)\n?```/g;
const CODE_STYLE = "overflow-x: auto; padding: 0.5rem; background: var(--surface-2); border-radius: 6px";

function enhanceLesson() {
  for (const element of pane.querySelectorAll(".lesson-step, .task")) {
    if (element.textContent.includes("```")) element.replaceWith(withCode(element));
  }
  for (const exercise of lesson.exercises) {
    const card = pane.querySelector(`article[data-exercise="${CSS.escape(exercise.id)}"]`);
    const boxes = card?.querySelector(".choices");
    if (!boxes) continue;
    if (exercise.pick === "order") boxes.replaceWith(orderChoices(exercise));
    else if (exercise.pick === "one") boxes.replaceWith(oneChoice(exercise));
  }
}

/** The element's text again, its fenced parts as <pre><code> (text only, never markup). */
function withCode(element) {
  const text = element.textContent;
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(FENCE)) {
    parts.push(text.slice(last, match.index).trim());
    parts.push(h("pre", { class: "lesson-code", style: CODE_STYLE }, h("code", { text: match[1] })));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last).trim());
  const shown = parts.filter((part) => part !== "").map((part) => (typeof part === "string" ? h("p", { text: part }) : part));
  return h("div", { class: element.className, id: element.id || undefined }, ...shown);
}

function oneChoice(exercise) {
  const legend = exercise.kind === "predict" ? t("Your prediction") : t("Your choice");
  const name = `pick-${exercise.id}`;
  const options = exercise.choices.map((label) =>
    // The page's style widens every input but a checkbox: a radio keeps its own size here.
    h("label", { class: "choice", style: "display: flex; gap: 0.5rem; align-items: baseline" }, h("input", { type: "radio", name, value: label, style: "width: auto" }), h("code", { text: label })),
  );
  return h("fieldset", { class: "choices one" }, h("legend", { text: legend }), ...options);
}

function orderChoices(exercise) {
  const list = h("ol", { class: "ordering" });
  const move = (item, by) => {
    const other = by < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (!other) return;
    if (by < 0) other.before(item);
    else other.after(item);
    item.querySelector(by < 0 ? ".move-up" : ".move-down").focus();
  };
  for (const label of exercise.choices) {
    const item = h("li", { class: "choice", dataset: { label } });
    item.append(
      h("input", { type: "checkbox", value: label, checked: true, hidden: true }),
      h("code", { text: label }),
      " ",
      h("button", { type: "button", class: "move-up", "aria-label": t("Move '%(label)s' up", { label }), text: "↑", on: { click: () => move(item, -1) } }),
      h("button", { type: "button", class: "move-down", "aria-label": t("Move '%(label)s' down", { label }), text: "↓", on: { click: () => move(item, 1) } }),
    );
    list.append(item);
  }
  const legend = t("Your prediction, in order: the first at the top");
  return h("fieldset", { class: "choices ordering" }, h("legend", { text: legend }), list);
}

function recheckBuilds() {
  clearTimeout(autoCheck);
  autoCheck = setTimeout(() => {
    for (const exercise of lesson?.exercises || []) {
      const card = pane.querySelector(`article[data-exercise="${CSS.escape(exercise.id)}"]`);
      if (exercise.kind === "build" && card && card.dataset.solved !== "true") check(exercise, card, true);
    }
  }, 300);
}

connectLive({
  onSnapshot: () => recheckBuilds(),
  onBatch: (frame) => {
    if ((frame.events || []).some((event) => isTopology(event.type))) recheckBuilds();
  },
});
document.addEventListener("ql-language", () => load().catch((error) => showError(pane, error)));
load().catch((error) => showError(pane, error));
