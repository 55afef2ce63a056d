"""Bindings: a queue or an exchange bound to an exchange with a key (or header arguments).

The default exchange cannot be bound (403). Binding twice is a no-op, and so is removing a
binding that is not there, as in RabbitMQ. AMQP shortcuts: queue "" is the channel's last
declared queue, and with it an empty routing key means that queue's name.
"""

from __future__ import annotations

from typing import Any

from broker.errors import access_refused, not_found
from broker.exchanges import Binding
from broker.exchanges.exchange import Exchange
from broker.queue import Queue
from broker.state import BrokerState, ChannelState, VHost
from broker.verbs.declare import DEFAULT_EXCHANGE_HINT, DEFAULT_EXCHANGE_REFUSED
from broker.verbs.durable import is_durable, remember_binding
from broker.verbs.teardown import remove_binding


def bind(
    s: BrokerState,
    channel: ChannelState,
    source: str,
    destination_kind: str,
    destination: str,
    routing_key: str | None,
    arguments: dict[str, Any] | None,
) -> None:
    vhost = s.vhost_of(channel)
    destination, routing_key = resolve_binding(channel, destination_kind, destination, routing_key)
    exchange = bindable_exchange(vhost, source)
    if destination_kind == "queue":
        target: Exchange | Queue = s.queue_for(channel, destination)
    else:
        target = bindable_exchange(vhost, destination)
    binding = Binding(source, destination, destination_kind, routing_key, arguments)
    exchange.router.validate(binding)
    if exchange.find_binding(binding.key) is not None:
        return
    binding.durable = is_durable(exchange) and is_durable(target)
    exchange.add_binding(binding)
    remember_binding(s, vhost.name, binding)
    s.emit("binding.created", **binding.to_dict(vhost.name))


def unbind(
    s: BrokerState,
    channel: ChannelState,
    source: str,
    destination_kind: str,
    destination: str,
    routing_key: str | None,
    arguments: dict[str, Any] | None,
) -> None:
    vhost = s.vhost_of(channel)
    destination, routing_key = resolve_binding(channel, destination_kind, destination, routing_key)
    if source == "":
        raise access_refused(DEFAULT_EXCHANGE_REFUSED, DEFAULT_EXCHANGE_HINT)
    exchange = vhost.exchanges.get(source)
    wanted = Binding(source, destination, destination_kind, routing_key, arguments)
    binding = exchange.find_binding(wanted.key) if exchange else None
    if exchange is None or binding is None:
        return  # RabbitMQ: removing a binding that is not there is fine
    if destination_kind == "queue":
        s.queue_for(channel, destination)  # exclusive queues: 405 from elsewhere
    remove_binding(s, vhost, exchange, binding, cascade=True)


def bindable_exchange(vhost: VHost, name: str) -> Exchange:
    if name == "":
        raise access_refused(DEFAULT_EXCHANGE_REFUSED, DEFAULT_EXCHANGE_HINT)
    exchange = vhost.exchanges.get(name)
    if exchange is None:
        raise not_found("exchange", name, vhost.name)
    return exchange


def resolve_binding(
    channel: ChannelState, destination_kind: str, destination: str, routing_key: str | None
) -> tuple[str, str]:
    """AMQP shortcuts: queue "" is the channel's last declared queue, and with it an empty
    routing key means that queue's name; a Python caller's None key also means the name."""
    if destination_kind == "queue":
        if destination == "" and not routing_key:
            routing_key = None
        destination = channel.resolve_queue(destination)
    return destination, destination if routing_key is None else routing_key
