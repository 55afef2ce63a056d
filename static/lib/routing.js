// routing.js: why a message went where it went. The live socket sends `routed` / `unroutable`
// events without their routing trace (it can be long); the message's history has it. A trace's
// reasons are the broker's, said in the page's language from their messages (phrases.js); the
// ones said here are the page's own.

import { api, paths } from "./api.js";
import { t } from "./i18n.js";
import { said } from "./phrases.js";

/** Why no binding matched: one line per binding that was checked (or why nothing was). */
export function unroutableReasons(event) {
  if (!Array.isArray(event.trace)) {
    // The live socket leaves traces out; traceLoader() below fetches them when needed.
    return [t("no binding matched")];
  }
  const trace = event.trace;
  const misses = trace.filter((entry) => !entry.matched && entry.reason).map((entry) => said(entry, "reason"));
  if (misses.length) return misses;
  if (!trace.length) {
    return [
      event.exchange === ""
        ? t("the default exchange found no queue called `%(key)s`", { key: event.routing_key })
        : t("the exchange '%(exchange)s' has no bindings", { exchange: event.exchange }),
    ];
  }
  return [t("no binding matched")];
}

export function unroutableReason(event) {
  return unroutableReasons(event).join("; ");
}

/**
 * `traceLoader()` returns `withTrace(event, wanted)`, which resolves to the event with its
 * `trace` filled in when it could be fetched. It fetches at most `perSecond` histories a
 * second, newest first, keeps at most `backlog` waiting (the oldest are given up: they resolve
 * to the event unchanged), and skips those no longer `wanted()` (e.g. scrolled off the page).
 * `withTrace.now(event)` fetches at once (a click on "why?").
 */
export function traceLoader({ perSecond = 2, backlog = 4 } = {}) {
  const waiting = [];
  let timer = null;
  const pump = () => {
    timer = null;
    let job = waiting.pop();
    while (job && !job.wanted()) {
      job.resolve(job.event);
      job = waiting.pop();
    }
    if (!job) return;
    fetchTrace(job.event).then(job.resolve);
    timer = setTimeout(pump, 1000 / perSecond);
  };
  function withTrace(event, wanted = () => true) {
    if (Array.isArray(event.trace) || event.message_id === undefined || event.message_id === null) {
      return Promise.resolve(event);
    }
    return new Promise((resolve) => {
      waiting.push({ event, resolve, wanted });
      while (waiting.length > backlog) {
        const dropped = waiting.shift();
        dropped.resolve(dropped.event);
      }
      if (!timer) timer = setTimeout(pump, 0);
    });
  }
  withTrace.now = (event) => (Array.isArray(event.trace) ? Promise.resolve(event) : fetchTrace(event));
  return withTrace;
}

async function fetchTrace(event) {
  try {
    const history = await api("GET", paths.history(event.message_id));
    const steps = Array.isArray(history) ? history : history?.events || [];
    const same =
      steps.find((e) => e.seq === event.seq) ||
      steps.find((e) => e.type === event.type && e.exchange === event.exchange && Array.isArray(e.trace));
    return same && Array.isArray(same.trace) ? { ...event, trace: same.trace } : event;
  } catch {
    return event; // gone from the broker's history: show what we have
  }
}
