"""The broker: vhosts of exchanges, queues and bindings, and the rules RabbitMQ applies to them.

Thread-safety: one lock guards all state. Every operation takes it, changes state, records
events and queues up what must happen next (deliveries to consumers, returns, confirms, event
fan-out) in an outbox. Only after the lock is released is the outbox drained, in order, by one
thread at a time — so no sink, callback or I/O ever runs under the lock, and a consumer sees its
deliveries in the order the broker decided them. Clients' acks do not wait for the lock: a busy
lock's holder applies them before letting go (settle_soon).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from broker import errors
from broker.arguments import (
    QUEUE_EQUIVALENCE_ARGS,
    check_arguments_equivalent,
    check_expiration,
    check_priority,
    consumer_priority,
    inequivalent_flag,
)
from broker.channel import (
    Channel,
    Connection,
    Consumer,
    DeclareOk,
    PublishResult,
    Returned,
    Unacked,
    delivery_cost,
)
from broker.clock import Clock, RealClock
from broker.dead_letter import dead_letter_copy, is_cycle
from broker.errors import AMQPError, ChannelClosed, ConnectionClosed, access_refused, not_found
from broker.events import EventStream, Record
from broker.exchanges import ROUTERS, Binding
from broker.exchanges.exchange import Exchange
from broker.message import (
    EMPTY_PROPERTIES,
    Delivery,
    Message,
    Properties,
    QueueEntry,
    describe_message,
)
from broker.queue import Queue
from broker.reply_to import KEY_PREFIX, REPLY_TO, DirectReplyTo
from broker.routing import routing_keys_for
from broker.ticker import Ticker

log = logging.getLogger("queuelab.broker")

PREDECLARED = (
    ("amq.direct", "direct"),
    ("amq.fanout", "fanout"),
    ("amq.topic", "topic"),
    ("amq.headers", "headers"),
    ("amq.match", "headers"),
)
DEFAULT_EXCHANGE_REFUSED = "operation not permitted on the default exchange"


def generated_name(prefix: str) -> str:
    """Server-generated names look like RabbitMQ's: amq.gen-…, amq.ctag-…"""
    return prefix + secrets.token_urlsafe(16)


class VHost:
    def __init__(self, name: str) -> None:
        self.name = name
        self.exchanges: dict[str, Exchange] = {}
        self.queues: dict[str, Queue] = {}


