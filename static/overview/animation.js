// animation.js: a message's steps as tokens moving over the diagram. Each message becomes a dot
// that moves along the edges with requestAnimationFrame: published (producer → exchange),
// routed (along the bindings that matched), delivered (queue → consumer), acked (a green ring
// at the consumer). Requeues, dead letters, expiry, drops and unroutable messages each look
// different (see the legend). A message's next step starts when its previous one ends.
//
// At high rates only 1 message in N is animated, chosen by message id so a sampled message is
// followed all the way, and the page says so.

import { t } from "../lib/i18n.js";
import { SHAPES } from "./draw.js";
import { measure, pointAt, stub } from "./geometry.js";
import { isReplyKey, ownerKey } from "./model.js";

const MAX_TOKENS = 120;
const TARGET_JOURNEYS_PER_SECOND = 25;
const MAX_LAG_MS = 3000; // a step due later than this is skipped rather than shown late
const OWNERS_KEPT = 5000;

const speedDuration = (length) => Math.max(260, Math.min(1000, length * 2.6));

export class Animator {
  /**
   * @param {import("./draw.js").Diagram} diagram  where the tokens go
   * @param {{enabled: () => boolean, samplingNote: HTMLElement, onUnroutable: (e) => void}} options
   */
  constructor(diagram, { enabled, samplingNote, onUnroutable }) {
    this.diagram = diagram;
    this.enabled = enabled;
    this.samplingNote = samplingNote;
    this.onUnroutable = onUnroutable;
    this.tokens = [];
    this.journeys = new Map(); // message id → when (ms) its current animation ends
    this.running = false;
    this.startTimes = []; // when recent journeys started (for the sampling rate)
    this.sampleEvery = 1;
    this.serverSampled = 0; // the server's own sampling of the last batch
    // Who held a delivery, remembered a little longer than the model does (the animation of
    // an ack runs after the model has already forgotten the delivery).
    this.lastOwner = new Map();
    this.frame = this.frame.bind(this);
  }

  /** Remember who a delivery went to; call for every event, animated or not. */
  remember(e) {
    if (e.type === "delivered" && e.consumer_tag) {
      this.lastOwner.set(ownerKey(e), e.consumer_tag);
      if (this.lastOwner.size > OWNERS_KEPT) this.lastOwner.delete(this.lastOwner.keys().next().value);
    }
  }

  animate(e) {
    if (!this.diagram.view || !this.enabled() || document.hidden) return;
    STEPS[e.type]?.call(this, e, e.message_id);
  }

  /** Remove every token (animation switched off). */
  clear() {
    for (const token of this.tokens) token.element.remove();
    this.tokens.length = 0;
  }

  /** Once a second: adjust the sampling to the rate, forget finished journeys. */
  tick() {
    this.updateSampling();
    const now = performance.now();
    for (const [id, until] of this.journeys) {
      if (now - until > 10_000) this.journeys.delete(id);
    }
  }

  // Which messages to animate: by a hash of the id (not id % N, which would correlate with the
  // server's own sampling by id), so one message is followed through all its steps.
  sampled(id) {
    return this.sampleEvery <= 1 || Math.imul(Number(id) | 0, 2654435761) >>> 0 < 4294967296 / this.sampleEvery;
  }

  noteJourneyStart() {
    const now = performance.now();
    this.startTimes.push(now);
    while (this.startTimes.length && now - this.startTimes[0] > 2000) this.startTimes.shift();
  }

  updateSampling() {
    const now = performance.now();
    while (this.startTimes.length && now - this.startTimes[0] > 2000) this.startTimes.shift();
    const rate = this.startTimes.length / 2;
    const wanted = rate > TARGET_JOURNEYS_PER_SECOND ? Math.ceil(rate / TARGET_JOURNEYS_PER_SECOND) : 1;
    // Change the sampling only by a clear margin, so it does not flicker.
    if (wanted > this.sampleEvery || wanted < this.sampleEvery / 2) this.sampleEvery = wanted;
    this.showSampling();
  }

