"""Time running out: messages past their TTL at a queue's head, queues unused past x-expires.

As in RabbitMQ, TTL expires messages only at the head of a queue. An expired message is
dead-lettered when its queue has a dead-letter exchange (republished before the operation ends).
"""

from __future__ import annotations

from broker.message import Message, QueueEntry
from broker.queue import Queue
from broker.state import BrokerState
from broker.translatable import N_, phrase
from broker.verbs.deadlines import pop_due
from broker.verbs.teardown import delete_queue


def expire_head(s: BrokerState, queue: Queue, now: float) -> None:
    while queue.head_expired(now):
        expired(s, queue, queue.pop_head())


def expired(s: BrokerState, queue: Queue, entry: QueueEntry) -> None:
    queue.counters["expired"] += 1
    s.emit("expired", vhost=queue.vhost, queue=queue.name, message_id=entry.message.id)
    dead_letter_later(s, queue, entry.message, "expired")


def dead_letter_later(s: BrokerState, queue: Queue, message: Message, reason: str) -> None:
    """Republish to the queue's dead-letter exchange, if it has one, before the operation ends
    (verbs/dead_letter.py): as in RabbitMQ, the queue hands its dead letters on after its own
    work, and a chain of dead-letter queues never recurses."""
    if queue.dead_letter_exchange is not None:
        s.dead_letters.append((queue, message, reason))


def run_due(s: BrokerState, now: float) -> None:
    """Expire messages and queues whose time has come (the timer calls this)."""
    while (queue := pop_due(s, now)) is not None:
        expire_head(s, queue, now)
        if queue.expires is not None and queue.is_unused and now - queue.last_used >= queue.expires:
            delete_queue(s, queue, phrase(N_("x-expires: unused for too long")))
