// code.js: the demos' code, shown with its lines marked: running now, runs next, where each
// task waits. A task's `line` may be deep in a library (the asyncio client's queue iterator),
// so the marks use the innermost frame in a demo's own file.

import { clear, h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { TERMINAL } from "./model.js";
import { fillNodes } from "./words.js";

const $ = (id) => document.getElementById(id);

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

/** The demos as the page lists them (the template's #demo-data): {name, title, file,
 * first_line, source, explanation}. */
export class Demos {
  constructor(list) {
    this.list = list;
    this.byName = new Map(list.map((demo) => [demo.name, demo]));
    this.files = new Set(list.map((demo) => demo.file));
  }

  /** The innermost frame of a task in a demo's own code, or null. */
  frameOf(task) {
    const stack = task.stack || [];
    for (let i = stack.length - 1; i >= 0; i -= 1) if (this.files.has(stack[i].file)) return stack[i];
    return null;
  }

  /** The demo whose code holds this line, or undefined. */
  forLine(line) {
    if (!line) return undefined;
    return this.list.find((demo) => {
      const count = demo.source.split("\n").length;
      return demo.file === line.file && line.line >= demo.first_line && line.line < demo.first_line + count;
    });
  }
}

/** Show a demo's code (unmarked; renderCodeMarks marks it). */
export function showDemoCode(demo) {
  for (const button of document.querySelectorAll(".demo-code")) {
    button.setAttribute("aria-pressed", button.dataset.demo === demo.name ? "true" : "false");
  }
  for (const item of document.querySelectorAll("#demo-list li.demo")) {
    item.classList.toggle("selected", item.dataset.demo === demo.name);
  }
  showDemoTitle(demo);
  const lines = demo.source.replace(/\n$/, "").split("\n");
  const list = h("ol", { class: "code-lines", start: String(demo.first_line) });
  lines.forEach((text, i) => {
    list.append(
      h("li", { dataset: { line: String(demo.first_line + i) } }, h("code", {}, ...highlightPython(text)), h("span", { class: "line-tags" })),
    );
  });
  clear($("code-view")).append(list);
}

/** The code card's title and file line (again after a switch of language). */
export function showDemoTitle(demo) {
  $("code-title").textContent = t("Code: %(title)s", { title: t(demo.title) });
  $("code-file").textContent = t("%(file)s, from line %(line)s", { file: demo.file, line: demo.first_line });
}

/** line number → {classes, tags}: what runs now, what runs next, where tasks wait (each tag
 * as nodes, the task names set apart). */
function codeMarks(model, view, demos, demo) {
  const marks = new Map();
  const mark = (line, cls, tag) => {
    if (!line || line.file !== demo.file) return;
    const entry = marks.get(line.line) || { classes: new Set(), tags: [] };
    entry.classes.add(cls);
    if (tag) entry.tags.push(tag);
    marks.set(line.line, entry);
  };
  const head = model.ready.values().next().value;
  for (const task of model.tasks.values()) {
    const line = demos.frameOf(task);
    if (TERMINAL.has(task.state) || !line) continue;
    if (model.current && model.current.task === task.id) continue; // marked as running below
    const next = head && head.task === task.id;
    const args = { task: task.name };
    mark(line, next ? "line-next" : "line-waiting", next ? fillNodes(t("%(task)s: runs next"), args) : fillNodes("%(task)s", args));
  }
  if (model.current && model.running?.line) mark(model.running.line, "line-running", [t("running now")]);
  if (view.selectedTask) {
    const task = model.taskByName(view.selectedTask);
    const line = task ? demos.frameOf(task) : null;
    if (line) mark(line, "line-selected", null);
  }
  return marks;
}

export function renderCodeMarks(model, view, demos) {
  const demo = demos.byName.get(view.selectedDemo);
  if (!demo) return;
  const marks = codeMarks(model, view, demos, demo);
  for (const li of $("code-view").querySelectorAll("li[data-line]")) {
    const entry = marks.get(Number(li.dataset.line));
    li.className = entry ? [...entry.classes].join(" ") : "";
    const tags = clear(li.querySelector(".line-tags"));
    if (entry && entry.tags.length) {
      const shown = entry.tags.slice(0, 4);
      const more = entry.tags.length - shown.length;
      tags.append("◀ ", ...shown.flatMap((tag, i) => (i ? [", ", ...tag] : tag)), more > 0 ? ` +${more}` : "");
    }
  }
}
