// ui.js: small helpers every page module shares.
//
// Everything shown here may be user data (names, routing keys, bodies, headers), so DOM is built
// with createElement + textContent + setAttribute only; never innerHTML. URLs are built with
// encodeURIComponent. The JSON API's errors ({error, reason, hint}) are shown, not swallowed.

const SVG_NS = "http://www.w3.org/2000/svg";

// --- building DOM --------------------------------------------------------------------------

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") element.textContent = String(value);
    else if (name === "class") element.setAttribute("class", value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "on") {
      for (const [type, handler] of Object.entries(value)) element.addEventListener(type, handler);
    } else if (/^on/i.test(name)) throw new Error(`refusing event-handler attribute ${name}`);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h("td", {class: "num"}, "42"). Strings become text nodes, never markup. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same rules as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

// --- URLs ----------------------------------------------------------------------------------

const enc = encodeURIComponent;
export const exchangeSlug = (name) => (name === "" ? "amq.default" : name);
export const exchangeLabel = (name) => (name === "" ? "(AMQP default)" : name);

export const paths = {
  exchanges: (vhost) => `/api/exchanges/${enc(vhost)}`,
  exchange: (vhost, name) => `/api/exchanges/${enc(vhost)}/${enc(exchangeSlug(name))}`,
  publish: (vhost, name) => `/api/exchanges/${enc(vhost)}/${enc(exchangeSlug(name))}/publish`,
  queue: (vhost, name) => `/api/queues/${enc(vhost)}/${enc(name)}`,
  contents: (vhost, name) => `/api/queues/${enc(vhost)}/${enc(name)}/contents`,
  get: (vhost, name) => `/api/queues/${enc(vhost)}/${enc(name)}/get`,
  bind: (vhost, source, kind, destination) =>
    `/api/bindings/${enc(vhost)}/e/${enc(source)}/${kind === "exchange" ? "e" : "q"}/${enc(destination)}`,
  unbind: (vhost, source, kind, destination, props) =>
    `${paths.bind(vhost, source, kind, destination)}/${enc(props || "~")}`,
  history: (id) => `/api/messages/${enc(id)}/history`,
  simulations: () => "/api/simulations",
  simulation: (id) => `/api/simulations/${enc(id)}`,
};

export const pages = {
  queue: (vhost, name) => `/queues/${enc(vhost)}/${enc(name)}`,
  exchange: (vhost, name) => `/exchanges/${enc(vhost)}/${enc(exchangeSlug(name))}`,
};

// --- the JSON API --------------------------------------------------------------------------

export class ApiError extends Error {
  constructor({ status = 0, error = "", reason = "", hint = "" }) {
    super(reason || error || `HTTP ${status}`);
    this.status = status;
    this.error = error;
    this.reason = reason || error || `HTTP ${status}`;
    this.hint = hint;
  }
}

/** Call the management API; resolves to the parsed JSON (or null), rejects with ApiError. */
export async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError({
      reason: "Could not reach QueueLab",
      hint: "Is the server still running? The page reconnects by itself when it is back.",
    });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (data && typeof data === "object" && !Array.isArray(data)) {
      throw new ApiError({ status: response.status, ...data });
    }
    throw new ApiError({
      status: response.status,
      reason: `HTTP ${response.status} ${response.statusText}`.trim(),
      hint: `The API did not understand ${method} ${path}.`,
    });
  }
  return data;
}

// --- showing results -----------------------------------------------------------------------

/** A success line in a form's result area. */
export function showOk(target, ...content) {
  clear(target).append(h("div", { class: "notice ok" }, ...content));
}

/** An error as a lesson: RabbitMQ's reason text, then what to do about it. */
export function showError(target, error) {
  const reason = error?.reason || String(error);
  clear(target).append(
    h(
      "div",
      { class: "notice error", role: "alert" },
      h("p", { class: "reason" }, h("code", {}, reason)),
      error?.hint ? h("p", { class: "hint" }, error.hint) : null,
    ),
  );
}