  /** Say how many messages are animated (again after a language switch). */
  showSampling() {
    const every = this.sampleEvery * Math.max(1, this.serverSampled);
    this.samplingNote.hidden = every <= 1;
    this.samplingNote.textContent = every > 1 ? t("busy: animating about 1 message in %(every)s", { every }) : "";
  }

  journeyStart(id) {
    const now = performance.now();
    return Math.max(now, this.journeys.get(id) ?? now);
  }

  addToken(shape, token) {
    const element = SHAPES[shape]();
    element.setAttribute("visibility", "hidden");
    this.diagram.layers.tokens.append(element);
    this.tokens.push({ element, ...token });
    if (!this.running) {
      this.running = true;
      requestAnimationFrame(this.frame);
    }
  }

  /** Move a token of `shape` along `points` for message `id`, after its previous move; returns
   * when it arrives (null when not shown). */
  move(id, points, shape, { start, reverse = false } = {}) {
    if (!points || this.tokens.length >= MAX_TOKENS) return null;
    const path = reverse ? [...points].reverse() : points;
    const cumulative = measure(path);
    const begin = start ?? this.journeyStart(id);
    if (begin - performance.now() > MAX_LAG_MS) return null;
    const duration = speedDuration(cumulative[cumulative.length - 1]);
    this.addToken(shape, { path, cumulative, begin, duration, kind: "move" });
    this.journeys.set(id, Math.max(this.journeys.get(id) || 0, begin + duration));
    return begin + duration;
  }

  /** A burst (ring, cross, falling square) at a point, when message `id` gets there. */
  burst(id, point, shape, { start, duration = 700, fall = 0 } = {}) {
    if (!point || this.tokens.length >= MAX_TOKENS) return;
    const begin = start ?? this.journeyStart(id);
    if (begin - performance.now() > MAX_LAG_MS) return;
    this.addToken(shape, { point, begin, duration, fall, kind: "burst" });
  }

  frame(now) {
    const tokens = this.tokens;
    for (let i = tokens.length - 1; i >= 0; i--) {
      const token = tokens[i];
      if (now < token.begin) continue;
      const u = Math.min(1, (now - token.begin) / token.duration);
      const el = token.element;
      el.setAttribute("visibility", "visible");
      if (token.kind === "move") {
        const [x, y] = pointAt(token.path, token.cumulative, u * token.cumulative[token.cumulative.length - 1]);
        el.setAttribute("transform", `translate(${x.toFixed(1)} ${y.toFixed(1)})`);
      } else {
        const [x, y] = token.point;
        const scale = token.fall ? 1 : 1 + u * 1.6;
        el.setAttribute("transform", `translate(${x.toFixed(1)} ${(y + token.fall * u).toFixed(1)}) scale(${scale.toFixed(2)})`);
        el.setAttribute("opacity", (1 - u).toFixed(2));
      }
      if (u >= 1) {
        el.remove();
        tokens.splice(i, 1);
      }
    }
    if (tokens.length) requestAnimationFrame(this.frame);
    else this.running = false;
  }

  /** Where a settled delivery is drawn: at its consumer, or just right of its queue. */
  settlePoint(e) {
    const tag = this.lastOwner.get(ownerKey(e));
    const at = tag ? this.diagram.nodePoint(`c:${tag}`, "left") : this.diagram.nodePoint(`q:${e.queue}`, "right");
    return at && (tag ? at : [at[0] + 46, at[1]]);
  }
}

