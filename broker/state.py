"""The broker's state: plain records the verbs change, and what one operation leaves to do.

Nothing here takes a lock, does I/O or calls back into anyone: `Broker` (front.py) holds the lock
while a verb (verbs/) changes these records, then carries out the verb's actions (actions.py)
once the lock is released. Queues live in queue.py and exchanges in exchanges/exchange.py; the
records of who is connected (connections, channels, consumers) are here.

Delivery tags are numbered per channel; publisher-confirm sequence numbers per confirm channel;
both start at 1. Unacknowledged deliveries belong to the channel: closing it requeues them,
cancelling a consumer does not.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from broker import errors
from broker.actions import Action, StoreWrite
from broker.clock import Clock
from broker.errors import AMQPError, ChannelClosed, ConnectionClosed, not_found
from broker.events import Record
from broker.message import Delivery, Message, QueueEntry
from broker.reply_to import DirectReplyTo
from broker.stats import CONNECTION_STATS, RateMeter
from broker.translatable import N_

if TYPE_CHECKING:
    from broker.exchanges.exchange import Exchange
    from broker.queue import Queue
    from broker.store.changes import Change

_connection_ids = itertools.count(1)

# A delivery waiting for ack/nack/reject: the queue it came from, its entry there, and the
# consumer holding it (None after basic.get). A plain tuple: one is made for every message.
Unacked = tuple["Queue", QueueEntry, "Consumer | None"]


def generated_name(prefix: str) -> str:
    """Server-generated names look like RabbitMQ's: amq.gen-…, amq.ctag-…"""
    return prefix + secrets.token_urlsafe(16)


class VHost:
    """A virtual host: its exchanges and queues by name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.exchanges: dict[str, Exchange] = {}
        self.queues: dict[str, Queue] = {}


@dataclass(eq=False)
class Consumer:
    """One basic.consume: its queue, ack mode, prefetch and the sink deliveries go to.

    `sink` is called with each Delivery outside the broker lock, in delivery order. It must not
    block: a thread client hands the delivery to its worker, an asyncio client to its loop, the
    AMQP listener to its connection's writer.
    """

    tag: str
    queue: Queue
    channel: ChannelState
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


class ConnectionState:
    """A client's connection: a name, a user, a vhost, and its channels."""

    def __init__(
        self,
        name: str,
        vhost: str,
        user: str,
        kind: str,
        client_properties: dict[str, Any] | None,
        now: float,
    ) -> None:
        self.id = next(_connection_ids)
        self.name = name or f"connection {self.id}"
        self.vhost = vhost
        self.user = user
        self.kind = kind  # "python", "asyncio", "amqp", "simulation" or "web"
        self.client_properties = client_properties or {}
        self.channels: dict[int, ChannelState] = {}
        self.stats = RateMeter(dict.fromkeys(CONNECTION_STATS, 0), CONNECTION_STATS, now)
        self.closed = False
        self.close_reason: str | None = None
        # Called once when the connection closes: (reason, the error that closed it or None).
        self.on_close: Callable[[str, AMQPError | None], None] | None = None
        self.handle: Any = None  # the public Connection (handles.py) its client holds
        self._next_channel = 1

    def allocate_channel_number(self) -> int:
        while self._next_channel in self.channels:
            self._next_channel += 1
        return self._next_channel

    def info(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "vhost": self.vhost,
            "user": self.user,
            "type": self.kind,
            "client_properties": self.client_properties,
            "channels": len(self.channels),
            "message_stats": self.stats.message_stats(now),
        }