// --- forms ---------------------------------------------------------------------------------

/** Wire a form: prevent the page load, run `action(form)`, disable the button while busy. */
export function onSubmit(form, resultArea, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      await action(form);
    } catch (error) {
      showError(resultArea, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

export const field = (form, name) => form.elements.namedItem(name);
export const value = (form, name) => field(form, name)?.value ?? "";
export const checked = (form, name) => Boolean(field(form, name)?.checked);

/** A number input's value, or undefined when empty; ApiError-style error when not a number. */
export function numberValue(form, name, label = name) {
  const raw = value(form, name).trim();
  if (raw === "") return undefined;
  const number = Number(raw);
  if (!Number.isFinite(number)) {
    throw new ApiError({ reason: `${label}: '${raw}' is not a number`, hint: "Use digits only." });
  }
  return number;
}

/** Key/value rows (headers, arguments) as an object with typed values. */
export function readKV(fieldset) {
  const out = {};
  if (!fieldset) return out;
  for (const row of fieldset.querySelectorAll(".kv-rows .kv-row")) {
    const key = row.querySelector(".kv-key").value.trim();
    const raw = row.querySelector(".kv-value").value;
    const type = row.querySelector(".kv-type")?.value || "string";
    if (!key) continue;
    if (type === "number") {
      const number = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(number)) {
        throw new ApiError({ reason: `${key}: '${raw}' is not a number`, hint: "Pick the type string for text." });
      }
      out[key] = number;
    } else if (type === "boolean") {
      out[key] = ["true", "1", "yes", "on"].includes(raw.trim().toLowerCase());
    } else {
      out[key] = raw;
    }
  }
  return out;
}

export function addKVRow(fieldset, key = "", val = "", type = "string") {
  const template = fieldset.querySelector("template.kv-template");
  const row = template.content.firstElementChild.cloneNode(true);
  row.querySelector(".kv-key").value = key;
  row.querySelector(".kv-value").value = val;
  const select = row.querySelector(".kv-type");
  if (select) select.value = type;
  fieldset.querySelector(".kv-rows").append(row);
  return row;
}

document.addEventListener("click", (event) => {
  const add = event.target.closest(".kv-add");
  if (add) {
    addKVRow(add.closest("fieldset.kv")).querySelector(".kv-key").focus();
    return;
  }
  const remove = event.target.closest(".kv-remove");
  if (remove) remove.closest(".kv-row").remove();
});

/** A destructive button asks twice, in place (no native dialog): "Delete" → "Really delete?".
 * While it waits for the second click, htmx does not swap the fragment that holds it. */
export function confirmThen(button, action) {
  if (button.dataset.confirming === "yes") {
    delete button.dataset.confirming;
    button.textContent = button.dataset.label;
    refreshIfHeld();
    return action();
  }
  button.dataset.label = button.textContent;
  button.dataset.confirming = "yes";
  button.textContent = `Really ${button.textContent.toLowerCase()}?`;
  setTimeout(() => {
    if (button.dataset.confirming === "yes") {
      delete button.dataset.confirming;
      button.textContent = button.dataset.label;
      refreshIfHeld();
    }
  }, 4000);
  return undefined;
}

// A page whose queue or exchange was deleted sets <body data-gone>: its fragments would 404.
document.addEventListener("htmx:confirm", (event) => {
  if (document.body.dataset.gone === "yes") event.preventDefault();
});

let heldSwap = false;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail?.target;
  if (target?.querySelector?.('[data-confirming="yes"]')) {
    event.detail.shouldSwap = false;
    heldSwap = true;
  }
});
function refreshIfHeld() {
  if (!heldSwap) return;
  heldSwap = false;
  document.body.dispatchEvent(new CustomEvent("ql-refresh"));
}

// --- keeping server-drawn fragments fresh --------------------------------------------------

