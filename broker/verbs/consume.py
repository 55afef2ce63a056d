"""Taking messages: basic.consume, basic.cancel, basic.get, and a channel's limits on them
(basic.qos prefetch, channel.flow, and the writer's delivery credit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker import errors
from broker.arguments import consumer_priority
from broker.errors import AMQPError, access_refused
from broker.message import Delivery
from broker.queue import Queue
from broker.reply_to import REPLY_TO
from broker.state import BrokerState, ChannelState, Consumer, generated_name
from broker.translatable import N_
from broker.verbs.deadlines import touch
from broker.verbs.dispatch import count_delivery, dispatch, dispatch_consumers_of
from broker.verbs.expiry import expire_head
from broker.verbs.teardown import remove_consumer


def basic_consume(
    s: BrokerState,
    channel: ChannelState,
    queue_name: str,
    sink: Callable[[Delivery], None],
    consumer_tag: str,
    no_ack: bool,
    exclusive: bool,
    arguments: dict[str, Any] | None,
    on_cancel: Callable[[str], None] | None,
) -> str:
    queue_name = channel.resolve_queue(queue_name)
    direct_reply = queue_name == REPLY_TO
    if direct_reply:
        queue = s.direct_reply_to.queue_to_consume(channel, no_ack, s.clock.now())
    else:
        queue = s.queue_for(channel, queue_name)
    tag = consumer_tag or generated_name("amq.ctag-")
    if tag in channel.consumers:
        raise AMQPError(
            errors.NOT_ALLOWED,
            f"attempt to reuse consumer tag '{tag}'",
            N_("each consumer on a channel needs its own tag; leave it empty for a new one"),
        )
    # RabbitMQ ignores a reply-to consumer's arguments.
    priority = 0 if direct_reply else consumer_priority(arguments or {}, queue.name, queue.vhost)
    check_exclusive_use(queue, exclusive)
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
        direct_reply=direct_reply,
    )
    queue.add_consumer(consumer)
    channel.consumers[tag] = consumer
    s.emit("consumer.added", vhost=queue.vhost, **consumer.info())
    touch(s, queue, s.clock.now())
    dispatch(s, queue)
    return tag


def check_exclusive_use(queue: Queue, exclusive: bool) -> None:
    """403 when an exclusive consumer would share the queue with anyone."""
    if queue.consumers and (exclusive or any(c.exclusive for c in queue.consumers)):
        raise access_refused(
            f"queue '{queue.name}' in vhost '{queue.vhost}' in exclusive use",
            N_("an exclusive consumer must be the queue's only consumer"),
        )
    if exclusive and queue.single_active:
        raise access_refused(
            f"queue '{queue.name}' in vhost '{queue.vhost}' in exclusive use",
            N_(
                "a single-active-consumer queue already picks one consumer: "
                "consume without exclusive"
            ),
        )


def basic_cancel(s: BrokerState, channel: ChannelState, consumer_tag: str) -> None:
    consumer = channel.consumers.get(consumer_tag)
    if consumer is not None:  # RabbitMQ: cancelling an unknown tag is fine
        remove_consumer(s, consumer)
        if consumer.queue.single_active:  # the next consumer in line takes over
            dispatch(s, consumer.queue)


def basic_get(
    s: BrokerState, channel: ChannelState, queue_name: str, no_ack: bool
) -> Delivery | None:
    queue = s.queue_for(channel, channel.resolve_queue(queue_name))
    now = s.clock.now()
    touch(s, queue, now)
    expire_head(s, queue, now)
    if not queue.ready:
        s.emit("get.empty", vhost=queue.vhost, queue=queue.name)
        return None
    entry = queue.pop_head()
    tag = channel.next_delivery_tag()
    if not no_ack:
        channel.unacked[tag] = (queue, entry, None)
        queue.unacked += 1
    count_delivery(s, queue, entry, channel)
    s.record(
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
    expire_head(s, queue, now)  # an expired message that reached the head goes now
    return Delivery(
        entry.message,
        queue.name,
        tag,
        entry.redelivered,
        None,
        message_count=len(queue.ready),
        channel=channel.handle,
    )


def basic_qos(s: BrokerState, channel: ChannelState, prefetch_count: int, global_qos: bool) -> None:
    if prefetch_count < 0 or prefetch_count > 65535:
        raise errors.precondition(
            f"prefetch_count {prefetch_count} out of range", N_("use 0 (no limit) to 65535")
        )
    if global_qos:
        channel.global_prefetch = prefetch_count
        dispatch_consumers_of(s, channel)
    else:
        channel.prefetch_count = prefetch_count  # for consumers started from now on


def channel_flow(s: BrokerState, channel: ChannelState, active: bool) -> None:
    channel.flow_active = active
    if active:
        dispatch_consumers_of(s, channel)


def grant_credit(s: BrokerState, channel: ChannelState, cost: int) -> None:
    """The channel's writer sent deliveries of this much delivery_cost() on: it takes as much
    more, and consumers that waited for it may go on."""
    credit = channel.delivery_credit
    if credit is None:
        raise ValueError("grant_credit on a channel without delivery_credit")
    channel.delivery_credit = credit + cost
    if credit <= 0:
        dispatch_consumers_of(s, channel)
