// model.js: the event-loop page's state, built from the /ws/loop frames. Pure: no DOM; a test
// feeds it frames and reads its state.
//
// A snapshot frame sets the loop's ready queue, timers, tasks, exceptions and lag samples; each
// batch then applies the loop's events (a callback queued, a timer set or due, a callback run,
// a task stepped, a lag sample, narration, an exception, a control) in order, interleaved by
// time with the `flow` of the consumer-service queue's messages, and checks the copy of the
// ready queue and timers against the ids in order the loop sends along. What the page should
// say in its live log becomes log records (plain data); `dirty` names the panes to draw again.
// A record keeps how to say its line (`say()`: nodes, in the page's language at each call), so
// a switch of language redraws the log too; `text` is that line as a string.

import { t } from "../lib/i18n.js";
import { field, fillNodes, nodesText, sayNodes } from "./words.js";

export const LOG_LIMIT = 400; // lines the live log keeps
const MESSAGE_LIMIT = 60;
export const LAG_WINDOW = 30; // seconds of loop lag the chart shows
const CALLBACKS_PER_FRAME = 120; // more in one frame: the log sums them up
const OPEN_RUNS_KEPT = 200;

export const TERMINAL = new Set(["done", "cancelled", "failed"]);

/** One line of the live log: {category, t, say, text, kind, task, message, cls}; `say()` gives
 * its nodes, `text` its string; a callback's line gets `took` (seconds) and maybe `error` when
 * it has run. */
function logRecord(category, time, say, { kind = null, task = null, message = null, cls = null } = {}) {
  return {
    category,
    t: time,
    say,
    kind,
    task,
    message,
    cls,
    get text() {
      return nodesText(this.say());
    },
  };
}

export class LoopModel {
  /**
   * @param {{queue: string, clock?: () => number, onChange?: () => void}} options
   *   `queue` the consumer-service queue's name (for the log's words); `clock` the page's
   *   time in ms (performance.now); `onChange` hears that some pane became dirty.
   */
  constructor({ queue, clock = () => performance.now(), onChange = () => {} }) {
    this.queue = queue;
    this.clock = clock;
    this.onChange = onChange;
    this.generation = 0;
    this.ready = new Map(); // id → entry, in FIFO order
    this.readyTotal = 0;
    this.timers = new Map(); // id → entry, soonest first after each `order`
    this.timersTotal = 0;
    this.current = null; // the callback running now, with `started` (loop time)
    this.tasks = new Map(); // id → task
    this.exceptions = [];
    this.lag = []; // {t, lag, source}
    this.gate = { mode: "connecting", slow_motion: 0, steps: 0, waiting_at_gate: false, idle: false };
    this.running = null; // {line, for}: the line running now
    this.loopClock = { now: 0, at: clock() };
    this.runs = new Map(); // demo name → its run
    this.messages = new Map(); // message id → {id, body, steps: [], redelivered}
    this.depth = null; // [ready, unacked, consumers] of the consumer-service queue
    this.dirty = new Set();
    this.log = []; // records not drawn yet
    this.finished = []; // records whose callback has run since the last draw
    this.lastControl = { mode: null, slow_motion: null };
    this.openRuns = new Map(); // callback id → its log record, until it has run
    this.quietCallbacks = false;
    this.lastSkipNote = -Infinity;
    this.lastRuns = "";
    this.finishedLogged = new Set();
    this.logStarted = false;
  }

  touch(...panes) {
    for (const pane of panes) this.dirty.add(pane);
    this.onChange();
  }

  /** The loop's own time (seconds since it started), running on between frames. */
  loopNow() {
    return this.loopClock.now + (this.clock() - this.loopClock.at) / 1000;
  }

  setLoopClock(now) {
    if (typeof now === "number") this.loopClock = { now, at: this.clock() };
  }

  taskByName(name) {
    return [...this.tasks.values()].find((task) => task.name === name);
  }

  taskName(id) {
    return id === null || id === undefined ? null : this.tasks.get(id)?.name ?? `#${id}`;
  }

