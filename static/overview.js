// overview.js: the live topology diagram, its message animation, totals and rate chart.
//
// A model of the vhost (exchanges, queues, bindings, consumers, and the producers seen
// publishing) is built from the live snapshot and kept current from events. It is laid out in
// columns (producers → exchanges → queues → consumers), deterministically: the same topology
// always gives the same picture. Each message becomes a dot that moves along precomputed path
// points with requestAnimationFrame: published (producer → exchange), routed (along the
// bindings that matched), delivered (queue → consumer), acked (a green ring at the consumer).
// Requeues, dead letters, expiry, drops and unroutable messages each look different (see the
// legend). At high rates only 1 message in N is animated, chosen by message id so a sampled
// message is followed all the way, and the page says so.

import { exchangeLabel, pages } from "./lib/api.js";
import { LineChart } from "./lib/chart.js";
import { clear, h, s } from "./lib/dom.js";
import { fmtNumber, fmtRate, fmtTime, jsonText, shorten } from "./lib/format.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import { traceLoader, unroutableReasons } from "./lib/routing.js";

const VHOST = document.body.dataset.vhost || "/";
const svg = document.getElementById("diagram");
const emptyNote = document.getElementById("diagram-empty");
const samplingNote = document.getElementById("sampling");
const showSystem = document.getElementById("show-system");
const animateBox = document.getElementById("animate");
const unroutableList = document.getElementById("unroutable-list");
const unroutableNone = document.getElementById("unroutable-none");

const withTrace = traceLoader({ perSecond: 2, backlog: 3 });
const MAX_TOKENS = 120;
const TARGET_JOURNEYS_PER_SECOND = 25;
const LABEL_CHAR = 6.6; // px per character of the 11px monospace edge labels

// --- the model -------------------------------------------------------------------------------

const model = {
  exchanges: new Map(),
  queues: new Map(),
  bindings: new Map(),
  consumers: new Map(),
  producers: new Map(), // connection name → {name, published, exchanges: Set}
  usedExchanges: new Set(), // exchanges that have seen traffic (shows "" and amq.* ones)
  defaultRoutes: new Set(), // queues reached through the default exchange
  owners: new Map(), // "connection|channel|tag" → consumer tag (who holds an unacked delivery)
};

const bindingKey = (b) =>
  [b.source, b.destination_type, b.destination, b.routing_key, jsonText(b.arguments || {})].join("\u0000");
const ownerKey = (e) => `${e.connection}|${e.channel}|${e.delivery_tag}`;

function loadSnapshot(frame) {
  const snap = frame.snapshot;
  for (const map of [model.exchanges, model.queues, model.bindings, model.consumers, model.producers]) map.clear();
  model.usedExchanges.clear();
  model.defaultRoutes.clear();
  model.owners.clear();
  for (const e of snap.exchanges) model.exchanges.set(e.name, { ...e });
  for (const q of snap.queues) {
    model.queues.set(q.name, { ...q, ready: q.messages_ready, unacked: q.messages_unacknowledged });
  }
  for (const b of snap.bindings) model.bindings.set(bindingKey(b), b);
  for (const c of snap.consumers) model.consumers.set(c.consumer_tag, { ...c });
  const open = new Set((snap.connections || []).map((c) => c.name));
  for (const event of frame.events || []) {
    if (event.type === "published" && open.has(event.connection)) notePublisher(event);
    if (event.type === "routed" && event.exchange === "") {
      for (const q of event.queues || []) model.defaultRoutes.add(q);
    }
  }
  totals.set(snap.totals);
  drawPending = false;
  draw(); // now, not on the next frame: a background tab may not get frames for a while
}

function notePublisher(event) {
  const name = event.connection ?? "?";
  let producer = model.producers.get(name);
  const isNew = !producer;
  if (isNew) {
    producer = { name, published: 0, exchanges: new Set() };
    model.producers.set(name, producer);
  }
  producer.published += 1;
  model.usedExchanges.add(event.exchange);
  if (!producer.exchanges.has(event.exchange)) {
    producer.exchanges.add(event.exchange);
    return true;
  }
  return isNew;
}

// Apply one event to the model; true when the picture's structure changed.
function apply(e) {
  switch (e.type) {
    case "exchange.declared":
      model.exchanges.set(e.name, {
        name: e.name,
        type: e.exchange_type,
        durable: e.durable,
        auto_delete: e.auto_delete,
        internal: e.internal,
        arguments: e.arguments || {},
      });
      return true;
    case "exchange.deleted":
      model.exchanges.delete(e.name);
      model.usedExchanges.delete(e.name);
      return true;
    case "queue.declared":
      model.queues.set(e.name, { ...e, ready: 0, unacked: 0, consumers: 0 });
      return true;
    case "queue.deleted":
      model.queues.delete(e.name);
      model.defaultRoutes.delete(e.name);
      return true;
    case "binding.created":
      model.bindings.set(bindingKey(e), e);
      return true;
    case "binding.deleted":
      model.bindings.delete(bindingKey(e));
      return true;
    case "consumer.added":
      model.consumers.set(e.consumer_tag, { ...e, unacked: 0 });
      return true;
    case "consumer.cancelled":
      model.consumers.delete(e.consumer_tag);
      return true;
    case "connection.closed":
      return model.producers.delete(e.connection);
    case "published": {
      const hadExchange = model.usedExchanges.has(e.exchange);
      return notePublisher(e) || !hadExchange;
    }
    case "routed":
      if (e.exchange === "") {
        let added = false;
        for (const q of e.queues || []) {
          if (!model.defaultRoutes.has(q) && !isReplyKey(q)) {
            model.defaultRoutes.add(q);
            added = true;
          }
        }
        return added;
      }
      return false;
    case "delivered":
      if (e.consumer_tag && !e.auto_ack) {
        model.owners.set(ownerKey(e), e.consumer_tag);
        if (model.owners.size > 20_000) model.owners.delete(model.owners.keys().next().value);
        const consumer = model.consumers.get(e.consumer_tag);
        if (consumer) consumer.unacked += 1;
      }
      return false;
    case "acked":
    case "nacked":
    case "rejected": {
      const tag = model.owners.get(ownerKey(e));
      if (tag) {
        model.owners.delete(ownerKey(e));
        const consumer = model.consumers.get(tag);
        if (consumer) consumer.unacked = Math.max(0, consumer.unacked - 1);
      }
      return false;
    }
    default:
      return false;
  }
}

