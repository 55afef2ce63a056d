"""Handing ready messages to consumers with room, in turn, one delivery at a time.

Which consumer goes next is the queue's business (queue.next_consumer: priorities, single active
consumer, round robin); whether a consumer has room is its own (prefetch, the channel's global
prefetch, flow and delivery credit). A delivery leaves a `Deliver` action for its consumer's
sink and, unless auto-ack, an unacked record on its channel (verbs/settle.py).
"""

from __future__ import annotations

from broker.actions import ContinueDispatch, Deliver
from broker.message import Delivery, QueueEntry
from broker.queue import Queue
from broker.state import BrokerState, ChannelState, Consumer, delivery_cost
from broker.verbs.expiry import expire_head, expired


def dispatch(s: BrokerState, queue: Queue, now: float | None = None) -> None:
    """Hand ready messages to consumers with room, in turn.

    A message whose TTL ends exactly now (TTL 0) still goes to a consumer that can take it
    now, as in RabbitMQ; only one already past its time is expired instead.

    At most `dispatch_batch` messages go out per call: a consumer without prefetch limit
    facing a deep backlog gets the rest in later rounds, each under the lock again, so
    nobody else waits for the whole backlog to be handed over."""
    budget = s.dispatch_batch
    ready = queue.ready
    while ready and queue.consumers:
        if budget == 0:
            if not queue.dispatch_pending:
                queue.dispatch_pending = True
                s.act(ContinueDispatch(queue))
            return
        consumer = queue.next_consumer()
        if consumer is None:
            break
        budget -= 1
        entry = queue.pop_head()
        if entry.expires_at is not None:
            now = s.clock.now() if now is None else now
            if entry.expires_at < now:
                expired(s, queue, entry)
                continue
        deliver(s, consumer, queue, entry)
    # What no consumer could take now and whose time is up goes at once, as in RabbitMQ:
    # an expired message that reached the head (or TTL 0) is not left counted as ready.
    if ready and ready[0].expires_at is not None:
        expire_head(s, queue, s.clock.now() if now is None else now)


def continue_dispatch(s: BrokerState, queue: Queue) -> None:
    """The next round of a large hand-over (a ContinueDispatch action, under the lock again)."""
    queue.dispatch_pending = False
    if not queue.deleted:
        dispatch(s, queue)


def dispatch_consumers_of(s: BrokerState, channel: ChannelState) -> None:
    """A channel's limits loosened (credit, global prefetch, flow): its consumers may take more."""
    for consumer in list(channel.consumers.values()):
        dispatch(s, consumer.queue)


def deliver(s: BrokerState, consumer: Consumer, queue: Queue, entry: QueueEntry) -> None:
    channel = consumer.channel
    tag = channel.next_delivery_tag()
    message = entry.message
    if channel.delivery_credit is not None:
        channel.delivery_credit -= delivery_cost(message)
    if not consumer.no_ack:
        channel.unacked[tag] = (queue, entry, consumer)
        consumer.unacked += 1
        queue.unacked += 1
    count_delivery(s, queue, entry, channel)
    consumer.delivered += 1
    s.record(
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
        message, queue.name, tag, entry.redelivered, consumer.tag, None, channel.handle
    )
    s.actions.append(Deliver(consumer.sink, delivery))


def count_delivery(s: BrokerState, queue: Queue, entry: QueueEntry, channel: ChannelState) -> None:
    channel.connection.stats.counts["deliver_get"] += 1
    queue.counters["delivered"] += 1
    s.totals["delivered"] += 1
    if entry.redelivered:
        queue.counters["redelivered"] += 1