  /** How long the current callback has been running (0 when none is). */
  runningFor() {
    if (!this.current) return 0;
    const now = this.loopNow();
    return Math.max(0, now - (this.current.started ?? now));
  }

  /** Add a log line; `say` gives its nodes (called again at each redraw). */
  logLine(category, time, say, options) {
    const record = logRecord(category, time ?? this.loopNow(), say, options);
    this.log.push(record);
    if (this.log.length > LOG_LIMIT) this.log = this.log.slice(-LOG_LIMIT);
    this.touch("log");
    return record;
  }

  logNote(note) {
    const text = field(note, "text");
    const say = note.task && !note.text.startsWith(note.task)
      ? () => ["[", ...fillNodes("%(task)s", { task: note.task }), "] ", ...sayNodes(text)]
      : () => sayNodes(text);
    this.logLine("note", note.t, say);
  }

  logException(exc) {
    const args = { error: `${exc.type}: ${exc.message}`, how: field(exc, "how") };
    const say = exc.handled
      ? () => fillNodes(t("handled %(error)s (%(how)s)"), args)
      : () => fillNodes(t("UNHANDLED %(error)s (%(how)s)"), args);
    this.logLine("exception", exc.t, say, { cls: exc.handled ? "log-handled" : "log-error" });
  }

  /** The gate as the server answered a control request. */
  setGate(control) {
    this.gate = { ...this.gate, ...control };
    this.touch("controls", "running");
  }

  /** A demo run the page just started (the next frame lists it too). */
  noteRun(run) {
    this.runs.set(run.name, run);
    this.touch("demos");
  }

  /** The socket closed: the gate's state is unknown until the next snapshot. */
  disconnected() {
    this.gate = { ...this.gate, mode: "connecting" };
    this.touch("controls");
  }

  // --- frames -------------------------------------------------------------------------------

  applySnapshot(frame) {
    const snap = frame.snapshot;
    const newLoop = frame.generation !== this.generation;
    this.generation = frame.generation;
    this.ready = new Map(snap.ready.map((entry) => [entry.id, entry]));
    this.readyTotal = snap.ready_total;
    this.timers = new Map(snap.timers.map((entry) => [entry.id, entry]));
    this.timersTotal = snap.timers_total;
    this.current = snap.current;
    this.tasks = new Map(snap.tasks.map((task) => [task.id, task]));
    this.exceptions = snap.exceptions.slice();
    const samples = snap.lag.samples;
    if (newLoop || !samples.length) this.lag = samples.slice();
    else this.lag = [...this.lag.filter((sample) => sample.t < samples[0].t), ...samples];
    if (newLoop) {
      if (this.logStarted) {
        const generation = frame.generation;
        this.logLine("control", null, () => [t("a new loop (#%(n)s): every task before it was cancelled", { n: generation })]);
      }
      this.logStarted = true;
      for (const note of snap.notes) this.logNote(note);
    } else {
      this.logLine("control", null, () => [t("caught up with a fresh snapshot of the loop")]);
    }
    this.messages = new Map();
    for (const item of frame.flow || []) this.applyFlow(item, false);
    this.applyLive(frame);
    this.lastRuns = "";
    this.applyRuns(frame.runs);
    if ("orders" in frame) this.depth = frame.orders;
    this.touch("all");
  }

  applyBatch(frame) {
    if (frame.generation !== this.generation) return;
    // The broker's message events and the loop's events, in the order they happened.
    const flow = frame.flow || [];
    const runs = frame.events.reduce((count, event) => count + (event.type === "run"), 0);
    this.quietCallbacks = runs > CALLBACKS_PER_FRAME;
    if (this.quietCallbacks) {
      this.logLine("callback", frame.events[0].t, () => [`▶ ${t("… %(n)s callbacks ran (too many to list one by one)", { n: runs })}`]);
    }
    let f = 0;
    for (const event of frame.events) {
      while (f < flow.length && flow[f].t <= event.t) this.applyFlow(flow[f++], true);
      this.applyEvent(event);
    }
    while (f < flow.length) this.applyFlow(flow[f++], true);
    this.quietCallbacks = false;
    if (frame.skipped && this.clock() - this.lastSkipNote > 2000) {
      this.lastSkipNote = this.clock();
      const skipped = frame.skipped;
      this.logLine("control", null, () => [t("%(n)s events in a moment: too many to show one by one (snapshots instead)", { n: skipped })]);
    }
    if ("orders" in frame && String(frame.orders) !== String(this.depth)) {
      this.depth = frame.orders;
      this.touch("messages");
    }
    if (frame.runs) this.applyRuns(frame.runs);
    this.applyLive(frame);
    this.trimLag();
  }