// --- layout ------------------------------------------------------------------------------------

const SIZE = {
  producer: { w: 150, h: 40 },
  exchange: { w: 172, h: 46 },
  queue: { w: 184, h: 60 },
  consumer: { w: 188, h: 44 },
};
const GAP_Y = 16;
const TOP = 44;
const MARGIN = 24;

// Direct reply-to: replies go from the default exchange straight to the requesting channel's
// consumer; its "queue" (amq.rabbitmq.reply-to.<key>) is no queue anyone can see.
const REPLY_PREFIX = "amq.rabbitmq.reply-to.";
const isReplyKey = (name) => typeof name === "string" && name.startsWith(REPLY_PREFIX);

function isSystem(name) {
  return name === "" || name.startsWith("amq.");
}

function visibleExchanges() {
  const referenced = new Set();
  for (const b of model.bindings.values()) {
    referenced.add(b.source);
    if (b.destination_type === "exchange") referenced.add(b.destination);
  }
  for (const q of model.queues.values()) {
    const dlx = q.arguments?.["x-dead-letter-exchange"];
    if (typeof dlx === "string") referenced.add(dlx);
  }
  const names = [...model.exchanges.keys()].filter((name) => {
    if (!isSystem(name)) return true;
    if (name === "") return model.usedExchanges.has("");
    return showSystem.checked || referenced.has(name) || model.usedExchanges.has(name);
  });
  const rank = (name) => (name === "" ? 0 : name.startsWith("amq.") ? 2 : 1);
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function barycenterSort(items, neighbours, indexOf) {
  const score = new Map();
  for (const item of items) {
    const positions = neighbours(item).map(indexOf).filter((i) => i !== undefined);
    score.set(item, positions.length ? positions.reduce((a, b) => a + b, 0) / positions.length : Infinity);
  }
  return items.sort((a, b) => score.get(a) - score.get(b) || byName(a, b));
}

function layout() {
  const exchangeNames = visibleExchanges();
  const exchangeIndex = new Map(exchangeNames.map((n, i) => [n, i]));

  // Queues ordered by where their bindings come from, so edges cross less.
  const queueNames = barycenterSort(
    [...model.queues.keys()],
    (q) => {
      const sources = [...model.bindings.values()]
        .filter((b) => b.destination_type === "queue" && b.destination === q)
        .map((b) => b.source);
      return sources.length || !model.defaultRoutes.has(q) ? sources : [""];
    },
    (name) => exchangeIndex.get(name),
  );
  const queueIndex = new Map(queueNames.map((n, i) => [n, i]));
  const consumerTags = [...model.consumers.keys()].sort((a, b) => {
    const qa = queueIndex.get(model.consumers.get(a).queue) ?? 1e9;
    const qb = queueIndex.get(model.consumers.get(b).queue) ?? 1e9;
    return qa - qb || byName(a, b);
  });
  const producerNames = barycenterSort(
    [...model.producers.keys()],
    (p) => [...model.producers.get(p).exchanges],
    (name) => exchangeIndex.get(name),
  );

  // Columns, left to right.
  const columns = [
    { title: "producers", kind: "producer", ids: producerNames.map((n) => ["p", n]) },
    { title: "exchanges", kind: "exchange", ids: exchangeNames.map((n) => ["x", n]) },
  ];
  columns.push({ title: "queues", kind: "queue", ids: queueNames.map((n) => ["q", n]) });
  columns.push({ title: "consumers", kind: "consumer", ids: consumerTags.map((t) => ["c", t]) });

  const gapAfter = { producer: 110, exchange: 190, queue: 110, consumer: 0 };
  let x = MARGIN;
  const heights = columns.map((col) => {
    const size = SIZE[col.kind];
    return col.ids.length ? col.ids.length * size.h + (col.ids.length - 1) * GAP_Y : 0;
  });
  const tallest = Math.max(120, ...heights);
  const nodes = new Map();
  columns.forEach((col, i) => {
    const size = SIZE[col.kind];
    col.x = x;
    col.w = size.w;
    let y = TOP + (tallest - heights[i]) / 2;
    for (const [prefix, name] of col.ids) {
      const id = `${prefix}:${name}`;
      nodes.set(id, { id, kind: col.kind, name, x, y, w: size.w, h: size.h });
      y += size.h + GAP_Y;
    }
    const next = columns[i + 1];
    x += size.w + (next ? gapAfter[col.kind] : 0);
  });
  const width = x + MARGIN;

  // Edges: one per (from, to) pair, carrying every binding between them.
  const edges = new Map();
  const addEdge = (from, to, kind, binding) => {
    if (!nodes.has(from) || !nodes.has(to)) return;
    const id = `${kind}|${from}|${to}`;
    if (!edges.has(id)) edges.set(id, { id, from, to, kind, bindings: [] });
    if (binding) edges.get(id).bindings.push(binding);
  };
  for (const [name, producer] of model.producers) {
    for (const target of producer.exchanges) addEdge(`p:${name}`, `x:${target}`, "publish");
  }
  for (const b of model.bindings.values()) {
    addEdge(`x:${b.source}`, `${b.destination_type === "exchange" ? "x" : "q"}:${b.destination}`, "binding", b);
  }
  for (const q of model.defaultRoutes) addEdge("x:", `q:${q}`, "default");
  for (const [tag, consumer] of model.consumers) {
    if (isReplyKey(consumer.queue)) addEdge("x:", `c:${tag}`, "reply");
    else addEdge(`q:${consumer.queue}`, `c:${tag}`, "consume");
  }
  for (const q of model.queues.values()) {
    const dlx = q.arguments?.["x-dead-letter-exchange"];
    if (typeof dlx === "string") addEdge(`q:${q.name}`, `x:${dlx}`, "dead-letter");
  }
  // Edges are curves left to right; exchange-to-exchange bindings arc out to the right of the
  // exchange column and back; dead letters run along lanes under the diagram and come back
  // into their exchange from the left, like a publish (dead-lettering is a re-publish); direct
  // replies take a lane under the queues, which they skip.
  const contentBottom = TOP + tallest;
  let lane = 0;
  let bottom = contentBottom;
  for (const edge of edges.values()) {
    const a = nodes.get(edge.from);
    const b = nodes.get(edge.to);
    if (edge.kind === "dead-letter" || edge.kind === "reply") {
      edge.points = lanePoints(a, b, contentBottom + 26 + lane * 12, 22 + lane * 7);
      lane += 1;
    } else if (a.kind === "exchange" && b.kind === "exchange") {
      edge.points = arcPoints(a, b);
    } else {
      edge.points = curvePoints(a, b);
    }
    for (const point of edge.points) bottom = Math.max(bottom, point[1]);
  }
  return { nodes, edges, columns, width: Math.max(width, 640), height: bottom + 36 };
}

function cubic(p0, p1, p2, p3, steps = 28) {
  const points = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    points.push([
      u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
      u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
    ]);
  }
  return points;
}

