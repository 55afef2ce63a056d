// model.js: the overview's picture of one vhost, as state built from the live frames. Pure: no
// DOM, no timers; a test feeds it frames and reads its state.
//
// A snapshot frame sets it all (exchanges, queues, bindings, consumers, totals, and from the
// snapshot's recent events the producers seen publishing and the queues reached through the
// default exchange); each batch frame then applies its events in order, then the queue depths
// and totals it carries (the server's counts win over anything the events implied). Consumers'
// unacked counts come from the events: who was handed which delivery, until it is settled.

import { jsonText } from "../lib/format.js";

// Direct reply-to: replies go from the default exchange straight to the requesting channel's
// consumer; its "queue" (amq.rabbitmq.reply-to.<key>) is no queue anyone can see.
const REPLY_PREFIX = "amq.rabbitmq.reply-to.";
export const isReplyKey = (name) => typeof name === "string" && name.startsWith(REPLY_PREFIX);

const OWNERS_KEPT = 20_000;

const bindingKey = (b) =>
  [b.source, b.destination_type, b.destination, b.routing_key, jsonText(b.arguments || {})].join("\u0000");

/** Who holds a delivery: one key per (connection, channel, delivery tag). */
export const ownerKey = (e) => `${e.connection}|${e.channel}|${e.delivery_tag}`;

export class Topology {
  constructor() {
    this.exchanges = new Map(); // name → {name, type, durable, auto_delete, internal, arguments}
    this.queues = new Map(); // name → {name, arguments, …, ready, unacked, consumers}
    this.bindings = new Map(); // bindingKey → binding
    this.consumers = new Map(); // tag → {consumer_tag, queue, ack_required, prefetch_count, unacked, …}
    this.producers = new Map(); // connection name → {name, published, exchanges: Set}
    this.usedExchanges = new Set(); // exchanges that have seen traffic (shows "" and amq.* ones)
    this.defaultRoutes = new Set(); // queues reached through the default exchange
    this.owners = new Map(); // ownerKey → consumer tag holding that unacked delivery
    this.totals = {}; // published, delivered, acked, unroutable … since the broker started
  }

  /** Replace everything with a snapshot frame. */
  load(frame) {
    const snap = frame.snapshot;
    for (const map of [this.exchanges, this.queues, this.bindings, this.consumers, this.producers]) map.clear();
    this.usedExchanges.clear();
    this.defaultRoutes.clear();
    this.owners.clear();
    for (const e of snap.exchanges) this.exchanges.set(e.name, { ...e });
    for (const q of snap.queues) {
      this.queues.set(q.name, { ...q, ready: q.messages_ready, unacked: q.messages_unacknowledged });
    }
    for (const b of snap.bindings) this.bindings.set(bindingKey(b), b);
    for (const c of snap.consumers) this.consumers.set(c.consumer_tag, { ...c });
    const open = new Set((snap.connections || []).map((c) => c.name));
    for (const event of frame.events || []) {
      if (event.type === "published" && open.has(event.connection)) this.notePublisher(event);
      if (event.type === "routed" && event.exchange === "") {
        for (const q of event.queues || []) this.defaultRoutes.add(q);
      }
    }
    this.totals = { ...snap.totals };
  }

  /** Apply a batch frame; true when the picture's structure changed (it must be laid out again). */
  applyBatch(frame) {
    let structural = false;
    for (const e of frame.events || []) {
      if (this.apply(e)) structural = true;
    }
    if (frame.queues) this.setDepths(frame.queues);
    if (frame.totals) this.totals = { ...frame.totals };
    return structural;
  }

  /** {name: [ready, unacked, consumers]}, as every batch carries them. */
  setDepths(queues) {
    for (const [name, [ready, unacked, consumers]] of Object.entries(queues)) {
      const q = this.queues.get(name);
      if (q) Object.assign(q, { ready, unacked, consumers });
    }
  }

  /** Apply one event; true when the picture's structure changed. */
  apply(e) {
    switch (e.type) {
      case "exchange.declared":
        this.exchanges.set(e.name, {
          name: e.name,
          type: e.exchange_type,
          durable: e.durable,
          auto_delete: e.auto_delete,
          internal: e.internal,
          arguments: e.arguments || {},
        });
        return true;
      case "exchange.deleted":
        this.exchanges.delete(e.name);
        this.usedExchanges.delete(e.name);
        return true;
      case "queue.declared":
        this.queues.set(e.name, { ...e, ready: 0, unacked: 0, consumers: 0 });
        return true;
      case "queue.deleted":
        this.queues.delete(e.name);
        this.defaultRoutes.delete(e.name);
        return true;
      case "binding.created":
        this.bindings.set(bindingKey(e), e);
        return true;
      case "binding.deleted":
        this.bindings.delete(bindingKey(e));
        return true;
      case "consumer.added":
        this.consumers.set(e.consumer_tag, { ...e, unacked: 0 });
        return true;
      case "consumer.cancelled":
        this.consumers.delete(e.consumer_tag);
        return true;
      case "connection.closed":
        return this.producers.delete(e.connection);
      case "published": {
        const hadExchange = this.usedExchanges.has(e.exchange);
        return this.notePublisher(e) || !hadExchange;
      }
      case "routed":
        return e.exchange === "" && this.noteDefaultRoutes(e.queues || []);
      case "delivered":
        this.noteDelivery(e);
        return false;
      case "acked":
      case "nacked":
      case "rejected":
        this.noteSettled(e);
        return false;
      default:
        return false;
    }
  }

  /** A connection seen publishing becomes a producer; true when it or its edge is new. */
  notePublisher(event) {
    const name = event.connection ?? "?";
    let producer = this.producers.get(name);
    const isNew = !producer;
    if (isNew) {
      producer = { name, published: 0, exchanges: new Set() };
      this.producers.set(name, producer);
    }
    producer.published += 1;
    this.usedExchanges.add(event.exchange);
    if (!producer.exchanges.has(event.exchange)) {
      producer.exchanges.add(event.exchange);
      return true;
    }
    return isNew;
  }

  noteDefaultRoutes(queues) {
    let added = false;
    for (const q of queues) {
      if (!this.defaultRoutes.has(q) && !isReplyKey(q)) {
        this.defaultRoutes.add(q);
        added = true;
      }
    }
    return added;
  }

  noteDelivery(e) {
    if (!e.consumer_tag || e.auto_ack) return;
    this.owners.set(ownerKey(e), e.consumer_tag);
    if (this.owners.size > OWNERS_KEPT) this.owners.delete(this.owners.keys().next().value);
    const consumer = this.consumers.get(e.consumer_tag);
    if (consumer) consumer.unacked += 1;
  }

  noteSettled(e) {
    const tag = this.owners.get(ownerKey(e));
    if (!tag) return;
    this.owners.delete(ownerKey(e));
    const consumer = this.consumers.get(tag);
    if (consumer) consumer.unacked = Math.max(0, consumer.unacked - 1);
  }
}

/** Messages per second from the running totals, sampled once a second. */
export class RateMeter {
  constructor(keys) {
    this.keys = keys;
    this.previous = null;
  }

  /** The rates since the last sample (null on the first one). */
  sample(totals) {
    const previous = this.previous;
    this.previous = { ...totals };
    if (!previous) return null;
    const rates = {};
    for (const key of this.keys) rates[key] = Math.max(0, (totals[key] || 0) - (previous[key] || 0));
    return rates;
  }
}