class Broker:
    """An in-memory AMQP 0-9-1 broker with RabbitMQ's semantics. Never imports Flask."""

    def __init__(self, clock: Clock | None = None, history: int = 20_000) -> None:
        self.clock = clock or RealClock()
        self._lock = threading.Lock()
        self.events = EventStream(self._op, history)
        self._event_seq = self.events.sequence
        self._pending_events: list[Record] = []
        self._op_time = 0.0  # wall time of the operation in progress: one clock read per op
        self._outbox: deque[tuple[Callable[..., None], tuple]] = deque()
        self._draining = threading.Lock()
        # Acks, nacks and rejects handed over by settle_soon(), for whoever holds the lock next.
        self._settles: deque[tuple[Channel, int, bool, str, bool]] = deque()
        self.vhosts: dict[str, VHost] = {}
        self.connections: dict[int, Connection] = {}
        self._deadlines: list[tuple[float, int, Queue]] = []
        self._deadline_ids = itertools.count()
        self.totals = {"published": 0, "delivered": 0, "acked": 0, "unroutable": 0}
        self.dispatch_batch = 1000  # most deliveries one call hands out (see _dispatch)
        self.direct_reply_to = DirectReplyTo()
        self._ticker: Ticker | None = None
        if self.clock.virtual:
            self.clock.on_advance(self.run_due)
        else:
            self._ticker = Ticker(self)
            self._ticker.start()
        self.add_vhost("/")

    # --- the transaction every operation runs in -----------------------------------------

    def _op(self, channel: Channel | None = None) -> _Transaction:
        """`with self._op(channel):` — hold the lock, then drain the outbox once released."""
        return _Transaction(self, channel)

    def _begin(self) -> None:
        """The lock was just taken: settles handed over while it was busy go first, so they
        come before anything their thread asks for next."""
        self._op_time = self.clock.wall()
        if self._settles:
            self._apply_settles()

    def _end(self) -> None:
        """Release the lock and run the outbox; then apply settles handed over meanwhile."""
        self._release()
        if self._settles:
            self._settle_pending()

    def _release(self) -> None:
        """Settles handed over during the operation go in with it; then record, let go, drain."""
        try:
            if self._settles:
                self._apply_settles()
            if self._pending_events:
                if self.events.record(self._pending_events):
                    self._outbox.append((self.events.fanout, (self._pending_events,)))
                self._pending_events = []
        finally:
            self._lock.release()
        if self._outbox:
            self._drain()

    def _fail(self, channel: Channel, error: AMQPError) -> None:
        """A channel error closes the channel; a connection error closes the connection."""
        if error.is_channel_error:
            self._close_channel(channel, error)
        else:
            self._close_connection(channel.connection, error.reply_text, error)

    def _drain(self) -> None:
        """Run queued sinks in order, one draining thread at a time, never under the lock."""
        outbox = self._outbox
        while outbox:
            if not self._draining.acquire(blocking=False):
                return  # the thread draining now will also run what we queued
            try:
                while outbox:
                    sink, args = outbox.popleft()
                    try:
                        sink(*args)
                    except Exception:
                        log.exception("a delivery sink failed: %r", sink)
            finally:
                self._draining.release()

    def _emit(self, type: str, **data: Any) -> None:
        self._pending_events.append((next(self._event_seq), self._op_time, type, data))

    def _record(self, type: str, *fields: Any) -> None:
        """A per-message event, its fields stored as a tuple (events.COMPACT_FIELDS)."""
        self._pending_events.append((next(self._event_seq), self._op_time, type, fields))

    def _later(self, sink: Callable[..., None] | None, *args: Any) -> None:
        if sink is not None:
            self._outbox.append((sink, args))

    # --- vhosts and connections -------------------------------------------------------------

    def add_vhost(self, name: str) -> None:
        with self._op():
            if name in self.vhosts:
                return
            vhost = self.vhosts[name] = VHost(name)
            now = self.clock.now()
            vhost.exchanges[""] = Exchange(name, "", "direct", durable=True, now=now)
            for exchange_name, exchange_type in PREDECLARED:
                vhost.exchanges[exchange_name] = Exchange(
                    name, exchange_name, exchange_type, durable=True, now=now
                )
            self._emit("vhost.created", vhost=name)

    def connect(
        self,
        name: str = "",
        vhost: str = "/",
        user: str = "guest",
        kind: str = "python",
        client_properties: dict[str, Any] | None = None,
    ) -> Connection:
        """Open a connection; its channels carry the AMQP verbs."""
        with self._op():
            if vhost not in self.vhosts:
                raise AMQPError(
                    errors.NOT_ALLOWED,
                    f"vhost {vhost} not found",
                    "connect to '/' or create the vhost first",
                )
            connection = Connection(self, name, vhost, user, kind, client_properties)
            self.connections[connection.id] = connection
            self._emit(
                "connection.opened",
                vhost=vhost,
                connection=connection.name,
                user=user,
                kind=kind,
            )
            return connection

    def open_channel(self, connection: Connection, number: int | None = None) -> Channel:
        with self._op():
            if connection.closed:
                raise ConnectionClosed(connection.close_reason or "connection is closed")
            number = number or connection.allocate_channel_number()
            if number in connection.channels:
                raise AMQPError(
                    errors.CHANNEL_ERROR,
                    f"second 'channel.open' seen on channel {number}",
                    "open each channel number once",
                )
            channel = connection.channels[number] = Channel(connection, number)
            self._emit(
                "channel.opened",
                vhost=connection.vhost,
                connection=connection.name,
                channel=number,
            )
            return channel

    def close_channel(self, channel: Channel, error: AMQPError | None = None) -> None:
        with self._op():
            self._close_channel(channel, error)

    def close_connection(
        self, connection: Connection, reason: str = "closed", error: AMQPError | None = None
    ) -> None:
        with self._op():
            self._close_connection(connection, reason, error)

    def _close_channel(self, channel: Channel, error: AMQPError | None) -> None:
        if channel.closed:
            return
        channel.closed = True
        channel.close_error = error
        # Single-active-consumer queues hand over to their next consumer once this channel's
        # consumers are all gone and its unacked messages are back in place.
        handed_over = {c.queue for c in channel.consumers.values() if c.queue.single_active}
        for consumer in list(channel.consumers.values()):
            self._remove_consumer(consumer)
        self.direct_reply_to.forget(channel)
        self._requeue_all(channel)
        for queue in handed_over:
            if not queue.deleted:
                self._dispatch(queue)
        channel.connection.channels.pop(channel.number, None)
        self._later(channel.on_close, error)
        self._emit(
            "channel.closed",
            vhost=channel.connection.vhost,
            connection=channel.connection.name,
            channel=channel.number,
            reason=error.reply_text if error else "closed by client",
            reply_code=error.reply_code if error else 200,
        )

    def _close_connection(
        self, connection: Connection, reason: str, error: AMQPError | None = None
    ) -> None:
        if connection.closed:
            return
        for channel in list(connection.channels.values()):
            self._close_channel(channel, error)
        connection.closed = True
        connection.close_reason = reason
        vhost = self.vhosts[connection.vhost]
        for queue in [q for q in vhost.queues.values() if q.owner is connection]:
            self._delete_queue(queue, "its exclusive owner connection closed")
        self.connections.pop(connection.id, None)
        self._later(connection.on_close, reason, error)
        self._emit(
            "connection.closed", vhost=connection.vhost, connection=connection.name, reason=reason
        )

    # --- exchanges --------------------------------------------------------------------------

    def exchange_declare(
        self,
        channel: Channel,
        name: str,
        exchange_type: str,
        passive: bool,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: dict[str, Any] | None,
    ) -> None:
        arguments = dict(arguments or {})
        with self._op(channel):
            vhost = self._vhost(channel)
            if name == "":
                raise access_refused(DEFAULT_EXCHANGE_REFUSED, _DEFAULT_EXCHANGE_HINT)
            existing = vhost.exchanges.get(name)
            if passive:
                if existing is None:
                    raise not_found("exchange", name, vhost.name)
                return
            if exchange_type not in ROUTERS:
                raise AMQPError(
                    errors.COMMAND_INVALID,
                    f"invalid exchange type '{exchange_type}'",
                    "use direct, fanout, topic or headers",
                )
            if existing is not None:
                self._check_exchange_equivalent(
                    existing, exchange_type, durable, auto_delete, internal, arguments
                )
                return
            if name.startswith("amq."):
                raise access_refused(
                    f"exchange name '{name}' contains reserved prefix 'amq.*'",
                    "names starting with amq. are reserved for the broker; choose another",
                )
            exchange = Exchange(
                vhost.name,
                name,
                exchange_type,
                durable,
                auto_delete,
                internal,
                arguments,
                self.clock.now(),
            )
            vhost.exchanges[name] = exchange
            self._emit("exchange.declared", vhost=vhost.name, **_exchange_fields(exchange))

    def _check_exchange_equivalent(
        self,
        existing: Exchange,
        exchange_type: str,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: dict[str, Any],
    ) -> None:
        for flag, received, current in (
            ("type", exchange_type, existing.type),
            ("durable", durable, existing.durable),
            ("auto_delete", auto_delete, existing.auto_delete),
            ("internal", internal, existing.internal),
        ):
            if received != current:
                raise inequivalent_flag(
                    flag, "exchange", existing.name, existing.vhost, received, current
                )
        check_arguments_equivalent(
            "exchange",
            existing.name,
            existing.vhost,
            arguments,
            existing.arguments,
            ("alternate-exchange",),
        )

    def exchange_delete(self, channel: Channel, name: str, if_unused: bool) -> None:
        with self._op(channel):
            vhost = self._vhost(channel)
            if name == "":
                raise access_refused(DEFAULT_EXCHANGE_REFUSED, _DEFAULT_EXCHANGE_HINT)
            if name.startswith("amq."):
                raise access_refused(
                    f"deletion of system exchange '{name}' in vhost '{vhost.name}' not allowed",
                    "the amq.* exchanges belong to the broker",
                )
            exchange = vhost.exchanges.get(name)
            if exchange is None:
                return  # RabbitMQ: deleting what is not there is fine
            if if_unused and exchange.bindings:
                raise errors.precondition(
                    f"exchange '{name}' in vhost '{vhost.name}' in use",
                    "it still has bindings; unbind them first or delete without if-unused",
                )
            self._delete_exchange(vhost, exchange)

    def _delete_exchange(self, vhost: VHost, exchange: Exchange) -> None:
        for binding in list(exchange.bindings):
            self._remove_binding(vhost, exchange, binding, cascade=False)
        for other in vhost.exchanges.values():
            for binding in [
                b
                for b in other.bindings
                if b.destination_kind == "exchange" and b.destination == exchange.name
            ]:
                self._remove_binding(vhost, other, binding, cascade=False)
        del vhost.exchanges[exchange.name]
        self._emit("exchange.deleted", vhost=vhost.name, name=exchange.name)

    # --- queues -----------------------------------------------------------------------------

    def queue_declare(
        self,
        channel: Channel,
        name: str,
        passive: bool,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        arguments: dict[str, Any] | None,
    ) -> DeclareOk:
        arguments = dict(arguments or {})
        with self._op(channel):
            vhost = self._vhost(channel)
            now = self.clock.now()
            if name == REPLY_TO:  # RabbitMQ answers for the pseudo-queue, declared or not
                channel.last_queue = REPLY_TO
                return DeclareOk(REPLY_TO, 0, 1)
            if passive and self.direct_reply_to.is_live(vhost.name, name):
                return DeclareOk(name, 0, 1)  # an RPC server's check that its client still waits
            if passive:
                queue = self._queue(channel, channel.resolve_queue(name))
            else:
                queue = self._declare_queue(
                    channel, vhost, name, durable, exclusive, auto_delete, arguments, now
                )
            channel.last_queue = queue.name
            self._touch(queue, now)
            return DeclareOk(queue.name, len(queue.ready), len(queue.consumers))

    def _declare_queue(
        self,
        channel: Channel,
        vhost: VHost,
        name: str,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        arguments: dict[str, Any],
        now: float,
    ) -> Queue:
        if name.startswith("amq."):
            raise access_refused(
                f"queue name '{name}' contains reserved prefix 'amq.*'",
                "leave the name empty for a server-named queue, or choose another name",
            )
        existing = vhost.queues.get(name) if name else None
        if existing is not None:
            owner = channel.connection if exclusive else None
            if existing.owner is not owner:
                raise _locked(existing)
            for flag, received, current in (
                ("durable", durable, existing.durable),
                ("auto_delete", auto_delete, existing.auto_delete),
            ):
                if received != current:
                    raise inequivalent_flag(flag, "queue", name, vhost.name, received, current)
            check_arguments_equivalent(
                "queue", name, vhost.name, arguments, existing.arguments, QUEUE_EQUIVALENCE_ARGS
            )
            return existing
        name = name or generated_name("amq.gen-")
        owner = channel.connection if exclusive else None
        queue = Queue(vhost.name, name, durable, owner, auto_delete, arguments, now)
        vhost.queues[name] = queue
        self._emit("queue.declared", vhost=vhost.name, **_queue_fields(queue))
        return queue

    def queue_purge(self, channel: Channel, name: str) -> int:
        with self._op(channel):
            queue = self._queue(channel, channel.resolve_queue(name))
            purged = queue.purge()
            self._emit("queue.purged", vhost=queue.vhost, queue=queue.name, count=len(purged))
            return len(purged)

    def queue_delete(self, channel: Channel, name: str, if_unused: bool, if_empty: bool) -> int:
        with self._op(channel):
            name = channel.resolve_queue(name)
            vhost = self._vhost(channel)
            if name not in vhost.queues:
                return 0  # RabbitMQ: deleting what is not there is fine
            queue = self._queue(channel, name)
            if if_unused and queue.consumers:
                raise errors.precondition(
                    f"queue '{name}' in vhost '{vhost.name}' in use",
                    "it has consumers; cancel them first or delete without if-unused",
                )
            if if_empty and queue.ready:
                raise errors.precondition(
                    f"queue '{name}' in vhost '{vhost.name}' not empty",
                    "purge it first or delete without if-empty",
                )
            return self._delete_queue(queue, "deleted")

    def _delete_queue(self, queue: Queue, reason: str) -> int:
        vhost = self.vhosts[queue.vhost]
        queue.deleted = True
        del vhost.queues[queue.name]
        for consumer in list(queue.consumers):
            self._remove_consumer(consumer, check_auto_delete=False)
            self._later(consumer.on_cancel, consumer.tag)
        for exchange in list(vhost.exchanges.values()):
            for binding in [
                b
                for b in exchange.bindings
                if b.destination_kind == "queue" and b.destination == queue.name
            ]:
                self._remove_binding(vhost, exchange, binding, cascade=True)
        count = len(queue.ready)
        self._emit(
            "queue.deleted", vhost=vhost.name, name=queue.name, reason=reason, messages=count
        )
        return count

    def _touch(self, queue: Queue, now: float) -> None:
        """A queue was used (declared, consumed from, read): push back its x-expires."""
        queue.last_used = now
        if queue.expires is not None and queue.is_unused:
            self._schedule(now + queue.expires, queue)

    # --- bindings ---------------------------------------------------------------------------

    def bind(
        self,
        channel: Channel,
        source: str,
        destination_kind: str,
        destination: str,
        routing_key: str | None,
        arguments: dict[str, Any] | None,
    ) -> None:
        with self._op(channel):
            vhost = self._vhost(channel)
            destination, routing_key = _resolve_binding(
                channel, destination_kind, destination, routing_key
            )
            exchange = self._bindable_exchange(vhost, source)
            self._check_destination(channel, vhost, destination_kind, destination)
            binding = Binding(source, destination, destination_kind, routing_key, arguments)
            exchange.router.validate(binding)
            if exchange.find_binding(binding.key) is not None:
                return
            exchange.add_binding(binding)
            self._emit("binding.created", **binding.to_dict(vhost.name))

    def unbind(
        self,
        channel: Channel,
        source: str,
        destination_kind: str,
        destination: str,
        routing_key: str | None,
        arguments: dict[str, Any] | None,
    ) -> None:
        with self._op(channel):
            vhost = self._vhost(channel)
            destination, routing_key = _resolve_binding(
                channel, destination_kind, destination, routing_key
            )
            if source == "":
                raise access_refused(DEFAULT_EXCHANGE_REFUSED, _DEFAULT_EXCHANGE_HINT)
            exchange = vhost.exchanges.get(source)
            wanted = Binding(source, destination, destination_kind, routing_key, arguments)
            binding = exchange.find_binding(wanted.key) if exchange else None
            if binding is None:
                return  # RabbitMQ: removing a binding that is not there is fine
            if destination_kind == "queue":
                self._queue(channel, destination)  # exclusive queues: 405 from elsewhere
            self._remove_binding(vhost, exchange, binding, cascade=True)

    def _bindable_exchange(self, vhost: VHost, name: str) -> Exchange:
        if name == "":
            raise access_refused(DEFAULT_EXCHANGE_REFUSED, _DEFAULT_EXCHANGE_HINT)
        exchange = vhost.exchanges.get(name)
        if exchange is None:
            raise not_found("exchange", name, vhost.name)
        return exchange

    def _check_destination(
        self, channel: Channel, vhost: VHost, destination_kind: str, destination: str
    ) -> None:
        if destination_kind == "queue":
            self._queue(channel, destination)
        else:
            self._bindable_exchange(vhost, destination)

    def _remove_binding(
        self, vhost: VHost, exchange: Exchange, binding: Binding, cascade: bool
    ) -> None:
        exchange.remove_binding(binding)
        self._emit("binding.deleted", **binding.to_dict(vhost.name))
        # An auto-delete exchange goes when its last binding does (not while being deleted).
        if cascade and exchange.auto_delete and not exchange.bindings:
            self._delete_exchange(vhost, exchange)

    # --- publishing and routing -------------------------------------------------------------

    def check_publish(
        self, channel: Channel, exchange_name: str, properties: Properties
    ) -> Properties:
        """The checks RabbitMQ makes as a publish arrives (404, 403, 406), for a transaction
        that routes the message only at commit; returns the properties to publish with (a
        direct reply-to request gets its reply key now, while its reply consumer is there)."""
        with self._op(channel):
            return self._checked(channel, exchange_name, properties)[1]

    def _checked(
        self, channel: Channel, exchange_name: str, properties: Properties
    ) -> tuple[Exchange, Properties]:
        vhost = self.vhosts[channel.connection.vhost]
        exchange = vhost.exchanges.get(exchange_name)
        if exchange is None:
            raise not_found("exchange", exchange_name, vhost.name)
        if exchange.internal:
            raise access_refused(
                f"cannot publish to internal exchange '{exchange_name}' in vhost '{vhost.name}'",
                "internal exchanges only receive from other exchanges",
            )
        if properties.expiration is not None:
            check_expiration(properties.expiration)
        if properties.priority is not None:
            check_priority(properties.priority)
        if properties.reply_to == REPLY_TO:
            properties = self.direct_reply_to.rewrite(channel, properties)
        return exchange, properties

    def basic_publish(
        self,
        channel: Channel,
        exchange_name: str,
        routing_key: str,
        body: bytes,
        properties: Properties | None,
        mandatory: bool,
        amqp_header: bytes | None = None,
    ) -> PublishResult:
        properties = properties or EMPTY_PROPERTIES
        with self._op(channel):
            connection = channel.connection
            vhost = self.vhosts[connection.vhost]
            exchange, checked = self._checked(channel, exchange_name, properties)
            if checked is not properties:  # rewritten (reply-to): the client's header is stale
                properties, amqp_header = checked, None
            message = Message(
                exchange_name, routing_key, body, properties, self._op_time, amqp_header
            )
            routing_keys = routing_keys_for(message)
            sequence = channel.next_publish_seq() if channel.confirm_mode else None
            self.totals["published"] += 1
            exchange.counters["published"] += 1
            connection.stats.counts["publish"] += 1
            self._record(
                "published", message.for_history(), vhost.name, connection.name, channel.number
            )
            queues, names = self._route(vhost, exchange, message, routing_keys, "published")
            returned = False
            if not queues and mandatory:
                returned = True
                self._emit(
                    "returned",
                    vhost=vhost.name,
                    exchange=exchange_name,
                    routing_key=routing_key,
                    message_id=message.id,
                    reply_code=errors.NO_ROUTE,
                    reply_text="NO_ROUTE",
                )
                self._later(channel.on_return, Returned(errors.NO_ROUTE, "NO_ROUTE", message))
            accepted = True
            if queues:
                now = self.clock.now()
                for queue in queues:
                    if not self._enqueue(queue, message, now):
                        accepted = False
            if sequence is not None:
                self._emit(
                    "confirm",
                    vhost=vhost.name,
                    connection=connection.name,
                    channel=channel.number,
                    delivery_tag=sequence,
                    ack=accepted,
                    message_id=message.id,
                )
                self._later(channel.on_confirm, sequence, accepted, False)
            return PublishResult(names, accepted, returned, sequence, message.id)

    def _route(
        self,
        vhost: VHost,
        exchange: Exchange,
        message: Message,
        routing_keys: list[str],
        cause: str,
    ) -> tuple[list[Queue], list[str]]:
        """Queues the message goes to (and their names), following exchange-to-exchange bindings;
        records the `routed` or `unroutable` event that says which bindings matched and why
        others did not."""
        vhost_queues = vhost.queues
        if exchange.name == "":  # the default exchange: the routing key names the queue
            matched: Sequence[Binding] = ()
            queues = [vhost_queues[key] for key in routing_keys if key in vhost_queues]
            if len(queues) < len(routing_keys) and any(
                k.startswith(KEY_PREFIX) for k in routing_keys
            ):
                queues += self.direct_reply_to.route(vhost.name, routing_keys)
            if len(queues) > 1:
                queues = list(dict.fromkeys(queues))
        elif len(routing_keys) == 1 and not exchange.exchange_bindings:
            # The common case: one key, bindings to queues only. Router results are never
            # changed in place, so the event may keep them as they are.
            matched = exchange.router.route(routing_keys[0], message.headers)
            queues = [vhost_queues[binding.destination] for binding in matched]
            if len(queues) > 1:
                queues = list(dict.fromkeys(queues))
        else:
            matched, queues = self._route_through(vhost, exchange, message, routing_keys)
        counters = exchange.counters
        if queues:
            counters["routed"] += 1
        else:
            counters["unroutable"] += 1
            self.totals["unroutable"] += 1
        names = [queue.name for queue in queues]
        self._record(
            "routed" if queues else "unroutable",
            vhost,
            exchange,
            message.for_history(),
            routing_keys,
            tuple(names),
            matched,
            exchange.bindings,  # a tuple, replaced on change: the trace reads it later
            cause,
        )
        return queues, names

    def _route_through(
        self, vhost: VHost, exchange: Exchange, message: Message, routing_keys: list[str]
    ) -> tuple[list[Binding], list[Queue]]:
        """Routing with several keys (CC/BCC) or exchange-to-exchange bindings: each exchange
        reached is visited once, each queue gets the message once."""
        headers = message.headers
        queues: dict[str, Queue] = {}
        matched: list[Binding] = []
        seen_exchanges = {exchange.name}
        pending = [exchange]
        while pending:
            current = pending.pop()
            if current.is_default:
                for key in routing_keys:
                    if key in vhost.queues:
                        queues.setdefault(key, vhost.queues[key])
                continue
            for key in routing_keys:
                for binding in current.router.route(key, headers):
                    matched.append(binding)
                    if binding.destination_kind == "queue":
                        queue = vhost.queues.get(binding.destination)
                        if queue is not None:
                            queues.setdefault(queue.name, queue)
                    elif binding.destination not in seen_exchanges:
                        seen_exchanges.add(binding.destination)
                        target = vhost.exchanges.get(binding.destination)
                        if target is not None:
                            pending.append(target)
        return matched, list(queues.values())

    def _enqueue(self, queue: Queue, message: Message, now: float) -> bool:
        """Add a message to a queue, applying its length limits; False if the queue refused it."""
        limited = queue.max_length is not None or queue.max_length_bytes is not None
        if limited and queue.overflow != "drop-head" and queue.is_full_for(message):
            queue.counters["dropped"] += 1
            self._emit(
                "dropped",
                vhost=queue.vhost,
                queue=queue.name,
                message_id=message.id,
                reason=f"queue full (x-overflow {queue.overflow})",
            )
            if queue.overflow == "reject-publish-dlx":
                self._dead_letter(queue, message, "maxlen")
            return False
        entry = queue.append(message, queue.expiry_for(message, now))
        self._record("enqueued", queue.vhost, queue.name, message.id, len(queue.ready))
        if entry.expires_at is not None:
            self._schedule(entry.expires_at, queue)
        if limited:
            self._drop_over_limit(queue)
        self._dispatch(queue, now)
        return True

    def _drop_over_limit(self, queue: Queue) -> None:
        """x-overflow drop-head: drop (and dead-letter) from the head until within the limits."""
        while queue.over_limit():
            head = queue.pop_head()
            queue.counters["dropped"] += 1
            self._emit(
                "dropped",
                vhost=queue.vhost,
                queue=queue.name,
                message_id=head.message.id,
                reason="queue full (x-overflow drop-head)",
            )
            self._dead_letter(queue, head.message, "maxlen")

    # --- delivering -------------------------------------------------------------------------

    def _dispatch(self, queue: Queue, now: float | None = None) -> None:
        """Hand ready messages to consumers with room, in turn.

        A message whose TTL ends exactly now (TTL 0) still goes to a consumer that can take it
        now, as in RabbitMQ; only one already past its time is expired instead.

        At most `dispatch_batch` messages go out per call: a consumer without prefetch limit
        facing a deep backlog gets the rest in later rounds, each under the lock again, so
        nobody else waits for the whole backlog to be handed over."""
        budget = self.dispatch_batch
        ready = queue.ready
        while ready and queue.consumers:
            if budget == 0:
                if not queue.dispatch_pending:
                    queue.dispatch_pending = True
                    self._later(self._continue_dispatch, queue)
                return
            consumer = queue.next_consumer()
            if consumer is None:
                break
            budget -= 1
            entry = queue.pop_head()
            if entry.expires_at is not None:
                now = self.clock.now() if now is None else now
                if entry.expires_at < now:
                    self._expired(queue, entry)
                    continue
            self._deliver(consumer, queue, entry)
        # What no consumer could take now and whose time is up goes at once, as in RabbitMQ:
        # an expired message that reached the head (or TTL 0) is not left counted as ready.
        if ready and ready[0].expires_at is not None:
            self._expire_head(queue, self.clock.now() if now is None else now)

    def _continue_dispatch(self, queue: Queue) -> None:
        """The next round of a large hand-over (run from the outbox, so outside the lock)."""
        with self._op():
            queue.dispatch_pending = False
            if not queue.deleted:
                self._dispatch(queue)

    def _deliver(self, consumer: Consumer, queue: Queue, entry: QueueEntry) -> None:
        channel = consumer.channel
        tag = channel.next_delivery_tag()
        message = entry.message
        if channel.delivery_credit is not None:
            channel.delivery_credit -= delivery_cost(message)
        if not consumer.no_ack:
            channel.unacked[tag] = (queue, entry, consumer)
            consumer.unacked += 1
            queue.unacked += 1
        self._count_delivery(queue, entry, channel)
        consumer.delivered += 1
        self._record(
            "delivered",
            queue.vhost,
            queue.name,
            message.id,
            consumer.tag,
            channel.connection.name,
            channel.number,
            tag,
            entry.redelivered,
            consumer.no_ack,
        )
        delivery = Delivery(
            message, queue.name, tag, entry.redelivered, consumer.tag, None, channel
        )
        self._outbox.append((consumer.sink, (delivery,)))

    def _count_delivery(self, queue: Queue, entry: QueueEntry, channel: Channel) -> None:
        channel.connection.stats.counts["deliver_get"] += 1
        queue.counters["delivered"] += 1
        self.totals["delivered"] += 1
        if entry.redelivered:
            queue.counters["redelivered"] += 1

    def basic_consume(
        self,
        channel: Channel,
        queue_name: str,
        sink: Callable[[Delivery], None],
        consumer_tag: str,
        no_ack: bool,
        exclusive: bool,
        arguments: dict[str, Any] | None,
        on_cancel: Callable[[str], None] | None,
    ) -> str:
        with self._op(channel):
            queue_name = channel.resolve_queue(queue_name)
            if queue_name == REPLY_TO:
                queue = self.direct_reply_to.queue_to_consume(channel, no_ack, self.clock.now())
            else:
                queue = self._queue(channel, queue_name)
            tag = consumer_tag or generated_name("amq.ctag-")
            if tag in channel.consumers:
                raise AMQPError(
                    errors.NOT_ALLOWED,
                    f"attempt to reuse consumer tag '{tag}'",
                    "each consumer on a channel needs its own tag; leave it empty for a new one",
                )
            # RabbitMQ ignores a reply-to consumer's arguments.
            priority = (
                0
                if queue_name == REPLY_TO
                else consumer_priority(arguments or {}, queue.name, queue.vhost)
            )
            if queue.consumers and (exclusive or any(c.exclusive for c in queue.consumers)):
                raise access_refused(
                    f"queue '{queue.name}' in vhost '{queue.vhost}' in exclusive use",
                    "an exclusive consumer must be the queue's only consumer",
                )
            if exclusive and queue.single_active:
                raise access_refused(
                    f"queue '{queue.name}' in vhost '{queue.vhost}' in exclusive use",
                    "a single-active-consumer queue already picks one consumer: consume "
                    "without exclusive",
                )
            consumer = Consumer(
                tag,
                queue,
                channel,
                no_ack,
                exclusive,
                channel.prefetch_count,
                sink,
                on_cancel,
                dict(arguments or {}),
                priority,
                direct_reply=queue_name == REPLY_TO,
            )
            queue.add_consumer(consumer)
            channel.consumers[tag] = consumer
            self._emit("consumer.added", vhost=queue.vhost, **consumer.info())
            self._touch(queue, self.clock.now())
            self._dispatch(queue)
            return tag

    def basic_cancel(self, channel: Channel, consumer_tag: str) -> None:
        with self._op(channel):
            consumer = channel.consumers.get(consumer_tag)
            if consumer is not None:  # RabbitMQ: cancelling an unknown tag is fine
                self._remove_consumer(consumer)
                if consumer.queue.single_active:  # the next consumer in line takes over
                    self._dispatch(consumer.queue)

    def _remove_consumer(self, consumer: Consumer, check_auto_delete: bool = True) -> None:
        """Stop a consumer. Its unacked messages stay with its channel (as in RabbitMQ)."""
        queue = consumer.queue
        queue.remove_consumer(consumer)
        consumer.channel.consumers.pop(consumer.tag, None)
        self._emit(
            "consumer.cancelled",
            vhost=queue.vhost,
            queue=queue.name,
            consumer_tag=consumer.tag,
            channel=consumer.channel.number,
            connection=consumer.channel.connection.name,
        )
        if queue.deleted or not check_auto_delete:
            return
        if queue.auto_delete and queue.had_consumer and not queue.consumers:
            self._delete_queue(queue, "auto-delete: its last consumer went away")
        else:
            self._touch(queue, self.clock.now())

    def basic_get(self, channel: Channel, queue_name: str, no_ack: bool) -> Delivery | None:
        with self._op(channel):
            queue = self._queue(channel, channel.resolve_queue(queue_name))
            now = self.clock.now()
            self._touch(queue, now)
            self._expire_head(queue, now)
            if not queue.ready:
                self._emit("get.empty", vhost=queue.vhost, queue=queue.name)
                return None
            entry = queue.pop_head()
            tag = channel.next_delivery_tag()
            if not no_ack:
                channel.unacked[tag] = (queue, entry, None)
                queue.unacked += 1
            self._count_delivery(queue, entry, channel)
            self._record(
                "delivered",
                queue.vhost,
                queue.name,
                entry.message.id,
                None,
                channel.connection.name,
                channel.number,
                tag,
                entry.redelivered,
                no_ack,
            )
            self._expire_head(queue, now)  # an expired message that reached the head goes now
            return Delivery(
                entry.message,
                queue.name,
                tag,
                entry.redelivered,
                None,
                message_count=len(queue.ready),
                channel=channel,
            )

    def basic_qos(self, channel: Channel, prefetch_count: int, global_qos: bool) -> None:
        with self._op(channel):
            if prefetch_count < 0 or prefetch_count > 65535:
                raise errors.precondition(
                    f"prefetch_count {prefetch_count} out of range", "use 0 (no limit) to 65535"
                )
            if global_qos:
                channel.global_prefetch = prefetch_count
                for consumer in list(channel.consumers.values()):
                    self._dispatch(consumer.queue)
            else:
                channel.prefetch_count = prefetch_count  # for consumers started from now on

    def confirm_select(self, channel: Channel) -> None:
        with self._op(channel):
            channel.confirm_mode = True

    def channel_flow(self, channel: Channel, active: bool) -> None:
        with self._op(channel):
            channel.flow_active = active
            if active:
                for consumer in list(channel.consumers.values()):
                    self._dispatch(consumer.queue)

    def grant_credit(self, channel: Channel, cost: int) -> None:
        with self._op(channel):
            credit = channel.delivery_credit
            if credit is None:
                raise ValueError("grant_credit on a channel without delivery_credit")
            channel.delivery_credit = credit + cost
            if credit <= 0:
                for consumer in list(channel.consumers.values()):
                    self._dispatch(consumer.queue)

    # --- acknowledgements -------------------------------------------------------------------

    def settle(
        self, channel: Channel, delivery_tag: int, multiple: bool, verb: str, requeue: bool
    ) -> None:
        """basic.ack / basic.nack / basic.reject on one tag, or on every tag up to it.
        An unknown tag raises 406 here (and closes the channel, as in RabbitMQ)."""
        with self._op(channel):
            self._settle(channel, delivery_tag, multiple, verb, requeue)

    def settle_soon(
        self, channel: Channel, delivery_tag: int, multiple: bool, verb: str, requeue: bool
    ) -> None:
        """The same, without waiting for the broker lock: what a client sends as basic.ack.

        AMQP gives acks no reply, and clients do not wait on them. Neither do we: if another
        thread holds the lock (a producer, say), it applies this settle before letting go, and
        this thread carries on. Waiting instead makes a consumer and a producer hand the lock
        (and the GIL) to each other on every message, which costs more than the work itself.
        A settle is applied before anything its thread asks of the broker next; an unknown tag
        closes the channel with 406, which the channel's next call raises, as with pika."""
        channel.check_open()
        self._settles.append((channel, delivery_tag, multiple, verb, requeue))
        self._settle_pending()

    def _settle_pending(self) -> None:
        """Apply handed-over settles unless the lock is busy (its holder applies them then).
        Every path that takes the lock ends here after releasing it, so none is left behind."""
        while self._settles and self._lock.acquire(blocking=False):
            try:
                self._begin()
            finally:
                self._release()

    def _apply_settles(self) -> None:
        """Apply the settles other threads handed over. One that fails closes its own channel;
        nothing here may raise, since the thread applying them is doing something else."""
        settles = self._settles
        while settles:
            channel, delivery_tag, multiple, verb, requeue = settles.popleft()
            if channel.closed:
                continue  # what follows a channel's close is dropped, as on the wire
            try:
                self._settle_or_fail(channel, delivery_tag, multiple, verb, requeue)
            except Exception as error:  # a bug: report it once the lock is free, and go on
                report = f"settling {verb} {delivery_tag} on {channel.label} failed"
                self._later(functools.partial(log.error, report, exc_info=error))

    def _settle_or_fail(
        self, channel: Channel, delivery_tag: int, multiple: bool, verb: str, requeue: bool
    ) -> None:
        try:
            self._settle(channel, delivery_tag, multiple, verb, requeue)
        except AMQPError as error:
            self._fail(channel, error)

    def _settle(
        self, channel: Channel, delivery_tag: int, multiple: bool, verb: str, requeue: bool
    ) -> None:
        records = self._take_unacked(channel, delivery_tag, multiple)
        touched: dict[int, Queue] = {}
        # Newest first, so requeued messages slot back in front of each other in order.
        for tag, (queue, entry, consumer) in reversed(records):
            if consumer is not None:
                consumer.unacked -= 1
            queue.unacked -= 1
            touched[id(queue)] = queue
            if verb == "ack":
                self._acked(channel, tag, queue, entry)
            else:
                self._refused(channel, tag, queue, entry, verb, requeue)
        refill = self._back_in_queue if requeue and verb != "ack" else self._dispatch
        for queue in touched.values():
            if queue.ready and not queue.deleted:
                refill(queue)
        if channel.global_prefetch:
            for consumer in list(channel.consumers.values()):
                self._dispatch(consumer.queue)

    def _acked(self, channel: Channel, tag: int, queue: Queue, entry: QueueEntry) -> None:
        channel.connection.stats.counts["ack"] += 1
        queue.counters["acked"] += 1
        self.totals["acked"] += 1
        self._record(
            "acked",
            queue.vhost,
            queue.name,
            entry.message.id,
            channel.connection.name,
            channel.number,
            tag,
        )

    def _refused(
        self,
        channel: Channel,
        tag: int,
        queue: Queue,
        entry: QueueEntry,
        verb: str,
        requeue: bool,
    ) -> None:
        """basic.nack or basic.reject: back to the queue, or on to dead-lettering."""
        message = entry.message
        common = {
            "vhost": queue.vhost,
            "queue": queue.name,
            "message_id": message.id,
            "delivery_tag": tag,
            "connection": channel.connection.name,
            "channel": channel.number,
        }
        self._emit("nacked" if verb == "nack" else "rejected", requeue=requeue, **common)
        if queue.deleted:
            return
        if requeue:
            queue.requeue(entry)
            self._emit("requeued", **common, depth=len(queue.ready))
        else:
            self._dead_letter(queue, message, "rejected")

    def _take_unacked(
        self, channel: Channel, delivery_tag: int, multiple: bool
    ) -> list[tuple[int, Unacked]]:
        unacked = channel.unacked
        if multiple and delivery_tag == 0:
            records = list(unacked.items())
            unacked.clear()
            return records
        if delivery_tag not in unacked:
            raise errors.precondition(
                f"unknown delivery tag {delivery_tag}",
                "each delivery is acked once, on the channel it came on; "
                "this channel is now closed and its unacked messages requeued",
            )
        if not multiple:
            return [(delivery_tag, unacked.pop(delivery_tag))]
        records = []
        while unacked:
            tag = next(iter(unacked))
            if tag > delivery_tag:
                break
            records.append((tag, unacked.pop(tag)))
        return records

    def basic_recover(self, channel: Channel, requeue: bool) -> None:
        with self._op(channel):
            if not requeue:
                raise AMQPError(
                    errors.NOT_IMPLEMENTED, "requeue=false", "basic.recover needs requeue=true"
                )
            self._requeue_all(channel)

    def _requeue_all(self, channel: Channel) -> None:
        records = list(channel.unacked.items())
        channel.unacked.clear()
        touched: dict[int, Queue] = {}
        for tag, (queue, entry, consumer) in reversed(records):
            if consumer is not None:
                consumer.unacked -= 1
            queue.unacked -= 1
            if not queue.deleted:
                queue.requeue(entry)
                touched[id(queue)] = queue
                self._emit(
                    "requeued",
                    vhost=queue.vhost,
                    queue=queue.name,
                    message_id=entry.message.id,
                    delivery_tag=tag,
                    connection=channel.connection.name,
                    channel=channel.number,
                    depth=len(queue.ready),
                )
        for queue in touched.values():
            self._back_in_queue(queue)

    def _back_in_queue(self, queue: Queue) -> None:
        """Messages were requeued: RabbitMQ applies drop-head and expiry to them, then delivers."""
        if queue.overflow == "drop-head":
            self._drop_over_limit(queue)
        self._dispatch(queue)

    # --- expiry and dead-lettering ----------------------------------------------------------

    def _expire_head(self, queue: Queue, now: float) -> None:
        while queue.head_expired(now):
            self._expired(queue, queue.pop_head())

    def _expired(self, queue: Queue, entry: QueueEntry) -> None:
        queue.counters["expired"] += 1
        self._emit("expired", vhost=queue.vhost, queue=queue.name, message_id=entry.message.id)
        self._dead_letter(queue, entry.message, "expired")

    def _dead_letter(self, queue: Queue, message: Message, reason: str) -> None:
        if queue.dead_letter_exchange is None:
            return
        vhost = self.vhosts[queue.vhost]
        exchange = vhost.exchanges.get(queue.dead_letter_exchange)
        if exchange is None:
            self._emit(
                "dropped",
                vhost=vhost.name,
                queue=queue.name,
                message_id=message.id,
                reason=f"dead-letter exchange '{queue.dead_letter_exchange}' does not exist",
            )
            return
        copy, keys = dead_letter_copy(
            message,
            queue.name,
            reason,
            exchange.name,
            queue.dead_letter_routing_key,
            self.clock.wall(),
        )
        queue.counters["dead_lettered"] += 1
        self._emit(
            "dead-lettered",
            vhost=vhost.name,
            queue=queue.name,
            message_id=message.id,
            reason=reason,
            exchange=exchange.name,
            routing_keys=keys,
        )
        now = self.clock.now()
        targets, _ = self._route(vhost, exchange, copy, keys, "dead-lettered")
        for target in targets:
            if is_cycle(target.name, copy, reason):
                self._emit(
                    "dropped",
                    vhost=vhost.name,
                    queue=target.name,
                    message_id=message.id,
                    reason="dead-letter cycle with no reject in it",
                )
                continue
            self._enqueue(target, copy, now)

    def _schedule(self, when: float, queue: Queue) -> None:
        earliest = self._deadlines[0][0] if self._deadlines else None
        heapq.heappush(self._deadlines, (when, next(self._deadline_ids), queue))
        if self._ticker is not None and (earliest is None or when < earliest):
            self._ticker.wake()

    def next_deadline(self) -> float | None:
        with self._op():
            return self._deadlines[0][0] if self._deadlines else None

    def run_due(self) -> None:
        """Expire messages and queues whose time has come (called by the clock's timer)."""
        with self._op():
            now = self.clock.now()
            while self._deadlines and self._deadlines[0][0] <= now:
                _, _, queue = heapq.heappop(self._deadlines)
                if queue.deleted:
                    continue
                self._expire_head(queue, now)
                if (
                    queue.expires is not None
                    and queue.is_unused
                    and now - queue.last_used >= queue.expires
                ):
                    self._delete_queue(queue, "x-expires: unused for too long")

    # --- looking things up ------------------------------------------------------------------

    def _vhost(self, channel: Channel) -> VHost:
        return self.vhosts[channel.connection.vhost]

    def _queue(self, channel: Channel, name: str) -> Queue:
        vhost = self._vhost(channel)
        queue = vhost.queues.get(name)
        if queue is None:
            raise not_found("queue", name, vhost.name)
        if queue.owner is not None and queue.owner is not channel.connection:
            raise _locked(queue)
        return queue

    # --- reading state (for pages, the HTTP API and tests) ----------------------------------

    def snapshot(self, vhost: str = "/") -> dict[str, Any]:
        """Everything a page draws, consistent at one event sequence number."""
        with self._op():
            state = self.vhosts[vhost]
            now = self.clock.now()
            consumers = [c.info() for q in state.queues.values() for c in q.consumers]
            consumers += [c.info() for c in self.direct_reply_to.consumers(vhost)]
            channels = [
                ch.info()
                for conn in self.connections.values()
                if conn.vhost == vhost
                for ch in conn.channels.values()
            ]
            return {
                "seq": self.events.last_seq,
                "vhost": vhost,
                "exchanges": [e.info(now) for e in state.exchanges.values()],
                "queues": [q.info(now) for q in state.queues.values()],
                "bindings": [
                    b.to_dict(vhost) for e in state.exchanges.values() for b in e.bindings
                ],
                "consumers": consumers,
                "connections": [c.info() for c in self.connections.values() if c.vhost == vhost],
                "channels": channels,
                "totals": dict(self.totals),
            }

    def queue_depths(self, vhost: str = "/") -> dict[str, tuple[int, int, int]]:
        """(ready, unacked, consumers) for every queue of a vhost, read at one instant."""
        with self._op():
            state = self.vhosts.get(vhost)
            queues = state.queues.values() if state else ()
            return {q.name: (len(q.ready), q.unacked, len(q.consumers)) for q in queues}

    def peek(self, vhost: str, queue: str, count: int = 10) -> list[dict[str, Any]]:
        """The first ready messages of a queue, left where they are."""
        with self._op():
            state = self.vhosts.get(vhost)
            found = state.queues.get(queue) if state else None
            if found is None:
                raise not_found("queue", queue, vhost)
            entries = list(itertools.islice(found.ready, count))
        return [{**describe_message(e.message), "redelivered": e.redelivered} for e in entries]

    def close(self) -> None:
        """Stop the timer thread and close every connection (code 320, as on shutdown)."""
        with self._op():
            for connection in list(self.connections.values()):
                self._close_connection(connection, "CONNECTION_FORCED - broker shutdown")
        if self._ticker is not None:
            self._ticker.stop()