function curvePoints(a, b) {
  const start = [a.x + a.w, a.y + a.h / 2];
  const end = [b.x, b.y + b.h / 2];
  const dx = (end[0] - start[0]) / 2;
  return cubic(start, [start[0] + dx, start[1]], [end[0] - dx, end[1]], end);
}

/** From the right side of one exchange, bulging right, into the right side of another. */
function arcPoints(a, b) {
  const start = [a.x + a.w, a.y + a.h / 2 - 6];
  const end = [b.x + b.w, b.y + b.h / 2 + 6];
  const bulge = 46 + Math.abs(end[1] - start[1]) * 0.22;
  return cubic(start, [start[0] + bulge, start[1]], [end[0] + bulge, end[1]], end);
}

/** Straight runs with rounded corners: out of `a` on the right, down to the lane under the
 * diagram, along it, up on the left of `b`, and into `b`. */
function lanePoints(a, b, laneY, inset) {
  const exitX = a.x + a.w + 10 + inset / 2;
  const corners = [
    [a.x + a.w, a.y + a.h - 12],
    [exitX, a.y + a.h - 12],
    [exitX, laneY],
    [b.x - inset, laneY],
    [b.x - inset, b.y + b.h / 2 + 6],
    [b.x, b.y + b.h / 2 + 6],
  ];
  const points = [corners[0]];
  for (let i = 1; i < corners.length - 1; i++) {
    const [prev, corner, next] = [corners[i - 1], corners[i], corners[i + 1]];
    const r = Math.min(12, Math.hypot(corner[0] - prev[0], corner[1] - prev[1]) / 2, Math.hypot(next[0] - corner[0], next[1] - corner[1]) / 2);
    const towards = (from, to, d) => {
      const length = Math.hypot(to[0] - from[0], to[1] - from[1]) || 1;
      return [from[0] + ((to[0] - from[0]) * d) / length, from[1] + ((to[1] - from[1]) * d) / length];
    };
    const enter = towards(corner, prev, r);
    const leave = towards(corner, next, r);
    points.push(enter);
    for (let k = 1; k < 6; k++) {
      const t = k / 6;
      const u = 1 - t;
      points.push([u * u * enter[0] + 2 * u * t * corner[0] + t * t * leave[0], u * u * enter[1] + 2 * u * t * corner[1] + t * t * leave[1]]);
    }
    points.push(leave);
  }
  points.push(corners[corners.length - 1]);
  return points;
}

const pathD = (points) => `M${points.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(" L")}`;

function measure(points) {
  const cumulative = [0];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i - 1];
    const [x2, y2] = points[i];
    cumulative.push(cumulative[i - 1] + Math.hypot(x2 - x1, y2 - y1));
  }
  return cumulative;
}

