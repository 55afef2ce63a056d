"""What of a topology change reaches the store: the durable things, and nothing else.

RabbitMQ's rules: a durable exchange and a durable, non-exclusive queue are stored; a binding is
stored when both its ends are durable; every vhost is. Non-durable and exclusive things never
touch the disk, and neither does anything when no store is attached (`s.persisting` is False),
so `Broker()` works as it always has. The verbs call these at their seams (declare, delete,
bind, unbind and the cascades of teardown.py); each leaves a StoreWrite action for the front.
"""

from __future__ import annotations

from broker.exchanges import Binding
from broker.exchanges.exchange import Exchange
from broker.queue import Queue
from broker.state import BrokerState
from broker.store import changes


def is_durable(thing: Exchange | Queue) -> bool:
    """Does the store keep it? An exclusive queue never, durable flag or not."""
    if isinstance(thing, Queue):
        return thing.durable and not thing.exclusive
    return thing.durable


def remember_vhost(s: BrokerState, name: str) -> None:
    if s.persisting:
        s.persist(changes.PutVHost(name))


def remember_exchange(s: BrokerState, exchange: Exchange) -> None:
    if s.persisting and exchange.durable:
        s.persist(
            changes.PutExchange(
                exchange.vhost,
                exchange.name,
                exchange.type,
                exchange.auto_delete,
                exchange.internal,
                exchange.arguments,
            )
        )


def forget_exchange(s: BrokerState, exchange: Exchange) -> None:
    if s.persisting and exchange.durable:
        s.persist(changes.DeleteExchange(exchange.vhost, exchange.name))


def remember_queue(s: BrokerState, queue: Queue) -> None:
    if s.persisting and is_durable(queue):
        s.persist(changes.PutQueue(queue.vhost, queue.name, queue.auto_delete, queue.arguments))


def forget_queue(s: BrokerState, queue: Queue) -> None:
    if s.persisting and is_durable(queue):
        s.persist(changes.DeleteQueue(queue.vhost, queue.name))


def remember_binding(s: BrokerState, vhost: str, binding: Binding) -> None:
    """Store a new binding whose two ends are durable (binding.durable, set by the bind verb)."""
    if s.persisting and binding.durable:
        s.persist(changes.PutBinding(vhost, *_binding_fields(binding)))


def forget_binding(s: BrokerState, vhost: str, binding: Binding) -> None:
    if s.persisting and binding.durable:
        s.persist(changes.DeleteBinding(vhost, *_binding_fields(binding)))


def _binding_fields(binding: Binding) -> tuple:
    return (
        binding.source,
        binding.destination_kind,
        binding.destination,
        binding.routing_key,
        binding.arguments,
    )