class ChannelState:
    """A channel's state: its unacked deliveries, consumers, limits and where results go."""

    def __init__(self, connection: ConnectionState, number: int) -> None:
        self.connection = connection
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
        self.on_return: Callable[[Any], None] | None = None
        self.on_confirm: Callable[[int, bool, bool], None] | None = None
        # Called once when the channel closes, with the error that closed it (None if asked to).
        self.on_close: Callable[[AMQPError | None], None] | None = None
        self.handle: Any = None  # the public Channel (handles.py) that deliveries carry
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

    def resolve_queue(self, queue: str) -> str:
        """AMQP lets "" mean the queue this channel declared last."""
        if queue != "":
            return queue
        if not self.last_queue:
            raise AMQPError(
                404, "no previously declared queue", N_("name the queue, or declare one first")
            )
        return self.last_queue

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


# What a delivery costs a writer beyond its body (frames, properties, objects): an empty body
# still costs something, so credit limits how many deliveries wait as well as their bytes.
DELIVERY_OVERHEAD = 512


def delivery_cost(message: Message) -> int:
    """What a delivery of `message` takes from its channel's delivery_credit (about bytes)."""
    return len(message.body) + DELIVERY_OVERHEAD


class BrokerState:
    """Everything the verbs read and change, plus what the operation in progress leaves to do:
    the events it recorded, the actions to carry out after the lock, the dead letters to
    republish before letting go, and the timer's deadlines."""

    def __init__(self, clock: Clock, event_seq: itertools.count) -> None:
        self.clock = clock
        self.vhosts: dict[str, VHost] = {}
        self.connections: dict[int, ConnectionState] = {}
        self.totals = {"published": 0, "delivered": 0, "acked": 0, "unroutable": 0}
        self.direct_reply_to = DirectReplyTo()
        self.dispatch_batch = 1000  # most deliveries one call hands out (verbs/dispatch.py)
        self.deadlines: list[tuple[float, int, Queue]] = []
        self.deadline_ids = itertools.count()
        # A store is attached and recovered: durable changes become StoreWrite actions, numbered
        # so a caller can wait until its own are on disk (verbs/durable.py, front.py).
        self.persisting = False
        self.store_seq = 0
        # --- the operation in progress ---
        self.op_time = 0.0  # wall time of the operation: one clock read per operation
        self.event_seq = event_seq
        self.pending_events: list[Record] = []
        self.actions: deque[Action] = deque()
        self.dead_letters: deque[tuple[Queue, Message, str]] = deque()

    def emit(self, type: str, **data: Any) -> None:
        """Record an event (a type from vocabulary.py) with its data as a dict."""
        self.pending_events.append((next(self.event_seq), self.op_time, type, data))

    def record(self, type: str, *fields: Any) -> None:
        """A per-message event, its fields stored as a tuple (events.COMPACT_FIELDS)."""
        self.pending_events.append((next(self.event_seq), self.op_time, type, fields))

    def act(self, action: Action) -> None:
        """Leave an action for the front to carry out once the lock is released."""
        self.actions.append(action)

    def persist(self, change: Change) -> None:
        """Leave a change for the store's writer, in the order the broker made it."""
        self.store_seq += 1
        self.actions.append(StoreWrite(change, self.store_seq))

    def vhost_of(self, channel: ChannelState) -> VHost:
        return self.vhosts[channel.connection.vhost]

    def queue_for(self, channel: ChannelState, name: str) -> Queue:
        """The queue a channel names: 404 if missing, 405 if another connection's exclusive."""
        vhost = self.vhost_of(channel)
        queue = vhost.queues.get(name)
        if queue is None:
            raise not_found("queue", name, vhost.name)
        if queue.owner is not None and queue.owner is not channel.connection:
            raise locked(queue)
        return queue


def locked(queue: Queue) -> AMQPError:
    """405 RESOURCE_LOCKED for an exclusive queue used from another connection."""
    return AMQPError(
        errors.RESOURCE_LOCKED,
        f"cannot obtain exclusive access to locked queue '{queue.name}' in vhost "
        f"'{queue.vhost}'. It could be originally declared on another connection or the "
        "exclusive property value does not match that of the original declaration.",
        N_("an exclusive queue belongs to the connection that declared it"),
    )