  /** What every frame carries: the gate, the ids in order, the line running now. */
  applyLive(frame) {
    if (frame.gate) {
      this.gate = frame.gate;
      if (this.lastControl.mode === null) this.lastControl = { mode: frame.gate.mode, slow_motion: frame.gate.slow_motion };
    }
    if (frame.order) {
      this.setLoopClock(frame.order.now);
      this.reconcile(frame.order);
    }
    this.running = frame.running || null;
    this.touch("controls", "running", "code");
  }

  // The ids in order, as the loop has them now: keep the copy built from events honest.
  reconcile(order) {
    const ready = new Map();
    for (const id of order.ready) if (this.ready.has(id)) ready.set(id, this.ready.get(id));
    const before = [...this.ready.keys()];
    if (ready.size !== before.length || ![...ready.keys()].every((id, i) => id === before[i])) {
      this.touch("ready");
    }
    this.ready = ready;
    this.readyTotal = order.ready_total;
    const timers = new Map();
    for (const id of order.timers) if (this.timers.has(id)) timers.set(id, this.timers.get(id));
    if (timers.size !== this.timers.size) this.touch("timers");
    this.timers = timers;
    this.timersTotal = order.timers_total;
    if (order.current === null && this.current !== null) {
      this.current = null;
      this.touch("running");
    }
  }

  applyEvent(event) {
    const apply = EVENTS[event.type];
    if (apply) apply.call(this, event);
  }

  applyRuns(runs) {
    if (!runs) return;
    const text = JSON.stringify(runs);
    if (text === this.lastRuns) return;
    this.lastRuns = text;
    const before = this.runs;
    this.runs = new Map(runs.map((run) => [run.name, run]));
    for (const run of runs) {
      const old = before.get(run.name);
      const key = `${run.name}@${run.started}`;
      if (old && old.state === "running" && run.state !== "running" && !this.finishedLogged.has(key)) {
        this.finishedLogged.add(key);
        this.logLine("note", null, () => demoOutcome(run), { cls: run.state === "failed" ? "log-error" : "log-demo" });
      }
    }
    this.touch("demos");
  }

  /** One step of a consumer-service message: published, delivered, acked … */
  applyFlow(item, live) {
    let message = this.messages.get(item.message);
    if (!message) {
      message = { id: item.message, body: null, steps: [], redelivered: false };
      this.messages.set(item.message, message);
      while (this.messages.size > MESSAGE_LIMIT) this.messages.delete(this.messages.keys().next().value);
    }
    if (item.step === "published") message.body = item.body;
    if (item.step === "delivered" && item.redelivered) message.redelivered = true;
    message.steps.push(item.step);
    if (live && item.step === "acked") {
      const task = `handle-message-${item.message}`;
      const known = Boolean(this.taskByName(task));
      const args = { id: item.message, task: known ? task : "?" };
      this.logLine("message", item.t, () => fillNodes(t("message #%(id)s → task %(task)s → acked"), args), { message: item.message });
    } else if (live && item.step === "published") {
      const body = item.body.length > 40 ? `${item.body.slice(0, 39)}…` : item.body;
      const args = { id: item.message, queue: this.queue, body };
      this.logLine("message", item.t, () => fillNodes(t("message #%(id)s published to %(queue)s: %(body)s"), args), { message: item.message });
    }
    this.touch("messages");
  }

