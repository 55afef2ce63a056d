"""basic.publish: the checks RabbitMQ makes, routing (and the trace of why), enqueueing, confirms.

Routing follows exchange-to-exchange bindings and CC/BCC keys; the `routed` or `unroutable` event
says which bindings matched, and its trace (worked out only when someone reads it, from what was
true when the message was routed) says why the others did not.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker import errors
from broker.actions import Confirm, Return
from broker.arguments import check_expiration, check_priority
from broker.errors import access_refused, not_found
from broker.exchanges import Binding
from broker.exchanges.exchange import Exchange
from broker.message import EMPTY_PROPERTIES, Message, Properties
from broker.queue import Queue
from broker.reply_to import KEY_PREFIX, REPLY_TO
from broker.results import PublishResult, Returned
from broker.routing import routing_keys_for
from broker.state import BrokerState, ChannelState, VHost
from broker.translatable import N_
from broker.verbs.limits import enqueue


def checked(
    s: BrokerState, channel: ChannelState, exchange_name: str, properties: Properties
) -> tuple[Exchange, Properties]:
    """The exchange a publish goes to and the properties to publish with, after the checks
    RabbitMQ makes as a publish arrives (404, 403, 406). A direct reply-to request gets its
    reply key now, while its reply consumer is there."""
    vhost = s.vhosts[channel.connection.vhost]
    exchange = vhost.exchanges.get(exchange_name)
    if exchange is None:
        raise not_found("exchange", exchange_name, vhost.name)
    if exchange.internal:
        raise access_refused(
            f"cannot publish to internal exchange '{exchange_name}' in vhost '{vhost.name}'",
            N_("internal exchanges only receive from other exchanges"),
        )
    user = channel.connection.user
    if properties.user_id is not None and properties.user_id != user:
        # Tampering: a publisher may not sign a message as someone else (RabbitMQ's check).
        raise errors.precondition(
            f"user_id property set to '{properties.user_id}' but authenticated user was '{user}'",
            N_("leave user_id unset, or set it to the user you connected as"),
        )
    if properties.expiration is not None:
        check_expiration(properties.expiration)
    if properties.priority is not None:
        check_priority(properties.priority)
    if properties.reply_to == REPLY_TO:
        properties = s.direct_reply_to.rewrite(channel, properties)
    return exchange, properties


def confirm_select(s: BrokerState, channel: ChannelState) -> None:
    """From now on every publish on the channel is confirmed (basic.ack or basic.nack)."""
    channel.confirm_mode = True


def basic_publish(
    s: BrokerState,
    channel: ChannelState,
    exchange_name: str,
    routing_key: str,
    body: bytes,
    properties: Properties | None,
    mandatory: bool,
    amqp_header: bytes | None = None,
) -> PublishResult:
    properties = properties or EMPTY_PROPERTIES
    connection = channel.connection
    vhost = s.vhosts[connection.vhost]
    exchange, checked_properties = checked(s, channel, exchange_name, properties)
    if checked_properties is not properties:  # rewritten (reply-to): the client's header is stale
        properties, amqp_header = checked_properties, None
    message = Message(exchange_name, routing_key, body, properties, s.op_time, amqp_header)
    routing_keys = routing_keys_for(message)
    sequence = channel.next_publish_seq() if channel.confirm_mode else None
    s.totals["published"] += 1
    exchange.counters["published"] += 1
    connection.stats.counts["publish"] += 1
    s.record("published", message.for_history(), vhost.name, connection.name, channel.number)
    queues, names = route(s, vhost, exchange, message, routing_keys, "published")
    returned = not queues and mandatory
    if returned:
        return_unroutable(s, channel, message)
    accepted = True
    if queues:
        now = s.clock.now()
        for queue in queues:
            if not enqueue(s, queue, message, now):
                accepted = False
    if sequence is not None:
        confirm(s, channel, sequence, accepted, message)
    return PublishResult(names, accepted, returned, sequence, message.id)


def return_unroutable(s: BrokerState, channel: ChannelState, message: Message) -> None:
    """mandatory and unroutable: basic.return with 312 NO_ROUTE (before any confirm)."""
    s.emit(
        "returned",
        vhost=channel.connection.vhost,
        exchange=message.exchange,
        routing_key=message.routing_key,
        message_id=message.id,
        reply_code=errors.NO_ROUTE,
        reply_text="NO_ROUTE",
    )
    if channel.on_return is not None:
        s.act(Return(channel.on_return, Returned(errors.NO_ROUTE, "NO_ROUTE", message)))


def confirm(
    s: BrokerState, channel: ChannelState, sequence: int, accepted: bool, message: Message
) -> None:
    s.emit(
        "confirm",
        vhost=channel.connection.vhost,
        connection=channel.connection.name,
        channel=channel.number,
        delivery_tag=sequence,
        ack=accepted,
        message_id=message.id,
    )
    if channel.on_confirm is not None:
        s.act(Confirm(channel.on_confirm, sequence, accepted, False))


def route(
    s: BrokerState,
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
        if len(queues) < len(routing_keys) and any(k.startswith(KEY_PREFIX) for k in routing_keys):
            queues += s.direct_reply_to.route(vhost.name, routing_keys)
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
        matched, queues = route_through(vhost, exchange, message, routing_keys)
    counters = exchange.counters
    if queues:
        counters["routed"] += 1
    else:
        counters["unroutable"] += 1
        s.totals["unroutable"] += 1
    names = [queue.name for queue in queues]
    s.record(
        "routed" if queues else "unroutable",
        vhost.name,
        exchange,
        message.for_history(),
        routing_keys,
        tuple(names),
        matched,
        exchange.bindings,  # a tuple, replaced on change: the trace reads it later
        cause,
    )
    return queues, names


def route_through(
    vhost: VHost, exchange: Exchange, message: Message, routing_keys: list[str]
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