function bindingLabel(binding, exchangeType) {
  const args = Object.entries(binding.arguments || {});
  if (exchangeType === "headers" || (args.length && !binding.routing_key)) {
    return args.map(([k, v]) => `${k}=${jsonText(v)}`).join(" ") || "(no headers)";
  }
  if (exchangeType === "fanout") return binding.routing_key ? `${binding.routing_key} (ignored)` : "";
  return binding.routing_key === "" ? '""' : binding.routing_key;
}

// --- drawing -----------------------------------------------------------------------------------

let view = null; // the current layout, with the SVG elements that show live numbers
const layers = {};

function draw() {
  const lay = layout();
  const hasContent = [...lay.nodes.values()].some((n) => n.kind === "exchange" || n.kind === "queue");
  emptyNote.hidden = hasContent;
  svg.hidden = !hasContent;
  svg.setAttribute("viewBox", `0 0 ${lay.width} ${lay.height}`);
  svg.style.setProperty("--diagram-width", `${lay.width}px`);
  clear(svg);
  layers.columns = s("g", { class: "columns" });
  layers.edges = s("g", { class: "edges" });
  layers.labels = s("g", { class: "edge-labels" });
  layers.nodes = s("g", { class: "nodes" });
  layers.tokens = s("g", { class: "tokens" });
  layers.notes = s("g", { class: "notes" });
  svg.append(layers.columns, layers.edges, layers.nodes, layers.labels, layers.tokens, layers.notes);

  for (const col of lay.columns) {
    if (!col.title) continue;
    layers.columns.append(
      s("text", { class: "column-title", x: col.x + col.w / 2, y: 20, "text-anchor": "middle" }, col.title),
    );
    if (!col.ids.length && col.kind === "producer") {
      layers.columns.append(
        s("text", { class: "column-hint", x: col.x + col.w / 2, y: 40, "text-anchor": "middle" }, "publishers appear here"),
      );
    }
  }

  for (const edge of lay.edges.values()) {
    edge.cumulative = measure(edge.points);
    const path = s("path", { class: `edge edge-${edge.kind}`, d: pathD(edge.points) });
    if (edge.kind === "dead-letter") path.append(s("title", {}, "dead letters go to this exchange"));
    if (edge.kind === "default") path.append(s("title", {}, "default exchange: routing key = queue name"));
    if (edge.kind === "reply") path.append(s("title", {}, "direct reply-to: replies skip the queues"));
    layers.edges.append(path);
  }
  bindingLabels(lay);

  const elements = new Map();
  for (const node of lay.nodes.values()) {
    const parts = drawNode(node);
    elements.set(node.id, parts);
    layers.nodes.append(parts.root);
  }
  view = { ...lay, elements };
  updateNumbers();
}

function bindingLabels(lay) {
  const placed = [];
  for (const edge of lay.edges.values()) {
    if (edge.kind !== "binding") continue;
    const source = model.exchanges.get(lay.nodes.get(edge.from).name);
    const labels = edge.bindings.map((b) => bindingLabel(b, source?.type)).filter((t) => t !== "");
    if (!labels.length) continue;
    const full = labels.join(" | ");
    const text = shorten(full, 28);
    const width = text.length * LABEL_CHAR + 10;
    const middle = edge.points[Math.round((edge.points.length - 1) * 0.5)];
    placed.push({ full, text, width, x: middle[0] - width / 2, y: middle[1] - 9 });
  }
  // Greedy: top to bottom, push a label down until it overlaps none placed before it.
  placed.sort((a, b) => a.y - b.y || a.x - b.x);
  const done = [];
  for (const label of placed) {
    let moved = true;
    while (moved) {
      moved = false;
      for (const other of done) {
        const overlapX = label.x < other.x + other.width + 4 && other.x < label.x + label.width + 4;
        const overlapY = label.y < other.y + 20 && other.y < label.y + 20;
        if (overlapX && overlapY) {
          label.y = other.y + 21;
          moved = true;
        }
      }
    }
    done.push(label);
    layers.labels.append(
      s(
        "g",
        { class: "edge-label", transform: `translate(${label.x.toFixed(1)} ${label.y.toFixed(1)})` },
        s("title", {}, `binding key: ${label.full}`),
        s("rect", { width: label.width.toFixed(1), height: 18, rx: 4 }),
        s("text", { x: 5, y: 13 }, label.text),
      ),
    );
  }
}

function nodeLink(node) {
  if (node.kind === "queue") return pages.queue(VHOST, node.name);
  if (node.kind === "exchange") return pages.exchange(VHOST, node.name);
  if (node.kind === "consumer") {
    const consumer = model.consumers.get(node.name);
    return consumer ? pages.queue(VHOST, consumer.queue) : null;
  }
  return null;
}

