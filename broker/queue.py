"""The queue: ready messages in order, consumers taking turns, and the limits RabbitMQ applies.

A queue holds ready messages (a deque in publish order, or one per priority: priority.py) and
counts those handed out but not yet acknowledged. Requeued messages go back to their original
place (by their `seq`), as RabbitMQ puts them back where they were. TTL expires messages only
at the head of the queue, also as in RabbitMQ: a message with a short per-message TTL behind one
without waits its turn.

All methods here run under the broker's lock; the broker decides what to do with what they
return (deliver, dead-letter, emit events).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from broker.arguments import validate_queue_arguments
from broker.message import Message, QueueEntry
from broker.priority import PriorityReady, put_back
from broker.stats import QUEUE_STATS, RateMeter

if TYPE_CHECKING:
    from broker.state import ConnectionState, Consumer


def _as_str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Queue:
    def __init__(
        self,
        vhost: str,
        name: str,
        durable: bool = False,
        exclusive: ConnectionState | None = None,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
        now: float = 0.0,
    ) -> None:
        arguments = dict(arguments or {})
        validate_queue_arguments(arguments, name, vhost)
        self.vhost = vhost
        self.name = name
        self.durable = durable
        self.owner = exclusive  # the connection an exclusive queue belongs to
        self.auto_delete = auto_delete
        self.arguments = arguments
        ttl = arguments.get("x-message-ttl")
        self.message_ttl: float | None = None if ttl is None else ttl / 1000
        expires = arguments.get("x-expires")
        self.expires: float | None = None if expires is None else expires / 1000
        self.max_length: int | None = arguments.get("x-max-length")
        self.max_length_bytes: int | None = arguments.get("x-max-length-bytes")
        self.overflow: str = _as_str(arguments.get("x-overflow", "drop-head"))
        dlx = arguments.get("x-dead-letter-exchange")
        self.dead_letter_exchange: str | None = None if dlx is None else _as_str(dlx)
        dlrk = arguments.get("x-dead-letter-routing-key")
        self.dead_letter_routing_key: str | None = None if dlrk is None else _as_str(dlrk)

        max_priority = arguments.get("x-max-priority")
        self.ready: deque[QueueEntry] | PriorityReady = (
            deque() if max_priority is None else PriorityReady(max_priority)
        )
        self.ready_bytes = 0
        self.unacked = 0
        self.single_active: bool = arguments.get("x-single-active-consumer", False)
        self.consumers: list[Consumer] = []
        self._turn = 0
        self._top_priority = 0  # the highest x-priority among the consumers
        self._active: Consumer | None = None  # x-single-active-consumer: see active_consumer
        self._departed_active: Consumer | None = None
        self._next_seq = 0
        self.had_consumer = False
        self.dispatch_pending = False  # a next round of deliveries is waiting in the outbox
        self.last_used = now
        self.deleted = False
        self.counters = {
            "published": 0,
            "delivered": 0,
            "acked": 0,
            "redelivered": 0,
            "expired": 0,
            "dead_lettered": 0,
            "dropped": 0,
        }
        self.rates = RateMeter(self.counters, QUEUE_STATS, now)

    @property
    def exclusive(self) -> bool:
        return self.owner is not None

    # --- adding and taking messages -------------------------------------------------------

    def is_full_for(self, message: Message) -> bool:
        """Would one more message break x-max-length or x-max-length-bytes?"""
        if self.max_length is not None and len(self.ready) >= self.max_length:
            return True
        return (
            self.max_length_bytes is not None
            and self.ready_bytes + len(message.body) > self.max_length_bytes
        )

    def over_limit(self) -> bool:
        if self.max_length is not None and len(self.ready) > self.max_length:
            return True
        return self.max_length_bytes is not None and self.ready_bytes > self.max_length_bytes

    def append(self, message: Message, expires_at: float | None) -> QueueEntry:
        self._next_seq += 1
        entry = QueueEntry(message, self._next_seq, expires_at)
        self.ready.append(entry)
        self.ready_bytes += len(message.body)
        self.counters["published"] += 1
        return entry

    def pop_head(self) -> QueueEntry:
        entry = self.ready.popleft()
        self.ready_bytes -= len(entry.message.body)
        return entry

    def requeue(self, entry: QueueEntry) -> None:
        """Put a message back where it was, marked redelivered."""
        entry.redelivered = True
        self.ready_bytes += len(entry.message.body)
        if isinstance(self.ready, PriorityReady):
            self.ready.put_back(entry)
        else:
            put_back(self.ready, entry)

    def head_expired(self, now: float) -> bool:
        return bool(self.ready) and (e := self.ready[0].expires_at) is not None and e <= now

    def expiry_for(self, message: Message, now: float) -> float | None:
        """When a message enqueued now expires: the sooner of queue TTL and message TTL."""
        ttl = self.message_ttl
        expiration = message.properties.expiration
        if expiration is not None:
            own = int(expiration) / 1000
            ttl = own if ttl is None else min(ttl, own)
        return None if ttl is None else now + ttl

    def purge(self) -> list[QueueEntry]:
        entries = list(self.ready)
        self.ready.clear()
        self.ready_bytes = 0
        return entries

    # --- consumers ------------------------------------------------------------------------

    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers.append(consumer)
        self.had_consumer = True
        self._top_priority = max(c.priority for c in self.consumers)
        if self.single_active and self._active is None and self._departed_active is None:
            self._active = consumer  # the first one in takes the turn, whatever its priority

    def remove_consumer(self, consumer: Consumer) -> None:
        if consumer in self.consumers:
            self.consumers.remove(consumer)
            self._top_priority = max((c.priority for c in self.consumers), default=0)
            if consumer is self._active:
                self._active = None
                if consumer.unacked:
                    self._departed_active = consumer

    @property
    def active_consumer(self) -> Consumer | None:
        """With x-single-active-consumer, the one consumer that gets messages; the rest wait.

        The first consumer takes the turn; when the active one goes, the turn passes to the
        waiting consumer with the highest x-priority (the earliest among equals), as in RabbitMQ.
        An active consumer cancelled while it still holds unacked messages keeps the turn until
        they are settled or requeued, so the next one cannot overtake them: order is the point
        of a single active consumer."""
        if not self.single_active or self._active is not None:
            return self._active
        departed = self._departed_active
        if departed is not None:
            if departed.unacked:
                return None
            self._departed_active = None
        if self.consumers:
            self._active = max(self.consumers, key=lambda c: c.priority)  # earliest on ties
        return self._active

    def next_consumer(self) -> Consumer | None:
        """The consumer for the next message, among those with room under their prefetch.

        The highest x-priority wins; equals take turns (round-robin). A lower-priority consumer
        gets a message only while every higher one is full, as with RabbitMQ's consumer priorities.
        """
        if self.single_active:
            active = self.active_consumer
            return active if active is not None and active.can_take() else None
        count = len(self.consumers)
        if count == 1:  # the common case, without the walk
            only = self.consumers[0]
            return only if only.can_take() else None
        chosen, chosen_offset = None, 0
        for offset in range(count):
            consumer = self.consumers[(self._turn + offset) % count]
            if (chosen is None or consumer.priority > chosen.priority) and consumer.can_take():
                chosen, chosen_offset = consumer, offset
                if consumer.priority == self._top_priority:
                    break
        if chosen is not None:
            self._turn = (self._turn + chosen_offset + 1) % count
        return chosen

    @property
    def is_unused(self) -> bool:
        return not self.consumers

    def info(self, now: float) -> dict[str, Any]:
        """The fields of RabbitMQ's management API `/api/queues` that we support."""
        active = self.active_consumer
        return {
            "name": self.name,
            "vhost": self.vhost,
            "durable": self.durable,
            "exclusive": self.exclusive,
            "auto_delete": self.auto_delete,
            "arguments": self.arguments,
            "messages_ready": len(self.ready),
            "messages_unacknowledged": self.unacked,
            "messages": len(self.ready) + self.unacked,
            "message_bytes_ready": self.ready_bytes,
            "consumers": len(self.consumers),
            "single_active_consumer_tag": active.tag if active else None,
            "owner_connection": self.owner.name if self.owner else None,
            "counters": dict(self.counters),
            "message_stats": self.rates.message_stats(now),
        }
