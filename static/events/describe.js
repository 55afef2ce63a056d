// describe.js: one event in words, for the event log and a message's history: where it
// happened, what it says, and which names it mentions (for the log's entity filter).

import { exchangeLabel } from "../lib/api.js";
import { jsonText, shorten } from "../lib/format.js";
import { unroutableReason } from "../lib/routing.js";

/** Which names an event mentions: queues, exchanges, connections, consumer tags, routing keys. */
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

const key = (k) => `"${k ?? ""}"`;

function describeTopology(e) {
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
    default:
      return null;
  }
}

function describeFlow(e) {
  switch (e.type) {
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
    case "confirm":
      return `${e.ack ? "basic.ack" : "basic.nack"} for publish ${e.delivery_tag}`;
    case "get.empty":
      return "basic.get found no message";
    default:
      return null;
  }
}

function describeClient(e) {
  switch (e.type) {
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
    default:
      return null;
  }
}

/** What the event says, in a line. */
export function describeEvent(e) {
  return describeTopology(e) ?? describeFlow(e) ?? describeClient(e) ?? "";
}

/** Where it happened: the exchange, queue or connection it is about. */
export function eventWhere(e) {
  if (e.type.startsWith("exchange.")) return `exchange ${exchangeLabel(e.name)}`;
  if (e.type.startsWith("queue.") && e.name !== undefined) return `queue ${e.name}`;
  if (e.type.startsWith("binding.")) return `exchange ${exchangeLabel(e.source)}`;
  if (e.type.startsWith("connection.") || e.type.startsWith("channel.")) return e.connection || "";
  if (e.queue !== undefined && e.queue !== null) return `queue ${e.queue}`;
  if (e.exchange !== undefined && e.exchange !== null) return `exchange ${exchangeLabel(e.exchange)}`;
  return e.connection || "";
}