_DEFAULT_EXCHANGE_HINT = (
    'the default exchange ("") routes to the queue named by the routing key by itself; '
    "publish to it, but do not declare, bind or delete it"
)


def _locked(queue: Queue) -> AMQPError:
    return AMQPError(
        errors.RESOURCE_LOCKED,
        f"cannot obtain exclusive access to locked queue '{queue.name}' in vhost "
        f"'{queue.vhost}'. It could be originally declared on another connection or the "
        "exclusive property value does not match that of the original declaration.",
        "an exclusive queue belongs to the connection that declared it",
    )


def _resolve_binding(
    channel: Channel, destination_kind: str, destination: str, routing_key: str | None
) -> tuple[str, str]:
    """AMQP shortcuts: queue "" is the channel's last declared queue, and with it an empty
    routing key means that queue's name; a Python caller's None key also means the name."""
    if destination_kind == "queue":
        if destination == "" and not routing_key:
            routing_key = None
        destination = channel.resolve_queue(destination)
    return destination, destination if routing_key is None else routing_key


def _exchange_fields(exchange: Exchange) -> dict[str, Any]:
    return {
        "name": exchange.name,
        "exchange_type": exchange.type,
        "durable": exchange.durable,
        "auto_delete": exchange.auto_delete,
        "internal": exchange.internal,
        "arguments": exchange.arguments,
    }


def _queue_fields(queue: Queue) -> dict[str, Any]:
    return {
        "name": queue.name,
        "durable": queue.durable,
        "exclusive": queue.exclusive,
        "auto_delete": queue.auto_delete,
        "arguments": queue.arguments,
    }


class _Transaction:
    """One broker operation: take the lock; on an AMQP error close the channel (or connection)
    as RabbitMQ would; record the events; release; then run the outbox."""

    __slots__ = ("broker", "channel")

    def __init__(self, broker: Broker, channel: Channel | None) -> None:
        self.broker = broker
        self.channel = channel

    def __enter__(self) -> None:
        broker = self.broker
        broker._lock.acquire()
        try:
            broker._begin()
            if self.channel is not None:
                self.channel.check_open()
        except BaseException:
            broker._end()
            raise

    def __exit__(self, exc_type: type | None, error: BaseException | None, tb: Any) -> None:
        broker = self.broker
        try:
            if (
                self.channel is not None
                and isinstance(error, AMQPError)
                and not isinstance(error, ChannelClosed | ConnectionClosed)
            ):
                broker._fail(self.channel, error)
        finally:
            broker._end()