function drawNode(node) {
  const link = nodeLink(node);
  const root = link ? s("a", { href: link, class: "node-link" }) : s("g");
  const g = s("g", {
    class: `node node-${node.kind}`,
    transform: `translate(${node.x} ${node.y})`,
    "data-node": node.kind,
    "data-name": node.name,
  });
  root.append(g);
  const parts = { root, g };
  const title = (text, max) => s("text", { class: "node-title", x: 12, y: 19 }, shorten(text, max));
  if (node.kind === "producer") {
    const producer = model.producers.get(node.name);
    g.append(
      s("title", {}, `producer: connection ${node.name}`),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: 8 }),
      title(node.name, 19),
    );
    parts.sub = s("text", { class: "node-sub", x: 12, y: 33 }, "");
    g.append(parts.sub);
    parts.update = () => {
      const text = `published ${fmtNumber(producer?.published || 0)}`;
      if (parts.sub.textContent !== text) parts.sub.textContent = text;
    };
  } else if (node.kind === "exchange") {
    const exchange = model.exchanges.get(node.name);
    const type = exchange?.type || "?";
    g.classList.add(`type-${type}`);
    g.append(
      s("title", {}, `${type} exchange ${exchangeLabel(node.name)}${exchange?.internal ? " (internal)" : ""}`),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: 6 }),
      s("rect", { class: "type-stripe", width: 5, height: node.h, rx: 2 }),
      title(exchangeLabel(node.name), 20),
      s("text", { class: "node-sub", x: 12, y: 36 }, type),
    );
  } else if (node.kind === "queue") {
    const queue = model.queues.get(node.name);
    const args = queue?.arguments || {};
    const badges = [
      args["x-message-ttl"] !== undefined ? "TTL" : null,
      args["x-max-length"] !== undefined || args["x-max-length-bytes"] !== undefined ? "max" : null,
      args["x-dead-letter-exchange"] !== undefined ? "DLX" : null,
      args["x-expires"] !== undefined ? "exp" : null,
      args["x-single-active-consumer"] === true ? "SAC" : null,
      args["x-max-priority"] !== undefined ? "prio" : null,
    ].filter(Boolean);
    const barWidth = node.w - 24;
    parts.ready = s("rect", { class: "bar-ready", x: 12, y: 28, height: 9, width: 0 });
    parts.unacked = s("rect", { class: "bar-unacked", x: 12, y: 28, height: 9, width: 0 });
    parts.sub = s("text", { class: "node-sub", x: 12, y: 52 }, "");
    parts.barWidth = barWidth;
    const argText = Object.entries(args).map(([k, v]) => `${k}=${jsonText(v)}`).join(", ");
    g.append(
      s("title", {}, `queue ${node.name}${argText ? `\n${argText}` : ""}`),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: 6 }),
      title(node.name, badges.length ? 15 : 21),
      badges.length ? s("text", { class: "node-badges", x: node.w - 10, y: 18, "text-anchor": "end" }, badges.join(" ")) : null,
      s("rect", { class: "bar-track", x: 12, y: 28, height: 9, width: barWidth, rx: 2 }),
      parts.ready,
      parts.unacked,
      parts.sub,
    );
    parts.update = (scale) => {
      const q = model.queues.get(node.name) || { ready: 0, unacked: 0 };
      const memo = `${q.ready}/${q.unacked}/${scale}`;
      if (parts.memo === memo) return;
      parts.memo = memo;
      const readyW = Math.min(barWidth, (q.ready / scale) * barWidth);
      const unackedW = Math.min(barWidth - readyW, (q.unacked / scale) * barWidth);
      parts.ready.setAttribute("width", readyW.toFixed(1));
      parts.unacked.setAttribute("x", (12 + readyW).toFixed(1));
      parts.unacked.setAttribute("width", unackedW.toFixed(1));
      parts.sub.textContent = `${fmtNumber(q.ready)} ready · ${fmtNumber(q.unacked)} unacked`;
      g.dataset.ready = String(q.ready);
      g.dataset.unacked = String(q.unacked);
    };
  } else if (node.kind === "consumer") {
    const consumer = model.consumers.get(node.name);
    const label = consumer?.channel || consumer?.connection || node.name;
    g.append(
      s("title", {}, `consumer ${node.name} on ${label}`),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: node.h / 2 }),
      s("text", { class: "node-title", x: 18, y: 19 }, shorten(label, 18)),
    );
    parts.sub = s("text", { class: "node-sub", x: 18, y: 34 }, "");
    g.append(parts.sub);
    parts.update = () => {
      const c = model.consumers.get(node.name);
      if (!c) return;
      const text = c.ack_required ? `manual ack · ${c.unacked}/${c.prefetch_count || "∞"} unacked` : "auto ack";
      if (parts.sub.textContent !== text) parts.sub.textContent = text;
    };
  }
  return parts;
}

function updateNumbers() {
  if (!view) return;
  let scale = 10;
  for (const q of model.queues.values()) scale = Math.max(scale, q.ready + q.unacked);
  for (const parts of view.elements.values()) parts.update?.(scale);
}

let drawPending = false;
function structureChanged() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

// --- message animation -------------------------------------------------------------------------

const tokens = [];
const journeys = new Map(); // message id → {until: ms when its current animation ends}
let running = false;
const startTimes = []; // when recent journeys started (for the sampling rate)
let sampleEvery = 1;
let serverSampled = 0;

function speedDuration(length) {
  return Math.max(260, Math.min(1000, length * 2.6));
}

function pointAt(points, cumulative, distance) {
  let i = 1;
  while (i < cumulative.length - 1 && cumulative[i] < distance) i++;
  const span = cumulative[i] - cumulative[i - 1] || 1;
  const t = Math.max(0, Math.min(1, (distance - cumulative[i - 1]) / span));
  const [x1, y1] = points[i - 1];
  const [x2, y2] = points[i];
  return [x1 + (x2 - x1) * t, y1 + (y2 - y1) * t];
}

