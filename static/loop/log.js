// log.js: the live log: the model's log records as lines. Lines join the page once per
// animation frame (one layout, one scroll), however many arrive: a flood of callbacks must not
// make the page fall behind the socket. A callback's line gets how long it took once it has run.
// A switch of language says every line again (relabelLog), from its record.

import { h } from "../lib/dom.js";
import { fmtSeconds } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { fillNodes } from "./words.js";
import { BLOCKING } from "./draw.js";
import { LOG_LIMIT } from "./model.js";

const fmtT = (t) => (typeof t === "number" ? t.toFixed(3) : "");
const lines = new WeakMap(); // record → its <li>
const records = new WeakMap(); // <li> → its record

const raised = (record) => [" ", ...fillNodes(t("raised %(error)s"), { error: record.error })];

function appendTook(li, record) {
  const took = h("span", { class: "took" }, ` ${fmtSeconds(record.took)}`);
  if (record.took >= BLOCKING) took.classList.add("slow");
  li.append(took);
  if (record.error) li.append(h("span", { class: "log-error log-raised" }, ...raised(record)));
}

function line(record) {
  const { category, cls, message, kind, task } = record;
  const li = h(
    "li",
    { class: `log-${category}${cls ? ` ${cls}` : ""}`, dataset: { category } },
    h("span", { class: "log-time" }, fmtT(record.t)),
  );
  if (message !== null) {
    li.append(h("button", { type: "button", class: "linkish log-message", dataset: { message: String(message) } }, ...record.say()));
  } else {
    li.append(h("span", { class: "log-text" }, ...record.say()));
  }
  if (kind) li.dataset.kind = kind;
  if (task !== null && task !== undefined) li.dataset.task = String(task);
  if (record.took !== undefined) appendTook(li, record);
  lines.set(record, li);
  records.set(li, record);
  return li;
}

/** Say every line of the log again, in the page's language now. */
export function relabelLog() {
  for (const li of document.getElementById("log").children) {
    const record = records.get(li);
    if (!record) continue;
    li.querySelector(".log-message, .log-text")?.replaceChildren(...record.say());
    li.querySelector(".log-raised")?.replaceChildren(...raised(record));
  }
}

export function flushLog(model) {
  const { added, finished } = model.takeLog();
  if (added.length) {
    const log = document.getElementById("log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 30;
    const fragment = document.createDocumentFragment();
    fragment.append(...added.map(line));
    log.append(fragment);
    let extra = log.childElementCount - LOG_LIMIT;
    while (extra-- > 0) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }
  for (const record of finished) {
    const li = lines.get(record);
    if (li && !li.querySelector(".took")) appendTook(li, record);
  }
}
