"""Messages: what a producer publishes, what sits in a queue, and what a consumer is handed.

A published `Message` is shared by every queue it was routed to (like RabbitMQ, the body is not
copied); each queue keeps a small `QueueEntry` of its own (position, expiry, redelivered flag).
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field, fields
from typing import Any

from broker.translatable import N_, TranslatableError

PROPERTY_NAMES = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
    "cluster_id",
)


@dataclass(slots=True)
class Properties:
    """AMQP basic properties (the content header), named as in pika and the AMQP spec."""

    content_type: str | None = None
    content_encoding: str | None = None
    headers: dict[str, Any] | None = None
    delivery_mode: int | None = None
    priority: int | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    expiration: str | None = None
    message_id: str | None = None
    timestamp: int | None = None
    type: str | None = None
    user_id: str | None = None
    app_id: str | None = None
    cluster_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Only the properties that are set, as RabbitMQ's management API shows them."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    @property
    def persistent(self) -> bool:
        return self.delivery_mode == 2


EMPTY_PROPERTIES = Properties()
MAX_SHORTSTR_BYTES = 255  # AMQP short strings: names, keys and most properties
HISTORY_BODY_BYTES = 2048  # what the event history keeps of a body: no page shows more
_message_ids = itertools.count(1)


class Message:
    """One published message. `amqp_header` keeps the raw content header from an AMQP client
    so it can be forwarded unchanged (some header value types do not round-trip)."""

    __slots__ = (
        "id",
        "exchange",
        "routing_key",
        "body",
        "properties",
        "published_at",
        "amqp_header",
    )

    def __init__(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Properties = EMPTY_PROPERTIES,
        published_at: float = 0.0,
        amqp_header: bytes | None = None,
        message_id: int | None = None,
    ) -> None:
        # A dead-lettered copy keeps its original's id, so a message's history reads as one story.
        self.id = next(_message_ids) if message_id is None else message_id
        self.exchange = exchange
        self.routing_key = routing_key
        self.body = body
        self.properties = properties
        self.published_at = published_at
        self.amqp_header = amqp_header

    @property
    def headers(self) -> dict[str, Any]:
        return self.properties.headers or {}

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return len(self.body)

    def for_history(self) -> Message:
        """This message as the event history keeps it: a large body cut short, so that the
        history (20,000 events) does not keep thousands of large messages in memory."""
        return self if len(self.body) <= HISTORY_BODY_BYTES else MessagePreview(self)

    def __repr__(self) -> str:
        return f"<Message #{self.id} {self.exchange!r}/{self.routing_key!r} {self.size}B>"


class MessagePreview(Message):
    """A large message as the event history keeps it: its envelope, properties and id, the
    first HISTORY_BODY_BYTES of its body, and the size of the whole body."""

    __slots__ = ("size",)

    def __init__(self, message: Message) -> None:
        super().__init__(
            message.exchange,
            message.routing_key,
            message.body[:HISTORY_BODY_BYTES],
            message.properties,
            message.published_at,
            message_id=message.id,
        )
        self.size = message.size


class QueueEntry:
    """A message's place in one queue: its position (`seq`), expiry and redelivered flag."""

    __slots__ = ("message", "seq", "expires_at", "redelivered")

    def __init__(self, message: Message, seq: int, expires_at: float | None) -> None:
        self.message = message
        self.seq = seq
        self.expires_at = expires_at
        self.redelivered = False


@dataclass(slots=True)
class Delivery:
    """What a consumer (or basic.get) receives: the message plus its delivery envelope."""

    message: Message
    queue: str
    delivery_tag: int
    redelivered: bool
    consumer_tag: str | None = None
    message_count: int | None = None  # basic.get only: ready messages left after this one
    channel: Any = field(default=None, repr=False)

    @property
    def body(self) -> bytes:
        return self.message.body

    @property
    def properties(self) -> Properties:
        return self.message.properties

    @property
    def exchange(self) -> str:
        return self.message.exchange

    @property
    def routing_key(self) -> str:
        return self.message.routing_key


def describe_message(message: Message, body_limit: int = 2048) -> dict[str, Any]:
    """A message as the management API shows it: text when it is UTF-8, else base64."""
    body = message.body[:body_limit]
    try:
        payload, encoding = body.decode("utf-8"), "string"
    except UnicodeDecodeError:
        payload, encoding = base64.b64encode(body).decode(), "base64"
    return {
        "message_id": message.id,
        "exchange": message.exchange,
        "routing_key": message.routing_key,
        "payload": payload,
        "payload_encoding": encoding,
        "payload_bytes": message.size,
        "truncated": message.size > len(body),
        "properties": message.properties.to_dict(),
    }


_STRING_PROPERTIES = (
    "content_type",
    "content_encoding",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "type",
    "user_id",
    "app_id",
    "cluster_id",
)


def properties_from_json(values: Any) -> Properties:
    """AMQP basic properties from JSON values, with the types AMQP gives them.

    Raises ValueError (a TranslatableError) naming the property at fault, so a typo or a number
    where a string belongs is a clear 400 in the API rather than a failure deep in the broker.
    """
    if values is None:
        return Properties()
    if not isinstance(values, dict):
        raise TranslatableError(N_("'properties' must be an object"))
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in _STRING_PROPERTIES:
            if not isinstance(value, str):
                raise TranslatableError(N_("property '%(name)s' must be a string"), name=name)
            if len(value.encode("utf-8", "surrogatepass")) > MAX_SHORTSTR_BYTES:
                raise TranslatableError(
                    N_("property '%(name)s' is longer than %(limit)s bytes (UTF-8)"),
                    name=name,
                    limit=MAX_SHORTSTR_BYTES,
                )
        elif name in ("delivery_mode", "priority", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TranslatableError(N_("property '%(name)s' must be a whole number"), name=name)
            high = {"delivery_mode": 2, "priority": 255, "timestamp": 2**63 - 1}[name]
            low = 1 if name == "delivery_mode" else 0
            if not low <= value <= high:
                raise TranslatableError(
                    N_("property '%(name)s' must be between %(low)s and %(high)s"),
                    name=name,
                    low=low,
                    high=high,
                )
        elif name == "headers":
            if not isinstance(value, dict):
                raise TranslatableError(N_("property 'headers' must be an object"))
            for key in ("CC", "BCC"):
                keys = value.get(key)
                if keys is not None and (
                    not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
                ):
                    raise TranslatableError(
                        N_("header '%(key)s' must be a list of routing keys"), key=key
                    )
        else:
            raise TranslatableError(
                N_("unknown message property '%(name)s'; AMQP has: %(known)s"),
                name=name,
                known=", ".join(PROPERTY_NAMES),
            )
        checked[name] = value
    return Properties(**checked)
