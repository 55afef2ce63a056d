"""Settling deliveries: basic.ack, basic.nack, basic.reject and basic.recover.

Unacked deliveries belong to their channel, numbered by delivery tag. `multiple` covers every tag
up to the one given (tag 0 with multiple: all of them). An unknown tag is 406 and closes the
channel, whose unacked messages go back to their queues. A requeued message returns to its
original place with redelivered=true; a refused one without requeue is dead-lettered.
"""

from __future__ import annotations

from broker import errors
from broker.errors import AMQPError
from broker.message import QueueEntry
from broker.queue import Queue
from broker.state import BrokerState, ChannelState, Unacked
from broker.translatable import N_
from broker.verbs.dispatch import dispatch, dispatch_consumers_of
from broker.verbs.expiry import dead_letter_later
from broker.verbs.limits import back_in_queue


def settle(
    s: BrokerState,
    channel: ChannelState,
    delivery_tag: int,
    multiple: bool,
    verb: str,
    requeue: bool,
) -> None:
    """ack, nack or reject one delivery tag, or every tag up to it (406 if unknown)."""
    records = take_unacked(channel, delivery_tag, multiple)
    touched: dict[int, Queue] = {}
    # Newest first, so requeued messages slot back in front of each other in order.
    for tag, (queue, entry, consumer) in reversed(records):
        if consumer is not None:
            consumer.unacked -= 1
        queue.unacked -= 1
        touched[id(queue)] = queue
        if verb == "ack":
            acked(s, channel, tag, queue, entry)
        else:
            refused(s, channel, tag, queue, entry, verb, requeue)
    refill = back_in_queue if requeue and verb != "ack" else dispatch
    for queue in touched.values():
        if queue.ready and not queue.deleted:
            refill(s, queue)
    if channel.global_prefetch:
        dispatch_consumers_of(s, channel)


def acked(s: BrokerState, channel: ChannelState, tag: int, queue: Queue, entry: QueueEntry) -> None:
    channel.connection.stats.counts["ack"] += 1
    queue.counters["acked"] += 1
    s.totals["acked"] += 1
    s.record(
        "acked",
        queue.vhost,
        queue.name,
        entry.message.id,
        channel.connection.name,
        channel.number,
        tag,
    )


def refused(
    s: BrokerState,
    channel: ChannelState,
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
    s.emit("nacked" if verb == "nack" else "rejected", requeue=requeue, **common)
    if queue.deleted:
        return
    if requeue:
        queue.requeue(entry)
        s.emit("requeued", **common, depth=len(queue.ready))
    else:
        dead_letter_later(s, queue, message, "rejected")


def take_unacked(
    channel: ChannelState, delivery_tag: int, multiple: bool
) -> list[tuple[int, Unacked]]:
    """Remove and return the unacked records a settle covers, oldest first."""
    unacked = channel.unacked
    if multiple and delivery_tag == 0:
        records = list(unacked.items())
        unacked.clear()
        return records
    if delivery_tag not in unacked:
        raise errors.precondition(
            f"unknown delivery tag {delivery_tag}",
            N_(
                "each delivery is acked once, on the channel it came on; "
                "this channel is now closed and its unacked messages requeued"
            ),
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


def basic_recover(s: BrokerState, channel: ChannelState, requeue: bool) -> None:
    if not requeue:
        raise AMQPError(
            errors.NOT_IMPLEMENTED, "requeue=false", N_("basic.recover needs requeue=true")
        )
    requeue_all(s, channel)


def requeue_all(s: BrokerState, channel: ChannelState) -> None:
    """Every unacked delivery of the channel back to its queue (recover, or the channel closed)."""
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
            s.emit(
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
        back_in_queue(s, queue)