const SHAPES = {
  message: () => s("circle", { class: "token token-message", r: 5.5 }),
  redelivered: () => s("circle", { class: "token token-redelivered", r: 5.5 }),
  requeue: () => s("path", { class: "token token-requeue", d: "M-6,0 L5,-6 L5,6 Z" }),
  "dead-letter": () => s("path", { class: "token token-dead-letter", d: "M0,-7 L7,0 L0,7 L-7,0 Z" }),
  returned: () => s("circle", { class: "token token-returned", r: 5 }),
  expired: () => s("circle", { class: "token token-expired", r: 7 }),
  dropped: () => s("rect", { class: "token token-dropped", x: -5, y: -5, width: 10, height: 10 }),
  unroutable: () => s("path", { class: "token token-unroutable", d: "M-6,-6 L6,6 M6,-6 L-6,6" }),
  acked: () => s("circle", { class: "token token-acked", r: 6 }),
  rejected: () => s("path", { class: "token token-unroutable", d: "M-5,-5 L5,5 M5,-5 L-5,5" }),
};

function journeyStart(id) {
  const now = performance.now();
  const journey = journeys.get(id);
  return journey ? Math.max(now, journey.until) : now;
}

function setJourney(id, until) {
  journeys.set(id, { until, touched: performance.now() });
}

/** Move a token of `shape` along `points` for message `id`, after its previous move. */
function move(id, points, shape, { start, reverse = false } = {}) {
  if (!points || tokens.length >= MAX_TOKENS) return null;
  const path = reverse ? [...points].reverse() : points;
  const cumulative = measure(path);
  const begin = start ?? journeyStart(id);
  if (begin - performance.now() > 3000) return null; // too far behind: skip rather than lag
  const duration = speedDuration(cumulative[cumulative.length - 1]);
  const element = SHAPES[shape]();
  element.setAttribute("visibility", "hidden");
  layers.tokens.append(element);
  tokens.push({ element, path, cumulative, begin, duration, kind: "move" });
  setJourney(id, Math.max(journeys.get(id)?.until || 0, begin + duration));
  run();
  return begin + duration;
}

/** A burst (ring, cross, falling square) at a point, when message `id` gets there. */
function burst(id, point, shape, { start, duration = 700, fall = 0 } = {}) {
  if (!point || tokens.length >= MAX_TOKENS) return;
  const begin = start ?? journeyStart(id);
  if (begin - performance.now() > 3000) return;
  const element = SHAPES[shape]();
  element.setAttribute("visibility", "hidden");
  layers.tokens.append(element);
  tokens.push({ element, point, begin, duration, fall, kind: "burst" });
  run();
}

function run() {
  if (running) return;
  running = true;
  requestAnimationFrame(frame);
}

function frame(now) {
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
  if (tokens.length) requestAnimationFrame(frame);
  else running = false;
}

function edge(kind, from, to) {
  return view?.edges.get(`${kind}|${from}|${to}`);
}

function nodePoint(id, where = "center") {
  const node = view?.nodes.get(id);
  if (!node) return null;
  if (where === "right") return [node.x + node.w, node.y + node.h / 2];
  if (where === "left") return [node.x, node.y + node.h / 2];
  if (where === "bottom") return [node.x + node.w / 2, node.y + node.h];
  return [node.x + node.w / 2, node.y + node.h / 2];
}

function stub(from, dx) {
  return [from, [from[0] + dx / 2, from[1]], [from[0] + dx, from[1]]];
}

// Which messages to animate: by a hash of the id (not id % N, which would correlate with the
// server's own sampling by id), so one message is followed through all its steps.
function sampled(id) {
  return sampleEvery <= 1 || Math.imul(Number(id) | 0, 2654435761) >>> 0 < 4294967296 / sampleEvery;
}

function noteJourneyStart() {
  const now = performance.now();
  startTimes.push(now);
  while (startTimes.length && now - startTimes[0] > 2000) startTimes.shift();
}

function updateSampling() {
  const now = performance.now();
  while (startTimes.length && now - startTimes[0] > 2000) startTimes.shift();
  const rate = startTimes.length / 2;
  const wanted = rate > TARGET_JOURNEYS_PER_SECOND ? Math.ceil(rate / TARGET_JOURNEYS_PER_SECOND) : 1;
  // Change the sampling only by a clear margin, so it does not flicker.
  if (wanted > sampleEvery || wanted < sampleEvery / 2) sampleEvery = wanted;
  const every = sampleEvery * Math.max(1, serverSampled);
  samplingNote.hidden = every <= 1;
  samplingNote.textContent = every > 1 ? `busy: animating about 1 message in ${every}` : "";
}

