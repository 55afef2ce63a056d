"""The event vocabulary: every event type the broker records, its fields and its family.

One place names them all. The broker's verbs record events by these names, the web layer sends
this table to the pages (which read it instead of keeping their own lists), and tests check that
every event the broker records is named here with the fields it carries.

Families say what an event is about, so a page can pick what it needs without a list of names:
`flow` events follow one message through the broker (sampled when the rate is high; every other
event changes what a page draws and is always sent), `problem` marks the flow events a student
should notice (a message lost, refused or sent back), `topology` the declared things, `client`
who is connected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FAMILIES = ("flow", "topology", "client", "broker")


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of event: its name, its family, the data fields it carries, and whether it is a
    problem a page highlights (a message lost, refused or returned)."""

    name: str
    family: str
    fields: tuple[str, ...]
    problem: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "fields": list(self.fields), "problem": self.problem}


_MESSAGE = ("vhost", "queue", "message_id")
_ON_CHANNEL = ("delivery_tag", "connection", "channel")
_ROUTED = (
    "vhost",
    "exchange",
    "exchange_type",
    "routing_key",
    "message_id",
    "cause",
    "queues",
    "matched",
    "trace",
)
_BINDING = (
    "vhost",
    "source",
    "destination",
    "destination_type",
    "routing_key",
    "arguments",
    "properties_key",
)

EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in (
        # --- a message's way through the broker -------------------------------------------
        EventType(
            "published",
            "flow",
            (
                "vhost",
                "exchange",
                "routing_key",
                "message_id",
                "size",
                "connection",
                "channel",
                "message",
            ),
        ),
        EventType(
            "routed",
            "flow",
            _ROUTED,
        ),
        EventType(
            "unroutable",
            "flow",
            _ROUTED,
            problem=True,
        ),
        EventType(
            "returned",
            "flow",
            ("vhost", "exchange", "routing_key", "message_id", "reply_code", "reply_text"),
            problem=True,
        ),
        EventType(
            "confirm",
            "flow",
            ("vhost", "connection", "channel", "delivery_tag", "ack", "message_id"),
        ),
        EventType("enqueued", "flow", (*_MESSAGE, "depth")),
        EventType(
            "delivered",
            "flow",
            (*_MESSAGE, "consumer_tag", *_ON_CHANNEL, "redelivered", "auto_ack"),
        ),
        EventType("get.empty", "flow", ("vhost", "queue")),
        EventType("acked", "flow", (*_MESSAGE, *_ON_CHANNEL)),
        EventType("nacked", "flow", (*_MESSAGE, *_ON_CHANNEL, "requeue"), problem=True),
        EventType("rejected", "flow", (*_MESSAGE, *_ON_CHANNEL, "requeue"), problem=True),
        EventType("requeued", "flow", (*_MESSAGE, *_ON_CHANNEL, "depth")),
        EventType("expired", "flow", _MESSAGE, problem=True),
        EventType(
            "dead-lettered",
            "flow",
            (*_MESSAGE, "reason", "exchange", "routing_keys"),
            problem=True,
        ),
        EventType("dropped", "flow", (*_MESSAGE, "reason"), problem=True),
        # --- what is declared -------------------------------------------------------------
        EventType(
            "exchange.declared",
            "topology",
            ("vhost", "name", "exchange_type", "durable", "auto_delete", "internal", "arguments"),
        ),
        EventType("exchange.deleted", "topology", ("vhost", "name")),
        EventType(
            "queue.declared",
            "topology",
            ("vhost", "name", "durable", "exclusive", "auto_delete", "arguments"),
        ),
        EventType("queue.deleted", "topology", ("vhost", "name", "reason", "messages")),
        EventType("queue.purged", "topology", ("vhost", "queue", "count")),
        EventType(
            "binding.created",
            "topology",
            _BINDING,
        ),
        EventType(
            "binding.deleted",
            "topology",
            _BINDING,
        ),
        # --- who is connected -------------------------------------------------------------
        EventType("connection.opened", "client", ("vhost", "connection", "user", "kind")),
        EventType("connection.closed", "client", ("vhost", "connection", "reason")),
        EventType("channel.opened", "client", ("vhost", "connection", "channel")),
        EventType(
            "channel.closed",
            "client",
            ("vhost", "connection", "channel", "reason", "reply_code"),
            problem=True,
        ),
        EventType(
            "consumer.added",
            "client",
            (
                "vhost",
                "consumer_tag",
                "queue",
                "channel",
                "connection",
                "ack_required",
                "exclusive",
                "prefetch_count",
                "priority",
                "activity_status",
                "unacked",
                "delivered",
            ),
        ),
        EventType(
            "consumer.cancelled",
            "client",
            ("vhost", "queue", "consumer_tag", "channel", "connection"),
        ),
        # --- the broker itself ------------------------------------------------------------
        EventType("vhost.created", "broker", ("vhost",)),
        EventType(
            "broker.recovered",
            "broker",
            ("path", "vhosts", "exchanges", "queues", "bindings", "seconds", "summary"),
        ),
        EventType("store.failed", "broker", ("path", "change", "error"), problem=True),
    )
}

FLOW_EVENTS = frozenset(name for name, e in EVENT_TYPES.items() if e.family == "flow")


def vocabulary() -> dict[str, dict[str, Any]]:
    """The table as plain data, for the pages: {type: {family, fields, problem}}."""
    return {name: event.to_dict() for name, event in EVENT_TYPES.items()}
