"""Connection and Channel: what a client holds, and the verbs it calls, named after AMQP methods.

An AMQP socket, an in-process Python client, a simulation and the web app each open a
`Connection` (Broker.connect) and `Channel`s on it, and call the channel's verbs (queue_declare,
basic_publish, basic_ack …). A handle holds its record (state.py) and the broker; each verb runs
one function of verbs/ under the broker's lock (Broker.run). The handle also shows the few facts
about its channel a client needs (closed, number, confirm_mode …) and takes the callbacks the
broker reports to (on_return, on_confirm, on_close).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from broker.errors import AMQPError
from broker.message import Delivery, Properties
from broker.results import DeclareOk, PublishResult, Returned
from broker.state import ChannelState, ConnectionState, Consumer, Unacked
from broker.verbs import bindings, consume, declare, publish, settle

if TYPE_CHECKING:
    from collections import OrderedDict

    from broker.front import Broker


class Connection:
    """A client's connection: a name, a user, a vhost, and its channels."""

    def __init__(self, broker: Broker, state: ConnectionState) -> None:
        self.broker = broker
        self.state = state
        state.handle = self

    name = property(lambda self: self.state.name)
    vhost = property(lambda self: self.state.vhost)
    user = property(lambda self: self.state.user)
    kind = property(lambda self: self.state.kind)
    closed = property(lambda self: self.state.closed)
    close_reason = property(lambda self: self.state.close_reason)

    @property
    def on_close(self) -> Callable[[str, AMQPError | None], None] | None:
        """Called once when the connection closes: (reason, the error that closed it or None)."""
        return self.state.on_close

    @on_close.setter
    def on_close(self, callback: Callable[[str, AMQPError | None], None] | None) -> None:
        self.state.on_close = callback

    def channel(self, number: int | None = None) -> Channel:
        """Open a channel (numbered like AMQP channels, from 1)."""
        return self.broker.open_channel(self, number)

    def close(self, reason: str = "closed by client") -> None:
        """Close every channel (requeueing their unacked messages) and delete exclusive queues."""
        self.broker.close_connection(self, reason)

    def info(self) -> dict[str, Any]:
        return self.state.info(self.broker.clock.now())

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.close()


