// layout.js: where the overview draws each thing. Columns left to right (producers →
// exchanges → queues → consumers), each ordered so edges cross less, and one edge per pair of
// nodes with the points it runs along. Deterministic and pure: the same topology always gives
// the same picture, and no DOM is touched.

import { arcPoints, curvePoints, lanePoints } from "./geometry.js";
import { isReplyKey } from "./model.js";

const SIZE = {
  producer: { w: 150, h: 40 },
  exchange: { w: 172, h: 46 },
  queue: { w: 184, h: 60 },
  consumer: { w: 188, h: 44 },
};
const GAP_AFTER = { producer: 110, exchange: 190, queue: 110, consumer: 0 };
const GAP_Y = 16;
const TOP = 44;
const MARGIN = 24;

const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const isSystem = (name) => name === "" || name.startsWith("amq.");

/** The exchanges worth drawing: the user's own, and a system one (the default, amq.*) only
 * when it has traffic or a binding or dead letters lead to it, or `showSystem` asks for all. */
function visibleExchanges(model, showSystem) {
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
    return showSystem || referenced.has(name) || model.usedExchanges.has(name);
  });
  const rank = (name) => (name === "" ? 0 : name.startsWith("amq.") ? 2 : 1);
  return names.sort((a, b) => rank(a) - rank(b) || byName(a, b));
}

function barycenterSort(items, neighbours, indexOf) {
  const score = new Map();
  for (const item of items) {
    const positions = neighbours(item).map(indexOf).filter((i) => i !== undefined);
    score.set(item, positions.length ? positions.reduce((a, b) => a + b, 0) / positions.length : Infinity);
  }
  return items.sort((a, b) => score.get(a) - score.get(b) || byName(a, b));
}

/** The four columns, each with its node ids in order. */
function columnsOf(model, showSystem) {
  const exchangeNames = visibleExchanges(model, showSystem);
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
  return [
    { kind: "producer", ids: producerNames.map((n) => ["p", n]) },
    { kind: "exchange", ids: exchangeNames.map((n) => ["x", n]) },
    { kind: "queue", ids: queueNames.map((n) => ["q", n]) },
    { kind: "consumer", ids: consumerTags.map((t) => ["c", t]) },
  ];
}

/** Each column's x and each node's box ("p:name", "x:name", "q:name", "c:tag"), columns
 * centred vertically on the tallest. */
function placeNodes(columns) {
  const heights = columns.map((col) => {
    const size = SIZE[col.kind];
    return col.ids.length ? col.ids.length * size.h + (col.ids.length - 1) * GAP_Y : 0;
  });
  const tallest = Math.max(120, ...heights);
  const nodes = new Map();
  let x = MARGIN;
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
    x += size.w + (columns[i + 1] ? GAP_AFTER[col.kind] : 0);
  });
  return { nodes, width: x + MARGIN, contentBottom: TOP + tallest };
}

/** One edge per (kind, from, to), carrying every binding between them; "kind|from|to" ids. */
function edgesOf(model, nodes) {
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
  return edges;
}

/** Gives every edge its points; returns the lowest y any of them reaches.
 * Edges are curves left to right; exchange-to-exchange bindings arc out to the right of the
 * exchange column and back; dead letters run along lanes under the diagram and come back
 * into their exchange from the left, like a publish (dead-lettering is a re-publish); direct
 * replies take a lane under the queues, which they skip. */
function routeEdges(edges, nodes, contentBottom) {
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
  return bottom;
}

/** The whole picture of `model` (a Topology): {nodes, edges, columns, width, height}. */
export function layout(model, { showSystem = false } = {}) {
  const columns = columnsOf(model, showSystem);
  const { nodes, width, contentBottom } = placeNodes(columns);
  const edges = edgesOf(model, nodes);
  const bottom = routeEdges(edges, nodes, contentBottom);
  return { nodes, edges, columns, width: Math.max(width, 640), height: bottom + 36 };
}