/** Ask htmx to reload every `hx-trigger="ql-refresh from:body"` fragment: at once, then at
 * most every `ms`, and always once more after the last request, so the end state shows. */
export function refresher(ms = 400) {
  let timer = null;
  let pending = false;
  const fire = () => {
    if (document.querySelector('[data-confirming="yes"]')) {
      // Someone is halfway through "Delete" → "Really delete?": keep that button.
      pending = true;
      return;
    }
    document.body.dispatchEvent(new CustomEvent("ql-refresh"));
  };
  const cool = () => {
    timer = null;
    if (pending) {
      pending = false;
      fire();
      timer = setTimeout(cool, ms);
    }
  };
  return function refresh() {
    if (timer) {
      pending = true;
      return;
    }
    fire();
    timer = setTimeout(cool, ms);
  };
}

// --- simulations -----------------------------------------------------------------------------

const RUNNING = new Set(["starting", "running"]);

/** The simulations one page shows (its exchange's producers, its queue's consumers), kept in
 * step with the live frames, each with a Stop button. `mine(sim)` picks the page's own;
 * `resultBox` shows a failed stop; `onStopped(sim)` and `onRender(shown)` are the page's. */
export function simulationList({ list, mine, resultBox, onStopped, onRender }) {
  let all = [];
  const render = () => {
    const shown = all.filter(mine);
    list.replaceChildren(...shown.map((sim) => simulationItem(sim, stop)));
    onRender?.(shown);
  };
  async function stop(sim, button) {
    button.disabled = true;
    try {
      await api("DELETE", paths.simulation(sim.id));
      all = all.filter((other) => other.id !== sim.id);
      render();
      onStopped?.(sim);
    } catch (error) {
      button.disabled = false;
      showError(resultBox, error);
    }
  }
  return {
    /** A simulation this page just started (the next live frame will list it too). */
    add(sim) {
      if (sim?.id !== undefined && !all.some((other) => other.id === sim.id)) all.push(sim);
      render();
    },
    /** Every running simulation, as a snapshot or batch frame lists them. */
    set(simulations) {
      if (!Array.isArray(simulations)) return;
      all = simulations;
      render();
    },
  };
}

/** One simulation as a list item: what it does, its counters, its state, and a Stop button. */
export function simulationItem(sim, onStop) {
  const o = sim.options || {};
  const what =
    sim.kind === "consumer"
      ? [
          o.ack_mode === "auto" ? "auto ack" : "manual ack",
          `prefetch ${o.prefetch || "∞"}`,
          o.priority ? `priority ${o.priority}` : null,
          `${o.processing_ms ?? 0} ms each`,
          o.failure_rate ? `fails ${Math.round(o.failure_rate * 100)}% → ${o.on_failure}` : "never fails",
        ]
      : [`${o.count ?? "∞"} messages at ${o.rate ?? "?"}/s`, `key ${o.routing_key === "" ? '""' : o.routing_key}`];
  const counters = Object.entries(sim.counters || {})
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${fmtNumber(n)}`);
  const running = RUNNING.has(sim.state);
  const button = h("button", { type: "button", class: "small danger-ghost" }, running ? "Stop" : "Dismiss");
  button.addEventListener("click", () => onStop(sim, button));
  return h(
    "li",
    { class: `sim sim-${sim.state}`, "data-simulation": String(sim.id) },
    h("span", { class: `badge sim-state state-${sim.state}` }, sim.state),
    h("strong", {}, sim.name || `simulation ${sim.id}`),
    h("span", {}, what.filter(Boolean).join(" · ")),
    counters.length ? h("span", { class: "muted sim-counters" }, counters.join(" · ")) : null,
    sim.error ? h("span", { class: "reason" }, sim.error) : null,
    button,
  );
}

// --- formatting ----------------------------------------------------------------------------

export function fmtTime(seconds) {
  const date = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function fmtNumber(n) {
  if (n === undefined || n === null) return "–";
  return Number(n).toLocaleString("en");
}

export function fmtRate(n) {
  if (!n) return "0/s";
  return n >= 100 ? `${Math.round(n)}/s` : `${Math.round(n * 10) / 10}/s`;
}

/** A message body for display: text (or base64, marked) cut at `limit` characters. */
export function payloadNode(payload, encoding, limit = 600) {
  const text = String(payload ?? "");
  const pre = h("pre", { class: "payload" });
  if (encoding === "base64") pre.append(h("span", { class: "badge" }, "base64"), " ");
  if (text.length > limit) {
    pre.append(text.slice(0, limit), h("span", { class: "muted" }, ` … (${text.length} characters in all)`));
  } else {
    pre.append(text === "" ? h("span", { class: "muted" }, "(empty body)") : text);
  }
  return pre;
}

export function shorten(text, max = 24) {
  const value = String(text ?? "");
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

export function jsonText(value) {
  try {
    return typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Why no binding matched: one line per binding that was checked (or why nothing was). */
export function unroutableReasons(event) {
  if (!Array.isArray(event.trace)) {
    // The live socket leaves traces out; withTrace() below fetches them when needed.
    return ["no binding matched"];
  }
  const trace = event.trace;
  const misses = trace.filter((entry) => !entry.matched && entry.reason).map((entry) => entry.reason);
  if (misses.length) return misses;
  if (!trace.length) {
    return [
      event.exchange === ""
        ? `no queue named \`${event.routing_key}\``
        : `exchange '${event.exchange}' has no bindings`,
    ];
  }
  return ["no binding matched"];
}

