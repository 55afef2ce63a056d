// describe.js: one event in words, for the event log and a message's history: what it is
// called in the page's language, where it happened, what it says, and which names it mentions
// (for the log's entity filter). The event's type itself (published, queue.declared …) is the
// broker's vocabulary and is shown as it is; the broker's reasons (why a message was dropped, a
// queue deleted, a channel closed) are said in the page's language from their messages
// (lib/phrases.js); RabbitMQ's reply texts and x-death reasons are shown as the broker wrote them.

import { exchangeLabel } from "../lib/api.js";
import { jsonText, shorten } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { said } from "../lib/phrases.js";
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

// What each event type is called in the page's language.
const LABELS = {
  published: () => t("published"),
  routed: () => t("routed"),
  unroutable: () => t("unroutable"),
  returned: () => t("returned"),
  confirm: () => t("confirm"),
  enqueued: () => t("enqueued"),
  delivered: () => t("delivered"),
  "get.empty": () => t("basic.get found nothing"),
  acked: () => t("acked"),
  nacked: () => t("nacked"),
  rejected: () => t("rejected"),
  requeued: () => t("requeued"),
  expired: () => t("expired"),
  "dead-lettered": () => t("dead-lettered"),
  dropped: () => t("dropped"),
  "exchange.declared": () => t("exchange declared"),
  "exchange.deleted": () => t("exchange deleted"),
  "queue.declared": () => t("queue declared"),
  "queue.deleted": () => t("queue deleted"),
  "queue.purged": () => t("queue purged"),
  "binding.created": () => t("binding created"),
  "binding.deleted": () => t("binding deleted"),
  "connection.opened": () => t("connection opened"),
  "connection.closed": () => t("connection closed"),
  "channel.opened": () => t("channel opened"),
  "channel.closed": () => t("channel closed"),
  "consumer.added": () => t("consumer added"),
  "consumer.cancelled": () => t("consumer cancelled"),
  "vhost.created": () => t("vhost created"),
};

/** The event type's name in the page's language (the type itself when it has none). */
export function eventLabel(type) {
  return LABELS[type]?.() ?? type;
}

// A connection's kind, as the connections page names it.
const KINDS = {
  amqp: () => t("amqp"),
  python: () => t("python"),
  asyncio: () => t("asyncio"),
  simulation: () => t("simulation"),
  web: () => t("web"),
};

const key = (k) => `"${k ?? ""}"`;
const comma = () => t(", ");

// "durable, auto-delete": the flags a declare set.
function flagWords(e, names) {
  const words = {
    durable: () => t("durable"),
    exclusive: () => t("exclusive"),
    auto_delete: () => t("auto-delete"),
    internal: () => t("internal"),
  };
  return names.filter((name) => e[name]).map((name) => words[name]());
}

function describeTopology(e) {
  switch (e.type) {
    case "exchange.declared": {
      const flags = flagWords(e, ["durable", "auto_delete", "internal"]);
      const what = t("%(type)s exchange", { type: e.exchange_type });
      return flags.length ? [what, ...flags].join(comma()) : what;
    }
    case "queue.declared": {
      const flags = flagWords(e, ["durable", "exclusive", "auto_delete"]);
      const args = Object.entries(e.arguments || {}).map(([k, v]) => `${k}=${jsonText(v)}`);
      const what = [t("queue"), ...flags].join(comma());
      return args.length ? t("%(what)s; arguments %(args)s", { what, args: args.join(", ") }) : what;
    }
    case "queue.deleted": {
      const reason = said(e, "reason") || t("deleted");
      return e.messages ? t("%(reason)s; %(count)s messages gone", { reason, count: e.messages }) : reason;
    }
    case "queue.purged":
      return t("%(count)s messages purged", { count: e.count });
    case "binding.created":
    case "binding.deleted": {
      const args = Object.keys(e.arguments || {}).length ? jsonText(e.arguments) : null;
      const values = {
        source: exchangeLabel(e.source),
        kind: e.destination_type === "exchange" ? t("exchange") : t("queue"),
        destination: e.destination,
        key: key(e.routing_key),
        args,
      };
      return args
        ? t("%(source)s → %(kind)s %(destination)s, key %(key)s, arguments %(args)s", values)
        : t("%(source)s → %(kind)s %(destination)s, key %(key)s", values);
    }
    default:
      return null;
  }
}

