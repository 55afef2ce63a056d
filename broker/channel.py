"""Connections, channels and consumers: who talks to the broker, and what they hold.

These are the broker's own records, free of I/O: an AMQP socket, an in-process Python client and
the web app each open a `Connection` and `Channel`s on it and call the channel's verbs, which are
named after the AMQP methods (queue_declare, basic_publish, basic_ack …).

Delivery tags are numbered per channel; publisher-confirm sequence numbers per confirm channel;
both start at 1. Unacknowledged deliveries belong to the channel: closing it requeues them,
cancelling a consumer does not.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from broker.errors import AMQPError, ChannelClosed, ConnectionClosed
from broker.message import Delivery, Message, Properties, QueueEntry
from broker.stats import CONNECTION_STATS, RateMeter

if TYPE_CHECKING:
    from broker.core import Broker
    from broker.queue import Queue

_connection_ids = itertools.count(1)


# A delivery waiting for ack/nack/reject: the queue it came from, its entry there, and the
# consumer holding it (None after basic.get). A plain tuple: one is made for every message.
Unacked = tuple["Queue", QueueEntry, "Consumer | None"]


@dataclass(slots=True)
class PublishResult:
    """What happened to one publish: the confirm a publisher would get, and any return."""

    routed_to: list[str]  # the names of the queues it was routed to
    confirmed: bool  # True = basic.ack, False = basic.nack (a queue refused it)
    returned: bool  # mandatory and unroutable: sent back with 312 NO_ROUTE
    sequence: int | None = None  # the confirm sequence number, in confirm mode
    message_id: int | None = None  # the broker's id for it, as in its events


@dataclass(slots=True)
class Returned:
    """A mandatory message that could not be routed (basic.return)."""

    reply_code: int
    reply_text: str
    message: Message


@dataclass(slots=True)
class DeclareOk:
    queue: str
    message_count: int
    consumer_count: int

    @property
    def method(self) -> DeclareOk:
        """pika returns a frame whose `.method` holds these fields; allow the same spelling."""
        return self


@dataclass(eq=False)
class Consumer:
    """One basic.consume: its queue, ack mode, prefetch and the sink deliveries go to.

    `sink` is called with each Delivery outside the broker lock, in delivery order. It must not
    block: a thread client hands the delivery to its worker, an asyncio client to its loop, the
    AMQP listener to its connection's writer.
    """

    tag: str
    queue: Queue
    channel: Channel
    no_ack: bool
    exclusive: bool
    prefetch: int
    sink: Callable[[Delivery], None]
    on_cancel: Callable[[str], None] | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    priority: int = 0  # x-priority: higher goes first (queue.next_consumer)
    direct_reply: bool = False  # consumes amq.rabbitmq.reply-to (reply_to.py)
    unacked: int = 0
    delivered: int = 0

    def can_take(self) -> bool:
        channel = self.channel
        if not channel.flow_active:
            return False
        if channel.delivery_credit is not None and channel.delivery_credit <= 0:
            return False
        if self.direct_reply:  # RabbitMQ hands replies to the channel past its prefetch limits
            return True
        if self.prefetch and self.unacked >= self.prefetch:
            return False
        channel_limit = channel.global_prefetch
        return not channel_limit or len(channel.unacked) < channel_limit

    def info(self) -> dict[str, Any]:
        return {
            "consumer_tag": self.tag,
            "queue": self.queue.name,
            "channel": self.channel.label,
            "connection": self.channel.connection.name,
            "ack_required": not self.no_ack,
            "exclusive": self.exclusive,
            "prefetch_count": self.prefetch,
            "priority": self.priority,
            "activity_status": self.activity_status,
            "unacked": self.unacked,
            "delivered": self.delivered,
        }

    @property
    def activity_status(self) -> str:
        """RabbitMQ's words: "up", or "single_active" / "waiting" on a single-active queue."""
        if not self.queue.single_active:
            return "up"
        return "single_active" if self.queue.active_consumer is self else "waiting"


