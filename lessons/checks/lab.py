"""The lab a check works in: one learner's vhost, seen and moved through the broker's public API.

A check reads the vhost's state and its events, publishes crafted messages and crashes consumers
the way a real failure would (their connection dropped by the broker), then waits, with a bound,
for the outcome. Nothing here holds the broker lock across a wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from broker import Broker, Properties
from broker.events import Event
from broker.handles import Connection
from broker.results import PublishResult

CHECKER = "lesson check"  # the name a check's own connection shows on every page


class Lab:
    def __init__(self, broker: Broker, vhost: str, timeout: float = 5.0) -> None:
        self.broker = broker
        self.vhost = vhost
        self.timeout = timeout

    def snapshot(self) -> dict[str, Any]:
        return self.broker.snapshot(self.vhost)

    def depths(self) -> dict[str, tuple[int, int, int]]:
        """(ready, unacked, consumers) per queue."""
        return self.broker.queue_depths(self.vhost)

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        headers: dict[str, Any] | None = None,
        persistent: bool = False,
    ) -> PublishResult:
        """Publish as the check, on a connection of its own that shows on the pages."""
        properties = Properties(headers=headers or None, delivery_mode=2 if persistent else None)
        with self.broker.connect(CHECKER, vhost=self.vhost, kind="web") as connection:
            return connection.channel().basic_publish(exchange, routing_key, body, properties)

    def events_since(self, seq: int, types: tuple[str, ...] = ()) -> list[Event]:
        events = self.broker.events.recent(since_seq=seq)
        return [e for e in events if not types or e.type in types]

    def last_seq(self) -> int:
        return self.broker.events.last_seq

    def consumer_connections(self, queue: str) -> list[str]:
        """The names of the connections consuming from `queue`."""
        return sorted(
            {c["connection"] for c in self.snapshot()["consumers"] if c["queue"] == queue}
        )

    def crash_consumers(self, queue: str) -> list[str]:
        """Drop every connection consuming from `queue`, as a crash would (the broker closes
        it: its unacked messages go back to the queue). Returns the names crashed."""
        names = set(self.consumer_connections(queue))
        for connection in self.broker.connections.values():
            if connection.vhost == self.vhost and connection.name in names:
                connection.close("CONNECTION_FORCED - the lesson check crashed this consumer")
        return sorted(names)

    def connect(self) -> Connection:
        """A connection of the check's own, shown on every page; use it in a `with`."""
        return self.broker.connect(CHECKER, vhost=self.vhost, kind="web")

    def publish_many(
        self,
        exchange: str,
        routing_key: str,
        bodies: list[bytes],
        properties: list[Properties] | None = None,
    ) -> list[PublishResult]:
        """Publish a burst as the check, on one connection: a result per body, in order."""
        each = properties or [Properties()] * len(bodies)
        with self.connect() as connection:
            channel = connection.channel()
            return [
                channel.basic_publish(exchange, routing_key, body, props)
                for body, props in zip(bodies, each, strict=True)
            ]

    def purge(self, queue: str) -> int:
        """Empty a queue's ready messages, so the check starts from a known state."""
        with self.connect() as connection:
            return connection.channel().queue_purge(queue)

    def peek(self, queue: str, count: int = 100) -> list[dict[str, Any]]:
        """The first ready messages of a queue (payload, properties …), left where they are."""
        return self.broker.peek(self.vhost, queue, count)

    def crash_connection(self, name: str) -> None:
        """Drop the vhost's connections named `name` as a crash would (see crash_consumers)."""
        for connection in self.broker.connections.values():
            if connection.vhost == self.vhost and connection.name == name:
                connection.close("CONNECTION_FORCED - the lesson check crashed this consumer")

    def wait_until(self, condition: Callable[[], bool], timeout: float | None = None) -> bool:
        """Poll `condition` until it holds or the timeout passes; True if it held."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if condition():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
