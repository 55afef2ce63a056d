// draw.js: the overview's SVG: columns, edges with their binding keys, and one node per
// producer, exchange, queue and consumer, each a link to its page. Numbers that change with
// every batch (queue bars, unacked counts) are updated in place; the rest is drawn again only
// when the structure changes. Names are user data: text nodes and attributes only. Every word
// is said through t(): the overview draws the diagram and legend again on a language switch.

import { exchangeLabel, pages } from "../lib/api.js";
import { clear, h, s } from "../lib/dom.js";
import { displayWidth, fmtNumber, jsonText, shorten } from "../lib/format.js";
import { t } from "../lib/i18n.js";

export const LABEL_CHAR = 6.6; // px per column of the 11px monospace edge labels (a Chinese character takes two)

/** The message tokens, by what happened to the message (the legend shows each). */
export const SHAPES = {
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

// Bottom to top; labels above nodes so a long binding key stays readable.
const LAYERS = { columns: "columns", edges: "edges", nodes: "nodes", labels: "edge-labels", tokens: "tokens", notes: "notes" };

const EDGE_TITLES = {
  "dead-letter": () => t("dead letters go to this exchange"),
  default: () => t("default exchange: routing key = queue name"),
  reply: () => t("direct reply-to: replies skip the queues"),
};

const COLUMN_TITLES = {
  producer: () => t("producers"),
  exchange: () => t("exchanges"),
  queue: () => t("queues"),
  consumer: () => t("consumers"),
};

const pathD = (points) => `M${points.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(" L")}`;

function bindingLabel(binding, exchangeType) {
  const args = Object.entries(binding.arguments || {});
  if (exchangeType === "headers" || (args.length && !binding.routing_key)) {
    return args.map(([k, v]) => `${k}=${jsonText(v)}`).join(" ") || t("(no headers)");
  }
  if (exchangeType === "fanout") return binding.routing_key ? t("%(key)s (ignored)", { key: binding.routing_key }) : "";
  return binding.routing_key === "" ? '""' : binding.routing_key;
}

/** The diagram in one <svg>: `draw(model, lay)` after a change of structure, `updateNumbers(model)`
 * after every batch. `view` is the current layout; `layers.tokens` and `layers.notes` are where
 * the animation and the unroutable notes go. */
export class Diagram {
  constructor(svg, emptyNote, vhost) {
    this.svg = svg;
    this.emptyNote = emptyNote;
    this.vhost = vhost;
    this.view = null;
    this.layers = {};
  }

  draw(model, lay) {
    const { svg } = this;
    const hasContent = [...lay.nodes.values()].some((n) => n.kind === "exchange" || n.kind === "queue");
    this.emptyNote.hidden = hasContent;
    svg.hidden = !hasContent;
    svg.setAttribute("viewBox", `0 0 ${lay.width} ${lay.height}`);
    svg.style.setProperty("--diagram-width", `${lay.width}px`);
    clear(svg);
    const layers = {};
    for (const [name, cls] of Object.entries(LAYERS)) {
      layers[name] = s("g", { class: cls });
      svg.append(layers[name]);
    }
    this.layers = layers;

    drawColumns(layers.columns, lay.columns);
    for (const edge of lay.edges.values()) {
      const path = s("path", { class: `edge edge-${edge.kind}`, d: pathD(edge.points) });
      if (EDGE_TITLES[edge.kind]) path.append(s("title", {}, EDGE_TITLES[edge.kind]()));
      layers.edges.append(path);
    }
    drawBindingLabels(layers.labels, lay, model);
    const updates = [];
    for (const node of lay.nodes.values()) {
      const { root, update } = this.drawNode(node, model);
      layers.nodes.append(root);
      if (update) updates.push(update);
    }
    this.view = { ...lay, updates };
    this.updateNumbers(model);
  }

  updateNumbers(model) {
    if (!this.view) return;
    let scale = 10;
    for (const q of model.queues.values()) scale = Math.max(scale, q.ready + q.unacked);
    for (const update of this.view.updates) update(model, scale);
  }

  /** The edge of `kind` between two node ids, if it is drawn. */
  edge(kind, from, to) {
    return this.view?.edges.get(`${kind}|${from}|${to}`);
  }

  /** A point on a node's box: its centre, or the middle of its left, right or bottom side. */
  nodePoint(id, where = "center") {
    const node = this.view?.nodes.get(id);
    if (!node) return null;
    if (where === "right") return [node.x + node.w, node.y + node.h / 2];
    if (where === "left") return [node.x, node.y + node.h / 2];
    if (where === "bottom") return [node.x + node.w / 2, node.y + node.h];
    return [node.x + node.w / 2, node.y + node.h / 2];
  }

  nodeLink(node, model) {
    if (node.kind === "queue") return pages.queue(this.vhost, node.name);
    if (node.kind === "exchange") return pages.exchange(this.vhost, node.name);
    if (node.kind === "consumer") {
      const consumer = model.consumers.get(node.name);
      return consumer ? pages.queue(this.vhost, consumer.queue) : null;
    }
    return null;
  }

  drawNode(node, model) {
    const link = this.nodeLink(node, model);
    const root = link ? s("a", { href: link, class: "node-link" }) : s("g");
    const g = s("g", {
      class: `node node-${node.kind}`,
      transform: `translate(${node.x} ${node.y})`,
      "data-node": node.kind,
      "data-name": node.name,
    });
    root.append(g);
    return { root, update: NODE_DRAWERS[node.kind](g, node, model) };
  }
}

function drawColumns(layer, columns) {
  for (const col of columns) {
    layer.append(s("text", { class: "column-title", x: col.x + col.w / 2, y: 20, "text-anchor": "middle" }, COLUMN_TITLES[col.kind]()));
    if (!col.ids.length && col.kind === "producer") {
      layer.append(
        s("text", { class: "column-hint", x: col.x + col.w / 2, y: 40, "text-anchor": "middle" }, t("publishers appear here")),
      );
    }
  }
}

/** Binding keys on their edges, pushed down (greedily, top to bottom) until none overlap. */
function drawBindingLabels(layer, lay, model) {
  const placed = [];
  for (const edge of lay.edges.values()) {
    if (edge.kind !== "binding") continue;
    const source = model.exchanges.get(lay.nodes.get(edge.from).name);
    const labels = edge.bindings.map((b) => bindingLabel(b, source?.type)).filter((t) => t !== "");
    if (!labels.length) continue;
    const full = labels.join(" | ");
    const text = shorten(full, 28);
    const width = displayWidth(text) * LABEL_CHAR + 10;
    const middle = edge.points[Math.round((edge.points.length - 1) * 0.5)];
    placed.push({ full, text, width, x: middle[0] - width / 2, y: middle[1] - 9 });
  }
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
    layer.append(
      s(
        "g",
        { class: "edge-label", transform: `translate(${label.x.toFixed(1)} ${label.y.toFixed(1)})` },
        s("title", {}, t("binding key: %(key)s", { key: label.full })),
        s("rect", { width: label.width.toFixed(1), height: 18, rx: 4 }),
        s("text", { x: 5, y: 13 }, label.text),
      ),
    );
  }
}

