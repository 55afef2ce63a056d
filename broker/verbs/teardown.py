"""What goes away, and what goes with it: queues, exchanges, bindings and consumers.

Deleting a queue cancels its consumers and removes the bindings to it; removing the last binding
of an auto-delete exchange deletes the exchange; cancelling the last consumer of an auto-delete
queue deletes the queue. These cascades call each other, so they live together.
"""

from __future__ import annotations

from broker.actions import Cancel
from broker.exchanges import Binding
from broker.exchanges.exchange import Exchange
from broker.queue import Queue
from broker.state import BrokerState, Consumer, VHost
from broker.translatable import N_, phrase
from broker.verbs.deadlines import touch
from broker.verbs.durable import forget_binding, forget_exchange, forget_queue


def delete_queue(s: BrokerState, queue: Queue, reason: str) -> int:
    """Delete a queue: cancel its consumers (they are told), unbind it; returns its depth."""
    vhost = s.vhosts[queue.vhost]
    queue.deleted = True
    del vhost.queues[queue.name]
    for consumer in list(queue.consumers):
        remove_consumer(s, consumer, check_auto_delete=False)
        if consumer.on_cancel is not None:
            s.act(Cancel(consumer.on_cancel, consumer.tag))
    for exchange in list(vhost.exchanges.values()):
        for binding in [
            b
            for b in exchange.bindings
            if b.destination_kind == "queue" and b.destination == queue.name
        ]:
            remove_binding(s, vhost, exchange, binding, cascade=True)
    forget_queue(s, queue)
    count = len(queue.ready)
    s.emit("queue.deleted", vhost=vhost.name, name=queue.name, reason=reason, messages=count)
    return count


def delete_exchange(s: BrokerState, vhost: VHost, exchange: Exchange) -> None:
    """Delete an exchange with its bindings and the bindings other exchanges have to it."""
    for binding in list(exchange.bindings):
        remove_binding(s, vhost, exchange, binding, cascade=False)
    for other in vhost.exchanges.values():
        for binding in [
            b
            for b in other.bindings
            if b.destination_kind == "exchange" and b.destination == exchange.name
        ]:
            remove_binding(s, vhost, other, binding, cascade=False)
    del vhost.exchanges[exchange.name]
    forget_exchange(s, exchange)
    s.emit("exchange.deleted", vhost=vhost.name, name=exchange.name)


def remove_binding(
    s: BrokerState, vhost: VHost, exchange: Exchange, binding: Binding, cascade: bool
) -> None:
    exchange.remove_binding(binding)
    forget_binding(s, vhost.name, binding)
    s.emit("binding.deleted", **binding.to_dict(vhost.name))
    # An auto-delete exchange goes when its last binding does (not while being deleted).
    if cascade and exchange.auto_delete and not exchange.bindings:
        delete_exchange(s, vhost, exchange)


def remove_consumer(s: BrokerState, consumer: Consumer, check_auto_delete: bool = True) -> None:
    """Stop a consumer. Its unacked messages stay with its channel (as in RabbitMQ)."""
    queue = consumer.queue
    queue.remove_consumer(consumer)
    consumer.channel.consumers.pop(consumer.tag, None)
    s.emit(
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
        delete_queue(s, queue, phrase(N_("auto-delete: its last consumer went away")))
    else:
        touch(s, queue, s.clock.now())