class Channel:
    """A channel: its verbs take the broker lock; its state is in `state` (state.ChannelState)."""

    def __init__(self, connection: Connection, state: ChannelState) -> None:
        self.connection = connection
        self.broker = connection.broker
        self.state = state
        state.handle = self  # deliveries carry the channel they came on

    number = property(lambda self: self.state.number)
    closed = property(lambda self: self.state.closed)
    close_error = property(lambda self: self.state.close_error)
    confirm_mode = property(lambda self: self.state.confirm_mode)
    label = property(lambda self: self.state.label)

    @property
    def unacked(self) -> OrderedDict[int, Unacked]:
        return self.state.unacked

    @property
    def consumers(self) -> dict[str, Consumer]:
        return self.state.consumers

    @property
    def delivery_credit(self) -> int | None:
        """How much more the channel's writer takes (None: no limit); see ChannelState."""
        return self.state.delivery_credit

    @delivery_credit.setter
    def delivery_credit(self, credit: int | None) -> None:
        self.state.delivery_credit = credit

    @property
    def on_return(self) -> Callable[[Returned], None] | None:
        return self.state.on_return

    @on_return.setter
    def on_return(self, callback: Callable[[Returned], None] | None) -> None:
        self.state.on_return = callback

    @property
    def on_confirm(self) -> Callable[[int, bool, bool], None] | None:
        return self.state.on_confirm

    @on_confirm.setter
    def on_confirm(self, callback: Callable[[int, bool, bool], None] | None) -> None:
        self.state.on_confirm = callback

    @property
    def on_close(self) -> Callable[[AMQPError | None], None] | None:
        """Called once when the channel closes, with the error that closed it (None if asked)."""
        return self.state.on_close

    @on_close.setter
    def on_close(self, callback: Callable[[AMQPError | None], None] | None) -> None:
        self.state.on_close = callback

    def check_open(self) -> None:
        self.state.check_open()

    def info(self) -> dict[str, Any]:
        return self.state.info()

    # --- the verbs ---------------------------------------------------------------------------

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
        self.broker.run_durable(
            declare.exchange_declare,
            self.state,
            exchange,
            exchange_type,
            passive,
            durable,
            auto_delete,
            internal,
            dict(arguments or {}),
        )

    def exchange_delete(self, exchange: str, if_unused: bool = False) -> None:
        self.broker.run_durable(declare.exchange_delete, self.state, exchange, if_unused)

    def exchange_bind(
        self,
        destination: str,
        source: str,
        routing_key: str = "",
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.bind(source, "exchange", destination, routing_key, arguments)

    def exchange_unbind(
        self,
        destination: str,
        source: str,
        routing_key: str = "",
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.unbind(source, "exchange", destination, routing_key, arguments)

    def bind(
        self,
        source: str,
        destination_kind: str,
        destination: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        """queue_bind or exchange_bind, by destination_kind ("queue" or "exchange")."""
        self.broker.run_durable(
            bindings.bind, self.state, source, destination_kind, destination, routing_key, arguments
        )

    def unbind(
        self,
        source: str,
        destination_kind: str,
        destination: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        """queue_unbind or exchange_unbind, by destination_kind ("queue" or "exchange")."""
        self.broker.run_durable(
            bindings.unbind,
            self.state,
            source,
            destination_kind,
            destination,
            routing_key,
            arguments,
        )

    def queue_declare(
        self,
        queue: str = "",
        passive: bool = False,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> DeclareOk:
        return self.broker.run_durable(
            declare.queue_declare,
            self.state,
            queue,
            passive,
            durable,
            exclusive,
            auto_delete,
            dict(arguments or {}),
        )

    def queue_bind(
        self,
        queue: str,
        exchange: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.bind(exchange, "queue", queue, routing_key, arguments)

    def queue_unbind(
        self,
        queue: str,
        exchange: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.unbind(exchange, "queue", queue, routing_key, arguments)

    def queue_purge(self, queue: str) -> int:
        return self.broker.run(declare.queue_purge, self.state, queue)

    def queue_delete(self, queue: str, if_unused: bool = False, if_empty: bool = False) -> int:
        return self.broker.run_durable(declare.queue_delete, self.state, queue, if_unused, if_empty)

    def basic_qos(self, prefetch_count: int = 0, global_qos: bool = False) -> None:
        self.broker.run(consume.basic_qos, self.state, prefetch_count, global_qos)

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Properties | None = None,
        mandatory: bool = False,
        amqp_header: bytes | None = None,
    ) -> PublishResult:
        return self.broker.run(
            publish.basic_publish,
            self.state,
            exchange,
            routing_key,
            body,
            properties,
            mandatory,
            amqp_header,
        )

    def check_publish(self, exchange: str, properties: Properties) -> Properties:
        """basic_publish's checks without the publish, for one held until a later commit
        (a direct reply-to request gets its reply key now, while its reply consumer is there)."""
        return self.broker.run(publish.checked, self.state, exchange, properties)[1]

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
        return self.broker.run(
            consume.basic_consume,
            self.state,
            queue,
            sink,
            consumer_tag,
            no_ack,
            exclusive,
            arguments,
            on_cancel,
        )

    def basic_cancel(self, consumer_tag: str) -> None:
        self.broker.run(consume.basic_cancel, self.state, consumer_tag)

    def basic_get(self, queue: str, no_ack: bool = False) -> Delivery | None:
        return self.broker.run(consume.basic_get, self.state, queue, no_ack)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.broker.run(settle.settle, self.state, delivery_tag, multiple, "ack", False)

    def basic_nack(
        self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True
    ) -> None:
        self.broker.run(settle.settle, self.state, delivery_tag, multiple, "nack", requeue)

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        self.broker.run(settle.settle, self.state, delivery_tag, False, "reject", requeue)

    def send_settle(
        self, verb: str, delivery_tag: int, multiple: bool = False, requeue: bool = True
    ) -> None:
        """ack / nack / reject as a client sends them: without waiting for the broker lock.
        An unknown tag then closes the channel (406) instead of raising here; see
        Broker.settle_soon."""
        self.broker.settle_soon(self.state, delivery_tag, multiple, verb, requeue)

    def basic_recover(self, requeue: bool = True) -> None:
        self.broker.run(settle.basic_recover, self.state, requeue)

    def confirm_select(self) -> None:
        self.broker.run(publish.confirm_select, self.state)

    def flow(self, active: bool) -> None:
        self.broker.run(consume.channel_flow, self.state, active)

    def grant_credit(self, cost: int) -> None:
        """The writer sent deliveries of this much delivery_cost() on: it takes as much more."""
        self.broker.run(consume.grant_credit, self.state, cost)

    def close(self) -> None:
        self.broker.close_channel(self, None)

    def resolve_queue(self, queue: str) -> str:
        """AMQP lets "" mean the queue this channel declared last."""
        return self.state.resolve_queue(queue)

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.close()