const nodeTitle = (text, max) => s("text", { class: "node-title", x: 12, y: 19 }, shorten(text, max));

// One drawer per kind of node: it fills the node's <g> and returns update(model, scale), which
// refreshes the numbers in it after a batch (or nothing, when none change).
const NODE_DRAWERS = {
  producer(g, node) {
    const sub = s("text", { class: "node-sub", x: 12, y: 33 }, "");
    g.append(
      s("title", {}, t("producer: connection %(name)s", { name: node.name })),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: 8 }),
      nodeTitle(node.name, 19),
      sub,
    );
    const update = (model) => {
      const text = t("published %(n)s", { n: fmtNumber(model.producers.get(node.name)?.published || 0) });
      if (sub.textContent !== text) sub.textContent = text;
    };
    return update;
  },

  exchange(g, node, model) {
    const exchange = model.exchanges.get(node.name);
    const type = exchange?.type || "?";
    g.classList.add(`type-${type}`);
    g.append(
      s(
        "title",
        {},
        exchange?.internal
          ? t("%(type)s exchange %(name)s (internal)", { type, name: exchangeLabel(node.name) })
          : t("%(type)s exchange %(name)s", { type, name: exchangeLabel(node.name) }),
      ),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: 6 }),
      s("rect", { class: "type-stripe", width: 5, height: node.h, rx: 2 }),
      nodeTitle(exchangeLabel(node.name), 20),
      s("text", { class: "node-sub", x: 12, y: 36 }, type),
    );
    return null;
  },

  queue(g, node, model) {
    const args = model.queues.get(node.name)?.arguments || {};
    const badges = queueBadges(args);
    const barWidth = node.w - 24;
    const ready = s("rect", { class: "bar-ready", x: 12, y: 28, height: 9, width: 0 });
    const unacked = s("rect", { class: "bar-unacked", x: 12, y: 28, height: 9, width: 0 });
    const sub = s("text", { class: "node-sub", x: 12, y: 52 }, "");
    const argText = Object.entries(args).map(([k, v]) => `${k}=${jsonText(v)}`).join(", ");
    g.append(
      s("title", {}, [t("queue %(name)s", { name: node.name }), argText].filter(Boolean).join("\n")),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: 6 }),
      nodeTitle(node.name, badges.length ? Math.max(6, Math.min(15, 22 - displayWidth(badges.join(" ")))) : 21),
      badges.length ? s("text", { class: "node-badges", x: node.w - 10, y: 18, "text-anchor": "end" }, badges.join(" ")) : null,
      s("rect", { class: "bar-track", x: 12, y: 28, height: 9, width: barWidth, rx: 2 }),
      ready,
      unacked,
      sub,
    );
    let memo = null;
    const update = (current, scale) => {
      const q = current.queues.get(node.name) || { ready: 0, unacked: 0 };
      const now = `${q.ready}/${q.unacked}/${scale}`;
      if (memo === now) return;
      memo = now;
      const readyW = Math.min(barWidth, (q.ready / scale) * barWidth);
      const unackedW = Math.min(barWidth - readyW, (q.unacked / scale) * barWidth);
      ready.setAttribute("width", readyW.toFixed(1));
      unacked.setAttribute("x", (12 + readyW).toFixed(1));
      unacked.setAttribute("width", unackedW.toFixed(1));
      sub.textContent = t("%(ready)s ready · %(unacked)s unacked", { ready: fmtNumber(q.ready), unacked: fmtNumber(q.unacked) });
      g.dataset.ready = String(q.ready);
      g.dataset.unacked = String(q.unacked);
    };
    return update;
  },

  consumer(g, node, model) {
    const consumer = model.consumers.get(node.name);
    const label = consumer?.channel || consumer?.connection || node.name;
    const sub = s("text", { class: "node-sub", x: 18, y: 34 }, "");
    g.append(
      s("title", {}, t("consumer %(tag)s on %(channel)s", { tag: node.name, channel: label })),
      s("rect", { class: "node-box", width: node.w, height: node.h, rx: node.h / 2 }),
      s("text", { class: "node-title", x: 18, y: 19 }, shorten(label, 18)),
      sub,
    );
    const update = (current) => {
      const c = current.consumers.get(node.name);
      if (!c) return;
      const text = c.ack_required
        ? t("manual ack · %(unacked)s/%(prefetch)s unacked", { unacked: fmtNumber(c.unacked), prefetch: c.prefetch_count || "∞" })
        : t("auto ack");
      if (sub.textContent !== text) sub.textContent = text;
    };
    return update;
  },
};