export function unroutableReason(event) {
  return unroutableReasons(event).join("; ");
}

/**
 * The live socket sends `routed` / `unroutable` events without their routing trace (it can be
 * long); the message's history has it. `traceLoader()` returns `withTrace(event, wanted)`, which
 * resolves to the event with its `trace` filled in when it could be fetched. It fetches at most
 * `perSecond` histories a second, newest first, keeps at most `backlog` waiting (the oldest are
 * given up: they resolve to the event unchanged), and skips those no longer `wanted()` (e.g.
 * scrolled off the page). `withTrace.now(event)` fetches at once (a click on "why?").
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

// Which names an event mentions (for the event log's entity filter): queues, exchanges,
// connections, consumer tags and routing keys.
export function eventNames(event) {
  return [
    event.name,
    event.queue,
    event.exchange,
    event.source,
    event.destination,
    event.connection,
    event.consumer_tag,
    event.routing_key,
    ...(Array.isArray(event.queues) ? event.queues : []),
  ].filter((name) => typeof name === "string");
}

export function describeEvent(e) {
  const key = (k) => `"${k ?? ""}"`;
  switch (e.type) {
    case "exchange.declared":
      return `${e.exchange_type} exchange${e.durable ? ", durable" : ""}${e.auto_delete ? ", auto-delete" : ""}${e.internal ? ", internal" : ""}`;
    case "queue.declared": {
      const args = Object.entries(e.arguments || {}).map(([k, v]) => `${k}=${jsonText(v)}`);
      return `queue${e.durable ? ", durable" : ""}${e.exclusive ? ", exclusive" : ""}${e.auto_delete ? ", auto-delete" : ""}${args.length ? `; ${args.join(", ")}` : ""}`;
    }
    case "queue.deleted":
      return `${e.reason || "deleted"}${e.messages ? `; ${e.messages} messages gone` : ""}`;
    case "queue.purged":
      return `${e.count} messages purged`;
    case "binding.created":
    case "binding.deleted":
      return `${exchangeLabel(e.source)} → ${e.destination_type} ${e.destination}, key ${key(e.routing_key)}${Object.keys(e.arguments || {}).length ? ` args ${jsonText(e.arguments)}` : ""}`;
    case "published": {
      const body = e.message && typeof e.message.payload === "string" ? e.message : null;
      const preview = body ? `: ${body.payload_encoding === "base64" ? "(base64) " : ""}${JSON.stringify(shorten(body.payload, 40))}` : "";
      return `to ${exchangeLabel(e.exchange)} with key ${key(e.routing_key)}, ${e.size ?? "?"} bytes from ${e.connection ?? "?"}${preview}`;
    }
    case "routed":
      return `${exchangeLabel(e.exchange)} → ${(e.queues || []).join(", ")}${e.cause && e.cause !== "published" ? ` (${e.cause})` : ""}`;
    case "unroutable":
      return `${exchangeLabel(e.exchange)}, key ${key(e.routing_key)}: ${unroutableReason(e)}`;
    case "returned":
      return `${e.reply_code} ${e.reply_text} to the publisher (mandatory)`;
    case "enqueued":
      return `depth now ${e.depth}`;
    case "delivered":
      return `to ${e.consumer_tag || "basic.get"}, tag ${e.delivery_tag}${e.redelivered ? ", redelivered" : ""}${e.auto_ack ? ", auto-ack" : ""}`;
    case "acked":
      return `tag ${e.delivery_tag} on ${e.connection} (${e.channel})`;
    case "nacked":
    case "rejected":
      return `tag ${e.delivery_tag}, requeue=${e.requeue}`;
    case "requeued":
      return `back in the queue at depth ${e.depth}, will be redelivered`;
    case "expired":
      return "TTL ran out";
    case "dead-lettered":
      return `${e.reason} → exchange ${exchangeLabel(e.exchange)} with key ${(e.routing_keys || []).map(key).join(", ")}`;
    case "dropped":
      return e.reason || "";
    case "consumer.added":
      return `${e.consumer_tag}: ${e.ack_required ? "manual ack" : "auto ack"}, prefetch ${e.prefetch_count || "∞"}${e.priority ? `, priority ${e.priority}` : ""}`;
    case "consumer.cancelled":
      return `${e.consumer_tag}`;
    case "connection.opened":
      return `${e.kind || ""} client, user ${e.user ?? "?"}`;
    case "connection.closed":
      return e.reason || "";
    case "channel.opened":
      return `channel ${e.channel}`;
    case "channel.closed":
      return `channel ${e.channel}: ${e.reason || ""}`;
    case "confirm":
      return `${e.ack ? "basic.ack" : "basic.nack"} for publish ${e.delivery_tag}`;
    case "get.empty":
      return "basic.get found no message";
    default:
      return "";
  }
}

export function eventWhere(e) {
  if (e.type.startsWith("exchange.")) return `exchange ${exchangeLabel(e.name)}`;
  if (e.type.startsWith("queue.") && e.name !== undefined) return `queue ${e.name}`;
  if (e.type.startsWith("binding.")) return `exchange ${exchangeLabel(e.source)}`;
  if (e.type.startsWith("connection.") || e.type.startsWith("channel.")) return e.connection || "";
  if (e.queue !== undefined && e.queue !== null) return `queue ${e.queue}`;
  if (e.exchange !== undefined && e.exchange !== null) return `exchange ${exchangeLabel(e.exchange)}`;
  return e.connection || "";
}

// --- page chrome: projector mode -----------------------------------------------------------

function setupProjector() {
  const button = document.getElementById("projector-toggle");
  const apply = (on) => {
    document.documentElement.dataset.projector = on ? "on" : "off";
    button?.setAttribute("aria-pressed", on ? "true" : "false");
  };
  let on = false;
  try {
    on = localStorage.getItem("queuelab.projector") === "on";
  } catch {
    on = false;
  }
  apply(on);
  button?.addEventListener("click", () => {
    on = !on;
    apply(on);
    try {
      localStorage.setItem("queuelab.projector", on ? "on" : "off");
    } catch {
      // private mode: the toggle still works for this page
    }
    document.dispatchEvent(new CustomEvent("ql-projector", { detail: on }));
  });
}

setupProjector();