class Connection:
    """A client's connection: a name, a user, a vhost, and its channels."""

    def __init__(
        self,
        broker: Broker,
        name: str,
        vhost: str,
        user: str,
        kind: str,
        client_properties: dict[str, Any] | None = None,
    ) -> None:
        self.id = next(_connection_ids)
        self.broker = broker
        self.name = name or f"connection {self.id}"
        self.vhost = vhost
        self.user = user
        self.kind = kind  # "python", "asyncio", "amqp" or "web"
        self.client_properties = client_properties or {}
        self.channels: dict[int, Channel] = {}
        self.stats = RateMeter(
            dict.fromkeys(CONNECTION_STATS, 0), CONNECTION_STATS, broker.clock.now()
        )
        self.closed = False
        self.close_reason: str | None = None
        # Called once when the connection closes: (reason, the error that closed it or None).
        self.on_close: Callable[[str, AMQPError | None], None] | None = None
        self._next_channel = 1

    def channel(self, number: int | None = None) -> Channel:
        """Open a channel (numbered like AMQP channels, from 1)."""
        return self.broker.open_channel(self, number)

    def close(self, reason: str = "closed by client") -> None:
        """Close every channel (requeueing their unacked messages) and delete exclusive queues."""
        self.broker.close_connection(self, reason)

    def allocate_channel_number(self) -> int:
        while self._next_channel in self.channels:
            self._next_channel += 1
        return self._next_channel

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vhost": self.vhost,
            "user": self.user,
            "type": self.kind,
            "client_properties": self.client_properties,
            "channels": len(self.channels),
            "message_stats": self.stats.message_stats(self.broker.clock.now()),
        }

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.close()


# What a delivery costs a writer beyond its body (frames, properties, objects): an empty body
# still costs something, so credit limits how many deliveries wait as well as their bytes.
DELIVERY_OVERHEAD = 512


def delivery_cost(message: Message) -> int:
    """What a delivery of `message` takes from its channel's delivery_credit (about bytes)."""
    return len(message.body) + DELIVERY_OVERHEAD


