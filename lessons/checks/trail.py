"""What happened to the check's own messages, read back from the event log.

A check publishes a burst, lets the consumers work, and then asks the events: when was each
message published, to whom was it delivered (and was it auto-ack, a redelivery), when and by
whom was it acked. The times are the broker's, taken when it made each change. The checks of
delay, fair dispatch, ordering and idempotency measure with this.
"""

from __future__ import annotations

from collections.abc import Iterable

from broker.events import Event
from lessons.checks.lab import Lab

FLOW = ("published", "delivered", "acked")


class Trail:
    """The published, delivered and acked events of some messages, in the order they happened."""

    def __init__(self, lab: Lab, since: int, message_ids: Iterable[int | None]) -> None:
        ids = {i for i in message_ids if i is not None}
        events = [e for e in lab.events_since(since, FLOW) if e.get("message_id") in ids]
        self.count = len(ids)
        self.published = {e.get("message_id"): e.time for e in events if e.type == "published"}
        self.deliveries = [e for e in events if e.type == "delivered"]
        self.acks: dict[int, Event] = {}
        for event in events:
            if event.type == "acked":
                self.acks.setdefault(event.get("message_id"), event)

    def all_acked(self) -> bool:
        return len(self.acks) == self.count

    def auto_acked(self) -> bool:
        """Did a consumer take any of them with auto-ack (so no ack will ever say it is done)?"""
        return any(e.get("auto_ack") for e in self.deliveries)

    def settled(self) -> bool:
        """Nothing more to wait for: all acked, or taken with auto-ack (no ack will come)."""
        return self.all_acked() or self.auto_acked()

    def ack_order(self) -> list[int]:
        """The message ids in the order they were acked: the order they were handled in."""
        return list(self.acks)

    def redelivered(self) -> int:
        return len({e.get("message_id") for e in self.deliveries if e.get("redelivered")})

    def wait(self, message_id: int, now: float) -> float:
        """Seconds from publish to ack (or to `now`, if it is not acked yet)."""
        ack = self.acks.get(message_id)
        return (ack.time if ack else now) - self.published.get(message_id, now)

    def first_delivery_wait(self, message_id: int) -> float:
        """Seconds from publish to the first delivery (0 if it was never delivered)."""
        for event in self.deliveries:
            if event.get("message_id") == message_id:
                return event.time - self.published.get(message_id, event.time)
        return 0.0

    def acks_by_consumer(self) -> dict[str, list[Event]]:
        """The acks of each consumer's connection, in time order."""
        by: dict[str, list[Event]] = {}
        for event in self.acks.values():
            by.setdefault(event.get("connection"), []).append(event)
        return by

    def delivered_to(self) -> dict[str, int]:
        """How many of the messages each connection was handed (first deliveries only)."""
        counts: dict[str, int] = {}
        for event in self.deliveries:
            if not event.get("redelivered"):
                name = event.get("connection")
                counts[name] = counts.get(name, 0) + 1
        return counts

    def processing_ms(self, connection: str) -> float:
        """How long the consumer on `connection` took per message: the median time from the
        moment it could start one (delivered, or its previous ack) to its ack."""
        delivered = {
            e.get("message_id"): e.time
            for e in self.deliveries
            if e.get("connection") == connection
        }
        took, previous = [], 0.0
        for ack in self.acks_by_consumer().get(connection, []):
            start = max(delivered.get(ack.get("message_id"), ack.time), previous)
            took.append(ack.time - start)
            previous = ack.time
        took.sort()
        return took[len(took) // 2] * 1000 if took else 0.0