// One drawing per step of a message's way, called with the Animator as `this`.
const STEPS = {
  published(e, id) {
    this.noteJourneyStart();
    if (!this.sampled(id)) return;
    const path = this.diagram.edge("publish", `p:${e.connection}`, `x:${e.exchange}`);
    const target = this.diagram.nodePoint(`x:${e.exchange}`, "left");
    this.move(id, path ? path.points : target && stub([target[0] - 60, target[1]], 60), "message");
  },

  routed(e, id) {
    if (!this.sampled(id)) return;
    const arrivals = new Map([[e.exchange, this.journeyStart(id)]]);
    if (e.exchange === "") {
      for (const q of e.queues || []) {
        const path = this.diagram.edge("default", "x:", `q:${q}`);
        if (path) this.move(id, path.points, "message", { start: arrivals.get("") });
      }
      return;
    }
    // Along each matched binding once the message is at its source (exchange-to-exchange
    // bindings pass it on, so a binding may wait for an earlier one).
    const pending = [...(e.matched || [])];
    for (let round = 0; round < 8 && pending.length; round++) {
      for (let i = pending.length - 1; i >= 0; i--) {
        const b = pending[i];
        if (!arrivals.has(b.source)) continue;
        pending.splice(i, 1);
        const to = `${b.destination_type === "exchange" ? "x" : "q"}:${b.destination}`;
        const path = this.diagram.edge("binding", `x:${b.source}`, to);
        if (!path) continue;
        const end = this.move(id, path.points, "message", { start: arrivals.get(b.source) });
        if (b.destination_type === "exchange" && end) arrivals.set(b.destination, end);
      }
    }
  },

  unroutable(e, id) {
    this.burst(id, this.diagram.nodePoint(`x:${e.exchange}`, "right"), "unroutable", { duration: 1400 });
    this.onUnroutable(e);
  },

  returned(e, id) {
    if (!this.sampled(id)) return;
    const path = this.diagram.edge("publish", `p:${e.connection}`, `x:${e.exchange}`);
    if (path) this.move(id, path.points, "returned", { reverse: true });
  },

  delivered(e, id) {
    if (!this.sampled(id)) return;
    const shape = e.redelivered ? "redelivered" : "message";
    const [kind, from] = isReplyKey(e.queue) ? ["reply", "x:"] : ["consume", `q:${e.queue}`];
    const path = e.consumer_tag && this.diagram.edge(kind, from, `c:${e.consumer_tag}`);
    if (path) this.move(id, path.points, shape);
    else {
      const start = this.diagram.nodePoint(`q:${e.queue}`, "right");
      if (start) this.move(id, stub(start, 46), shape);
    }
    if (e.auto_ack) {
      const at = e.consumer_tag ? this.diagram.nodePoint(`c:${e.consumer_tag}`, "left") : null;
      if (at) this.burst(id, at, "acked");
    }
  },

  acked(e, id) {
    if (!this.sampled(id)) return;
    this.burst(id, this.settlePoint(e), "acked");
  },

  nacked(e, id) {
    if (!this.sampled(id) || e.requeue) return; // a requeue is drawn by its "requeued" event
    this.burst(id, this.settlePoint(e), "rejected", { duration: 900 });
  },

  rejected(e, id) {
    STEPS.nacked.call(this, e, id);
  },

  requeued(e, id) {
    if (!this.sampled(id)) return;
    const tag = this.lastOwner.get(ownerKey(e));
    const path = tag && this.diagram.edge("consume", `q:${e.queue}`, `c:${tag}`);
    if (path) this.move(id, path.points, "requeue", { reverse: true });
    else {
      const at = this.diagram.nodePoint(`q:${e.queue}`, "right");
      if (at) this.move(id, stub([at[0] + 46, at[1]], -46), "requeue");
    }
  },

  expired(e, id) {
    if (!this.sampled(id)) return;
    this.burst(id, this.diagram.nodePoint(`q:${e.queue}`, "center"), "expired", { duration: 1000 });
  },

  dropped(e, id) {
    if (!this.sampled(id)) return;
    this.burst(id, this.diagram.nodePoint(`q:${e.queue}`, "bottom"), "dropped", { duration: 1000, fall: 30 });
  },

  "dead-lettered"(e, id) {
    this.noteJourneyStart();
    if (!this.sampled(id)) return;
    const path = this.diagram.edge("dead-letter", `q:${e.queue}`, `x:${e.exchange}`);
    if (path) this.move(id, path.points, "dead-letter");
  },
};