function animate(e) {
  if (!view || !animateBox.checked || document.hidden) return;
  const id = e.message_id;
  switch (e.type) {
    case "published": {
      noteJourneyStart();
      if (!sampled(id)) return;
      const path = edge("publish", `p:${e.connection}`, `x:${e.exchange}`);
      const target = nodePoint(`x:${e.exchange}`, "left");
      move(id, path ? path.points : target && stub([target[0] - 60, target[1]], 60), "message");
      return;
    }
    case "routed": {
      if (!sampled(id)) return;
      const arrivals = new Map([[e.exchange, journeyStart(id)]]);
      if (e.exchange === "") {
        for (const q of e.queues || []) {
          const path = edge("default", "x:", `q:${q}`);
          if (path) move(id, path.points, "message", { start: arrivals.get("") });
        }
        return;
      }
      const pending = [...(e.matched || [])];
      for (let round = 0; round < 8 && pending.length; round++) {
        for (let i = pending.length - 1; i >= 0; i--) {
          const b = pending[i];
          if (!arrivals.has(b.source)) continue;
          pending.splice(i, 1);
          const to = `${b.destination_type === "exchange" ? "x" : "q"}:${b.destination}`;
          const path = edge("binding", `x:${b.source}`, to);
          if (!path) continue;
          const end = move(id, path.points, "message", { start: arrivals.get(b.source) });
          if (b.destination_type === "exchange" && end) arrivals.set(b.destination, end);
        }
      }
      return;
    }
    case "unroutable": {
      const point = nodePoint(`x:${e.exchange}`, "right");
      burst(id, point, "unroutable", { duration: 1400 });
      showReason(e);
      e.traced?.then((full) => {
        if (full !== e) showReason(full);
      });
      return;
    }
    case "returned": {
      if (!sampled(id)) return;
      const path = edge("publish", `p:${e.connection}`, `x:${e.exchange}`);
      if (path) move(id, path.points, "returned", { reverse: true });
      return;
    }
    case "delivered": {
      if (!sampled(id)) return;
      const shape = e.redelivered ? "redelivered" : "message";
      const [kind, from] = isReplyKey(e.queue) ? ["reply", "x:"] : ["consume", `q:${e.queue}`];
      const path = e.consumer_tag && edge(kind, from, `c:${e.consumer_tag}`);
      if (path) move(id, path.points, shape);
      else {
        const from = nodePoint(`q:${e.queue}`, "right");
        if (from) move(id, stub(from, 46), shape);
      }
      if (e.auto_ack) {
        const at = e.consumer_tag ? nodePoint(`c:${e.consumer_tag}`, "left") : null;
        if (at) burst(id, at, "acked");
      }
      return;
    }
    case "acked": {
      if (!sampled(id)) return;
      const tag = lastOwner.get(ownerKey(e));
      const at = tag ? nodePoint(`c:${tag}`, "left") : nodePoint(`q:${e.queue}`, "right");
      burst(id, at && (tag ? at : [at[0] + 46, at[1]]), "acked");
      return;
    }
    case "nacked":
    case "rejected": {
      if (!sampled(id) || e.requeue) return; // a requeue is drawn by its "requeued" event
      const tag = lastOwner.get(ownerKey(e));
      const at = tag ? nodePoint(`c:${tag}`, "left") : nodePoint(`q:${e.queue}`, "right");
      burst(id, at && (tag ? at : [at[0] + 46, at[1]]), "rejected", { duration: 900 });
      return;
    }
    case "requeued": {
      if (!sampled(id)) return;
      const tag = lastOwner.get(ownerKey(e));
      const path = tag && edge("consume", `q:${e.queue}`, `c:${tag}`);
      if (path) move(id, path.points, "requeue", { reverse: true });
      else {
        const at = nodePoint(`q:${e.queue}`, "right");
        if (at) move(id, stub([at[0] + 46, at[1]], -46), "requeue");
      }
      return;
    }
    case "expired": {
      if (!sampled(id)) return;
      burst(id, nodePoint(`q:${e.queue}`, "center"), "expired", { duration: 1000 });
      return;
    }
    case "dropped": {
      if (!sampled(id)) return;
      burst(id, nodePoint(`q:${e.queue}`, "bottom"), "dropped", { duration: 1000, fall: 30 });
      return;
    }
    case "dead-lettered": {
      noteJourneyStart();
      if (!sampled(id)) return;
      const path = edge("dead-letter", `q:${e.queue}`, `x:${e.exchange}`);
      if (path) move(id, path.points, "dead-letter");
      return;
    }
    default:
  }
}

// Who held a delivery, remembered a little longer than the model does (the animation of an ack
// runs after the model has already forgotten the delivery).
const lastOwner = new Map();
function rememberOwner(e) {
  if (e.type === "delivered" && e.consumer_tag) {
    lastOwner.set(ownerKey(e), e.consumer_tag);
    if (lastOwner.size > 5000) lastOwner.delete(lastOwner.keys().next().value);
  }
}

// --- unroutable reasons ------------------------------------------------------------------------

const reasonTimers = new Map();
function wrap(text, width, maxLines) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && (line + " " + word).length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = shorten(`${lines[maxLines - 1]} …`, width);
  }
  return lines.map((l) => shorten(l, width));
}

function showReason(event) {
  const exchange = event.exchange;
  const node = view?.nodes.get(`x:${exchange}`);
  if (!node || !layers.notes) return;
  for (const old of layers.notes.querySelectorAll(".reason-note")) {
    if (old.dataset.exchange === exchange) old.remove();
  }
  const reasons = unroutableReasons(event);
  const text = `✗ unroutable ${JSON.stringify(event.routing_key ?? "")}: ${reasons[0]}${reasons.length > 1 ? ` (and ${reasons.length - 1} more)` : ""}`;
  // Under the exchange, reaching left into the gap before it: the binding labels to its right
  // stay readable.
  const chars = Math.floor((node.w + 50) / LABEL_CHAR);
  const lines = wrap(text, chars, 4);
  const width = Math.max(...lines.map((l) => l.length)) * LABEL_CHAR + 14;
  const note = s(
    "g",
    { class: "reason-note", transform: `translate(${(node.x + node.w - width).toFixed(1)} ${(node.y + node.h + 5).toFixed(1)})` },
    s("title", {}, reasons.join("\n")),
    s("rect", { width: width.toFixed(1), height: lines.length * 15 + 8, rx: 4 }),
    ...lines.map((line, i) => s("text", { x: 7, y: 15 + i * 15 }, line)),
  );
  note.dataset.exchange = exchange;
  layers.notes.append(note);
  clearTimeout(reasonTimers.get(exchange));
  reasonTimers.set(
    exchange,
    setTimeout(() => note.remove(), 6000),
  );
}