class Channel:
    """A channel's state; its verbs (queue_declare, basic_publish …) take the broker lock."""

    def __init__(self, connection: Connection, number: int) -> None:
        self.connection = connection
        self.broker = connection.broker
        self.number = number
        self.unacked: OrderedDict[int, Unacked] = OrderedDict()
        self.consumers: dict[str, Consumer] = {}
        self.prefetch_count = 0
        self.global_prefetch = 0
        self.flow_active = True
        # How much more the channel's writer will take, in delivery_cost() units (None: no
        # limit). A writer that can fall behind (the AMQP listener, writing to a socket) sets
        # it and gives credit back as it writes: a consumer without a prefetch limit then waits
        # for the socket and its backlog stays in the queue, like RabbitMQ's credit flow.
        self.delivery_credit: int | None = None
        self.confirm_mode = False
        self.reply_queue: Queue | None = None  # where direct reply-to answers go (reply_to.py)
        self.closed = False
        self.close_error: AMQPError | None = None
        self.last_queue: str | None = None  # "" in a queue argument means this one (AMQP)
        self.on_return: Callable[[Returned], None] | None = None
        self.on_confirm: Callable[[int, bool, bool], None] | None = None
        # Called once when the channel closes, with the error that closed it (None if asked to).
        self.on_close: Callable[[AMQPError | None], None] | None = None
        self._delivery_tags = itertools.count(1)
        self._publish_seq = itertools.count(1)

    @property
    def label(self) -> str:
        return f"{self.connection.name} ({self.number})"

    def next_delivery_tag(self) -> int:
        return next(self._delivery_tags)

    def next_publish_seq(self) -> int:
        return next(self._publish_seq)

    def check_open(self) -> None:
        if self.connection.closed:
            raise ConnectionClosed(self.connection.close_reason or "connection is closed")
        if self.closed:
            raise ChannelClosed(self.close_error)

    def info(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.label,
            "connection": self.connection.name,
            "prefetch_count": self.prefetch_count,
            "global_prefetch_count": self.global_prefetch,
            "messages_unacknowledged": len(self.unacked),
            "consumer_count": len(self.consumers),
            "confirm": self.confirm_mode,
            "flow": self.flow_active,
            "delivery_credit": self.delivery_credit,
        }

    # --- the verbs: thin calls into the broker, which holds the semantics ------------------

    def exchange_declare(
        self,
        exchange: str,
        exchange_type: str = "direct",
        passive: bool = False,
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.broker.exchange_declare(
            self, exchange, exchange_type, passive, durable, auto_delete, internal, arguments
        )

    def exchange_delete(self, exchange: str, if_unused: bool = False) -> None:
        self.broker.exchange_delete(self, exchange, if_unused)

    def exchange_bind(
        self,
        destination: str,
        source: str,
        routing_key: str = "",
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.broker.bind(self, source, "exchange", destination, routing_key, arguments)

    def exchange_unbind(
        self,
        destination: str,
        source: str,
        routing_key: str = "",
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.broker.unbind(self, source, "exchange", destination, routing_key, arguments)

    def queue_declare(
        self,
        queue: str = "",
        passive: bool = False,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> DeclareOk:
        return self.broker.queue_declare(
            self, queue, passive, durable, exclusive, auto_delete, arguments
        )

    def queue_bind(
        self,
        queue: str,
        exchange: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.broker.bind(self, exchange, "queue", queue, routing_key, arguments)

    def queue_unbind(
        self,
        queue: str,
        exchange: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.broker.unbind(self, exchange, "queue", queue, routing_key, arguments)

    def queue_purge(self, queue: str) -> int:
        return self.broker.queue_purge(self, queue)

    def queue_delete(self, queue: str, if_unused: bool = False, if_empty: bool = False) -> int:
        return self.broker.queue_delete(self, queue, if_unused, if_empty)

    def basic_qos(self, prefetch_count: int = 0, global_qos: bool = False) -> None:
        self.broker.basic_qos(self, prefetch_count, global_qos)

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Properties | None = None,
        mandatory: bool = False,
        amqp_header: bytes | None = None,
    ) -> PublishResult:
        return self.broker.basic_publish(
            self, exchange, routing_key, body, properties, mandatory, amqp_header
        )

    def check_publish(self, exchange: str, properties: Properties) -> Properties:
        """basic_publish's checks without the publish, for one held until a later commit."""
        return self.broker.check_publish(self, exchange, properties)

    def basic_consume(
        self,
        queue: str,
        sink: Callable[[Delivery], None],
        consumer_tag: str = "",
        no_ack: bool = False,
        exclusive: bool = False,
        arguments: dict[str, Any] | None = None,
        on_cancel: Callable[[str], None] | None = None,
    ) -> str:
        return self.broker.basic_consume(
            self,
            queue,
            sink,
            consumer_tag,
            no_ack,
            exclusive,
            arguments,
            on_cancel,
        )

    def basic_cancel(self, consumer_tag: str) -> None:
        self.broker.basic_cancel(self, consumer_tag)

    def basic_get(self, queue: str, no_ack: bool = False) -> Delivery | None:
        return self.broker.basic_get(self, queue, no_ack)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.broker.settle(self, delivery_tag, multiple, "ack", requeue=False)

    def basic_nack(
        self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True
    ) -> None:
        self.broker.settle(self, delivery_tag, multiple, "nack", requeue)

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        self.broker.settle(self, delivery_tag, False, "reject", requeue)

    def send_settle(
        self, verb: str, delivery_tag: int, multiple: bool = False, requeue: bool = True
    ) -> None:
        """ack / nack / reject as a client sends them: without waiting for the broker lock.
        An unknown tag then closes the channel (406) instead of raising here; see
        Broker.settle_soon."""
        self.broker.settle_soon(self, delivery_tag, multiple, verb, requeue)

    def basic_recover(self, requeue: bool = True) -> None:
        self.broker.basic_recover(self, requeue)

    def confirm_select(self) -> None:
        self.broker.confirm_select(self)

    def flow(self, active: bool) -> None:
        self.broker.channel_flow(self, active)

    def grant_credit(self, cost: int) -> None:
        """The writer sent deliveries of this much delivery_cost() on: it takes as much more."""
        self.broker.grant_credit(self, cost)

    def close(self) -> None:
        self.broker.close_channel(self, None)

    def resolve_queue(self, queue: str) -> str:
        """AMQP lets "" mean the queue this channel declared last."""
        if queue != "":
            return queue
        if not self.last_queue:
            raise AMQPError(
                404, "no previously declared queue", "name the queue, or declare one first"
            )
        return self.last_queue

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.close()