// The queue's arguments at a glance: RabbitMQ's own abbreviations (TTL, DLX, SAC) stay; the
// others are said in the page's language.
function queueBadges(args) {
  return [
    args["x-message-ttl"] !== undefined ? "TTL" : null,
    args["x-max-length"] !== undefined || args["x-max-length-bytes"] !== undefined ? t("max") : null,
    args["x-dead-letter-exchange"] !== undefined ? "DLX" : null,
    args["x-expires"] !== undefined ? t("exp") : null,
    args["x-single-active-consumer"] === true ? "SAC" : null,
    args["x-max-priority"] !== undefined ? t("prio") : null,
  ].filter(Boolean);
}

/** The legend under the diagram: every token shape, and the special edges (drawn again in
 * another language). */
export function drawLegend(legend) {
  const items = [
    ["message", t("message on its way")],
    ["redelivered", t("redelivered")],
    ["acked", t("acked")],
    ["requeue", t("nacked / rejected → requeued")],
    ["dead-letter", t("dead-lettered")],
    ["expired", t("expired (TTL)")],
    ["dropped", t("dropped (queue full)")],
    ["unroutable", t("unroutable / rejected")],
  ];
  clear(legend);
  for (const [shape, label] of items) {
    const icon = s("svg", { viewBox: "-9 -9 18 18", width: 18, height: 18, "aria-hidden": "true" }, SHAPES[shape]());
    legend.append(h("li", {}, icon, label));
  }
  const edgeItem = (kind, label) =>
    h("li", {}, s("svg", { viewBox: "0 0 30 10", width: 30, height: 10, "aria-hidden": "true" }, s("path", { class: `edge edge-${kind}`, d: "M0,5 L30,5" })), label);
  legend.append(
    edgeItem("dead-letter", t("dead-letter route")),
    edgeItem("default", t("default exchange (key = queue name)")),
    edgeItem("reply", t("direct reply-to")),
  );
}