  trimLag() {
    const from = this.loopNow() - LAG_WINDOW - 2;
    let drop = 0;
    while (drop < this.lag.length && this.lag[drop].t < from) drop += 1;
    if (drop) this.lag.splice(0, drop);
  }

  /** The log records to draw, and those whose callback finished since; both start afresh. */
  takeLog() {
    const taken = { added: this.log, finished: this.finished };
    this.log = [];
    this.finished = [];
    return taken;
  }
}

function demoOutcome(run) {
  const args = { demo: run.name, result: field(run, "result"), error: run.error };
  if (run.state === "done") return fillNodes(t("demo %(demo)s finished: %(result)s"), args);
  if (run.state === "failed") return fillNodes(t("demo %(demo)s failed: %(error)s"), args);
  return fillNodes(t("demo %(demo)s was cancelled"), args);
}

const CONTROL_TEXT = {
  running: () => t("loop running"),
  paused: () => t("loop paused"),
  stopping: () => t("loop stopping"),
};

function describeControl(event) {
  const mode = CONTROL_TEXT[event.mode]?.() ?? event.mode;
  if (!event.slow_motion) return [mode];
  return [t("%(mode)s, slow motion %(seconds)s s per callback", { mode, seconds: event.slow_motion })];
}

// The loop's events, each applied with the LoopModel as `this`.
const EVENTS = {
  ready(event) {
    const entry = event.entry;
    this.ready.delete(entry.id);
    this.ready.set(entry.id, entry);
    this.touch("ready", "tasks");
  },
  timer(event) {
    this.timers.set(event.entry.id, event.entry);
    this.touch("timers");
  },
  timer_due(event) {
    this.timers.delete(event.entry.id);
    this.ready.delete(event.entry.id);
    this.ready.set(event.entry.id, event.entry);
    this.touch("timers", "ready");
  },
  removed(event) {
    this.ready.delete(event.id);
    this.timers.delete(event.id);
    this.touch("timers", "ready");
  },
  run(event) {
    const entry = event.entry;
    this.ready.delete(entry.id);
    this.timers.delete(entry.id);
    this.current = { ...entry, started: event.t };
    if (!this.quietCallbacks) {
      const label = field(entry, "label");
      const record = this.logLine("callback", event.t, () => ["▶ ", ...sayNodes(label)], { kind: entry.kind, task: entry.task });
      this.openRuns.set(entry.id, record);
    }
    this.touch("ready", "timers", "running", "code", "tasks");
  },
  ran(event) {
    if (this.current && this.current.id === event.id) this.current = null;
    const record = this.openRuns.get(event.id);
    this.openRuns.delete(event.id);
    if (record) {
      record.took = event.duration;
      if (event.error) record.error = event.error;
      this.finished.push(record);
      this.touch("log");
    }
    if (this.openRuns.size > OPEN_RUNS_KEPT) this.openRuns.delete(this.openRuns.keys().next().value);
    this.touch("running", "code", "tasks");
  },
  task(event) {
    this.tasks.set(event.task.id, event.task);
    this.touch("tasks", "code", "messages");
  },
  lag(event) {
    this.lag.push({ t: event.t, lag: event.lag, source: event.source });
    this.touch("lag");
  },
  note(event) {
    this.logNote(event);
  },
  exception(event) {
    this.exceptions.push(event.exception);
    if (this.exceptions.length > 50) this.exceptions.shift();
    this.logException(event.exception);
    this.touch("exceptions");
  },
  control(event) {
    // A step pauses (again) each time: log only what changed.
    if (event.mode !== this.lastControl.mode || event.slow_motion !== this.lastControl.slow_motion) {
      const control = { mode: event.mode, slow_motion: event.slow_motion };
      this.logLine("control", event.t, () => describeControl(control));
    }
    this.lastControl = { mode: event.mode, slow_motion: event.slow_motion };
    this.gate = { ...this.gate, mode: event.mode, slow_motion: event.slow_motion };
    this.touch("controls", "running");
  },
};