function noteUnroutable(e, traced) {
  unroutableNone.hidden = true;
  const reasons = h("ul", { class: "reasons" }, h("li", { class: "reason" }, unroutableReasons(e)[0]));
  const item = h(
    "li",
    { "data-message-id": String(e.message_id) },
    h("span", { class: "muted" }, fmtTime(e.time)),
    " ",
    h("a", { href: pages.exchange(VHOST, e.exchange), class: "entity-link" }, exchangeLabel(e.exchange)),
    " key ",
    h("code", { class: "key" }, e.routing_key ?? ""),
    reasons,
  );
  unroutableList.prepend(item);
  while (unroutableList.children.length > 6) unroutableList.lastElementChild.remove();
  traced.then((full) => {
    if (item.isConnected) reasons.replaceChildren(...unroutableReasons(full).map((r) => h("li", { class: "reason" }, r)));
  });
}

// --- totals and rates --------------------------------------------------------------------------

const SERIES = [
  { key: "published", label: "published" },
  { key: "delivered", label: "delivered" },
  { key: "acked", label: "acked" },
  { key: "unroutable", label: "unroutable" },
];
const chart = new LineChart(document.getElementById("rates"), SERIES, { unit: "/s" });

const totals = {
  current: {},
  previous: null,
  set(values) {
    this.current = { ...values };
    for (const { key } of SERIES) {
      const el = document.querySelector(`[data-total="${key}"]`);
      if (el) el.textContent = fmtNumber(values[key] ?? 0);
    }
  },
  sample() {
    const now = this.current;
    if (this.previous) {
      const rates = {};
      for (const { key } of SERIES) {
        rates[key] = Math.max(0, (now[key] || 0) - (this.previous[key] || 0));
        const el = document.querySelector(`[data-rate="${key}"]`);
        if (el) el.textContent = fmtRate(rates[key]);
      }
      chart.push(rates);
    }
    this.previous = { ...now };
  },
};
setInterval(() => {
  totals.sample();
  updateSampling();
  const now = performance.now();
  for (const [id, journey] of journeys) {
    if (now - journey.until > 10_000) journeys.delete(id);
  }
}, 1000);

// --- wiring ------------------------------------------------------------------------------------

function onSnapshot(frame) {
  loadSnapshot(frame);
  clear(unroutableList);
  unroutableNone.hidden = false;
  for (const e of (frame.events || []).filter((event) => event.type === "unroutable").slice(-6)) {
    e.traced = withTrace(e);
    noteUnroutable(e, e.traced);
  }
}

function onBatch(frame) {
  serverSampled = frame.sampled || 0;
  let structural = false;
  for (const e of frame.events || []) {
    rememberOwner(e);
    if (apply(e)) structural = true;
    if (e.type === "unroutable") {
      e.traced = withTrace(e);
      noteUnroutable(e, e.traced);
    }
  }
  if (frame.queues) {
    for (const [name, [ready, unacked, consumers]] of Object.entries(frame.queues)) {
      const q = model.queues.get(name);
      if (q) Object.assign(q, { ready, unacked, consumers });
    }
  }
  if (frame.totals) totals.set(frame.totals);
  if (structural) {
    // Draw first, then animate on the new picture.
    drawPending = false;
    draw();
  } else {
    updateNumbers();
  }
  for (const e of frame.events || []) animate(e);
}

showSystem.addEventListener("change", structureChanged);
animateBox.addEventListener("change", () => {
  if (!animateBox.checked) {
    for (const token of tokens) token.element.remove();
    tokens.length = 0;
  }
});

function buildLegend() {
  const legend = document.getElementById("legend");
  const items = [
    ["message", "message on its way"],
    ["redelivered", "redelivered"],
    ["acked", "acked"],
    ["requeue", "nacked / rejected → requeued"],
    ["dead-letter", "dead-lettered"],
    ["expired", "expired (TTL)"],
    ["dropped", "dropped (queue full)"],
    ["unroutable", "unroutable / rejected"],
  ];
  for (const [shape, label] of items) {
    const icon = s("svg", { viewBox: "-9 -9 18 18", width: 18, height: 18, "aria-hidden": "true" }, SHAPES[shape]());
    legend.append(h("li", {}, icon, label));
  }
  legend.append(
    h("li", {}, s("svg", { viewBox: "0 0 30 10", width: 30, height: 10, "aria-hidden": "true" }, s("path", { class: "edge edge-dead-letter", d: "M0,5 L30,5" })), "dead-letter route"),
    h("li", {}, s("svg", { viewBox: "0 0 30 10", width: 30, height: 10, "aria-hidden": "true" }, s("path", { class: "edge edge-default", d: "M0,5 L30,5" })), "default exchange (key = queue name)"),
    h("li", {}, s("svg", { viewBox: "0 0 30 10", width: 30, height: 10, "aria-hidden": "true" }, s("path", { class: "edge edge-reply", d: "M0,5 L30,5" })), "direct reply-to"),
  );
}

buildLegend();
connectLive({ onSnapshot, onBatch });
