"""Into a queue: x-max-length, x-max-length-bytes and what x-overflow does when they are hit.

drop-head (the default) takes the new message and drops (dead-letters) from the head until the
queue is within its limits again; reject-publish refuses the new one (the publisher's confirm is
a nack); reject-publish-dlx also dead-letters the refused one.
"""

from __future__ import annotations

from broker.message import Message
from broker.queue import Queue
from broker.state import BrokerState
from broker.translatable import N_, phrase
from broker.verbs.deadlines import schedule
from broker.verbs.dispatch import dispatch
from broker.verbs.expiry import dead_letter_later

# Why drop-head dropped a message: made once, as a queue at its limit says it for every publish.
DROP_HEAD = phrase(N_("queue full (x-overflow %(overflow)s)"), overflow="drop-head")


def enqueue(s: BrokerState, queue: Queue, message: Message, now: float) -> bool:
    """Add a message to a queue, applying its length limits; False if the queue refused it."""
    limited = queue.max_length is not None or queue.max_length_bytes is not None
    if limited and queue.overflow != "drop-head" and queue.is_full_for(message):
        queue.counters["dropped"] += 1
        s.emit(
            "dropped",
            vhost=queue.vhost,
            queue=queue.name,
            message_id=message.id,
            reason=phrase(N_("queue full (x-overflow %(overflow)s)"), overflow=queue.overflow),
        )
        if queue.overflow == "reject-publish-dlx":
            dead_letter_later(s, queue, message, "maxlen")
        return False
    entry = queue.append(message, queue.expiry_for(message, now))
    s.record("enqueued", queue.vhost, queue.name, message.id, len(queue.ready))
    if entry.expires_at is not None:
        schedule(s, entry.expires_at, queue)
    if limited:
        drop_over_limit(s, queue)
    dispatch(s, queue, now)
    return True


def drop_over_limit(s: BrokerState, queue: Queue) -> None:
    """x-overflow drop-head: drop (and dead-letter) from the head until within the limits."""
    while queue.over_limit():
        head = queue.pop_head()
        queue.counters["dropped"] += 1
        s.emit(
            "dropped",
            vhost=queue.vhost,
            queue=queue.name,
            message_id=head.message.id,
            reason=DROP_HEAD,
        )
        dead_letter_later(s, queue, head.message, "maxlen")


def back_in_queue(s: BrokerState, queue: Queue) -> None:
    """Messages were requeued: RabbitMQ applies drop-head and expiry to them, then delivers."""
    if queue.overflow == "drop-head":
        drop_over_limit(s, queue)
    dispatch(s, queue)