function describePublished(e) {
  const body = e.message && typeof e.message.payload === "string" ? e.message : null;
  const values = {
    exchange: exchangeLabel(e.exchange),
    key: key(e.routing_key),
    size: e.size ?? "?",
    connection: e.connection ?? "?",
  };
  const said = t("to %(exchange)s with key %(key)s, %(size)s bytes from %(connection)s", values);
  if (!body) return said;
  const preview = `${body.payload_encoding === "base64" ? "(base64) " : ""}${JSON.stringify(shorten(body.payload, 40))}`;
  return `${said}: ${preview}`;
}

function describeDelivered(e) {
  const notes = [
    e.redelivered ? t("redelivered") : null,
    e.auto_ack ? t("auto-ack") : null,
  ].filter(Boolean);
  const said = t("to %(consumer)s, delivery tag %(tag)s", { consumer: e.consumer_tag || "basic.get", tag: e.delivery_tag });
  return [said, ...notes].join(comma());
}

function describeFlow(e) {
  switch (e.type) {
    case "published":
      return describePublished(e);
    case "routed": {
      const said = `${exchangeLabel(e.exchange)} → ${(e.queues || []).join(", ")}`;
      return e.cause && e.cause !== "published" ? `${said} (${e.cause})` : said;
    }
    case "unroutable":
      return t("%(exchange)s, key %(key)s: %(reason)s", { exchange: exchangeLabel(e.exchange), key: key(e.routing_key), reason: unroutableReason(e) });
    case "returned":
      return t("%(code)s %(text)s back to the publisher (mandatory)", { code: e.reply_code, text: e.reply_text });
    case "enqueued":
      return t("queue length now %(depth)s", { depth: e.depth });
    case "delivered":
      return describeDelivered(e);
    case "acked":
      return t("delivery tag %(tag)s on %(connection)s (%(channel)s)", { tag: e.delivery_tag, connection: e.connection, channel: e.channel });
    case "nacked":
    case "rejected":
      return e.requeue
        ? t("delivery tag %(tag)s, requeue=true", { tag: e.delivery_tag })
        : t("delivery tag %(tag)s, requeue=false", { tag: e.delivery_tag });
    case "requeued":
      return t("back in the queue at length %(depth)s, will be redelivered", { depth: e.depth });
    case "expired":
      return t("its TTL ran out");
    case "dead-lettered":
      return t("%(reason)s → exchange %(exchange)s with key %(keys)s", {
        reason: e.reason,
        exchange: exchangeLabel(e.exchange),
        keys: (e.routing_keys || []).map(key).join(", "),
      });
    case "dropped":
      return said(e, "reason") || "";
    case "confirm":
      return e.ack
        ? t("basic.ack for publish %(tag)s", { tag: e.delivery_tag })
        : t("basic.nack for publish %(tag)s", { tag: e.delivery_tag });
    case "get.empty":
      return t("basic.get found no message");
    default:
      return null;
  }
}

function describeClient(e) {
  switch (e.type) {
    case "consumer.added": {
      const values = {
        tag: e.consumer_tag,
        ack: e.ack_required ? t("manual ack") : t("auto ack"),
        prefetch: e.prefetch_count || "∞",
        priority: e.priority,
      };
      return e.priority
        ? t("%(tag)s: %(ack)s, prefetch %(prefetch)s, priority %(priority)s", values)
        : t("%(tag)s: %(ack)s, prefetch %(prefetch)s", values);
    }
    case "consumer.cancelled":
      return `${e.consumer_tag}`;
    case "connection.opened":
      return t("%(kind)s client, user %(user)s", { kind: KINDS[e.kind]?.() ?? e.kind ?? "", user: e.user ?? "?" });
    case "connection.closed":
      return said(e, "reason") || "";
    case "channel.opened":
      return t("channel %(channel)s", { channel: e.channel });
    case "channel.closed":
      return t("channel %(channel)s: %(reason)s", { channel: e.channel, reason: said(e, "reason") || "" });
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
  const exchange = (name) => t("exchange %(name)s", { name: exchangeLabel(name) });
  const queue = (name) => t("queue %(name)s", { name });
  if (e.type.startsWith("exchange.")) return exchange(e.name);
  if (e.type.startsWith("queue.") && e.name !== undefined) return queue(e.name);
  if (e.type.startsWith("binding.")) return exchange(e.source);
  if (e.type.startsWith("connection.") || e.type.startsWith("channel.")) return e.connection || "";
  if (e.queue !== undefined && e.queue !== null) return queue(e.queue);
  if (e.exchange !== undefined && e.exchange !== null) return exchange(e.exchange);
  return e.connection || "";
}
