"""The event stream: every state change in the broker, numbered, for pages, logs and tests.

Each event gets a global sequence number when the broker makes the change (under its lock), so
the order of the stream is the order things happened. Subscribers (a web page, a test) each get a
bounded buffer: a slow subscriber loses the oldest events and is told how many, and the broker
never waits for it. The last N events stay in a ring buffer so a page opened late can catch up.

The broker records an event as a plain tuple, `(seq, time, type, fields)`, because it records
five of them for every message and must do so under its lock. `fields` is a dict for the rare
events (declares, bindings, connections …) and, for the per-message ones, a tuple of names,
numbers and the message that `COMPACT_FIELDS` spells out. Readers get `Event` objects with plain
dict data, built in the reader's thread when it reads.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from broker.exchanges.base import Binding
from broker.message import Message, describe_message
from broker.routing import routing_trace

Record = tuple[int, float, str, Any]  # (seq, time, type, fields): what the broker stores


class Lazy:
    """A value worked out only when someone reads the event (e.g. why 1,000 bindings did not
    match), so routing stays fast when nobody is looking."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


def _readable(value: Any) -> Any:
    """Turn what the broker stored cheaply (a Lazy, a Message, Binding objects) into plain data."""
    if isinstance(value, Lazy):
        return value.compute()
    if isinstance(value, Message):
        return describe_message(value)
    if isinstance(value, list) and value and isinstance(value[0], Binding):
        return [binding.ref() for binding in value]
    return value


# --- the per-message events, stored as tuples -------------------------------------------------
# Names and numbers rather than channels and queues: an event must not keep a closed connection
# or a deleted queue (and its backlog) alive. The message itself is kept for its body preview, and
# the exchange (its router) for the routing trace worked out when read.


def _published(message: Any, vhost: str, connection: str, channel: int) -> dict[str, Any]:
    return {
        "vhost": vhost,
        "exchange": message.exchange,
        "routing_key": message.routing_key,
        "message_id": message.id,
        "size": message.size,
        "connection": connection,
        "channel": channel,
        "message": message,  # described (body preview, properties) only when read
    }


def _routed(
    vhost: str,
    exchange: Any,
    message: Any,
    routing_keys: list[str],
    queues: list[str],
    matched: Sequence[Binding],
    bindings: tuple[Binding, ...],
    cause: str,
) -> dict[str, Any]:
    headers = message.headers
    return {
        "vhost": vhost,
        "exchange": exchange.name,
        "exchange_type": exchange.type,
        "routing_key": message.routing_key,
        "message_id": message.id,
        "cause": cause,
        "queues": list(queues),
        "matched": list(matched),  # Binding objects: turned into dicts only when read
        # Worked out from what was routed then, not from the vhost as it is when read.
        "trace": Lazy(lambda: routing_trace(exchange, bindings, routing_keys, headers, queues)),
    }


def _enqueued(vhost: str, queue: str, message_id: int, depth: int) -> dict[str, Any]:
    return {"vhost": vhost, "queue": queue, "message_id": message_id, "depth": depth}


def _delivered(
    vhost: str,
    queue: str,
    message_id: int,
    consumer_tag: str | None,
    connection: str,
    channel: int,
    delivery_tag: int,
    redelivered: bool,
    auto_ack: bool,
) -> dict[str, Any]:
    return {
        "vhost": vhost,
        "queue": queue,
        "message_id": message_id,
        "consumer_tag": consumer_tag,
        "connection": connection,
        "channel": channel,
        "delivery_tag": delivery_tag,
        "redelivered": redelivered,
        "auto_ack": auto_ack,
    }


def _acked(
    vhost: str, queue: str, message_id: int, connection: str, channel: int, delivery_tag: int
) -> dict[str, Any]:
    return {
        "vhost": vhost,
        "queue": queue,
        "message_id": message_id,
        "delivery_tag": delivery_tag,
        "connection": connection,
        "channel": channel,
    }


COMPACT_FIELDS: dict[str, Callable[..., dict[str, Any]]] = {
    "published": _published,
    "routed": _routed,
    "unroutable": _routed,
    "enqueued": _enqueued,
    "delivered": _delivered,
    "acked": _acked,
}


class Event:
    """One event as readers see it: a number, a time, a type and plain data."""

    __slots__ = ("seq", "time", "type", "data")

    def __init__(self, seq: int, time: float, type: str, data: dict[str, Any]) -> None:
        self.seq = seq
        self.time = time
        self.type = type
        self.data = data

    @classmethod
    def from_record(cls, record: Record) -> Event:
        seq, time, type, fields = record
        if fields.__class__ is not dict:
            fields = COMPACT_FIELDS[type](*fields)
        return cls(seq, time, type, fields)

    def get(self, name: str, default: Any = None) -> Any:
        return _readable(self.data.get(name, default))

    def to_dict(self) -> dict[str, Any]:
        out = {"seq": self.seq, "time": self.time, "type": self.type}
        for name, value in self.data.items():
            out[name] = _readable(value)
        return out

    def __repr__(self) -> str:
        return f"<Event #{self.seq} {self.type} {self.data}>"


def _events(records: Iterable[Record]) -> list[Event]:
    return [Event.from_record(record) for record in records]


class Subscription:
    """One reader's bounded buffer. `get()` waits for events; `missed` counts what was dropped."""

    def __init__(
        self, stream: EventStream, maxlen: int, types: Iterable[str] | None = None
    ) -> None:
        self._stream = stream
        self._buffer: deque[Record] = deque()
        self._maxlen = maxlen
        self._types = frozenset(types) if types else None
        self._cond = threading.Condition(threading.Lock())
        self.missed = 0
        self.closed = False
        # Events up to this number happened before the subscription (or are in its history):
        # a fan-out still in flight must not hand them over a second time.
        self.after_seq = 0

    def push(self, records: list[Record]) -> None:
        """Called by the broker's dispatcher; never blocks beyond a short buffer lock."""
        with self._cond:
            for record in records:
                if record[0] <= self.after_seq:
                    continue
                if self._types is not None and record[2] not in self._types:
                    continue
                if len(self._buffer) >= self._maxlen:
                    self._buffer.popleft()
                    self.missed += 1
                self._buffer.append(record)
            self._cond.notify_all()

    def get(self, timeout: float | None = None, max_events: int | None = None) -> list[Event]:
        """Take what is buffered, waiting up to `timeout` seconds for the first event."""
        with self._cond:
            if not self._buffer and not self.closed:
                self._cond.wait(timeout)
            count = len(self._buffer) if max_events is None else min(max_events, len(self._buffer))
            records = [self._buffer.popleft() for _ in range(count)]
        return _events(records)

    def take_missed(self) -> int:
        """How many events were dropped since the last call (and reset the count)."""
        with self._cond:
            missed, self.missed = self.missed, 0
            return missed

    def close(self) -> None:
        self._stream.unsubscribe(self)
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class EventStream:
    """Numbered events, a ring of recent history, and fan-out to subscribers."""

    def __init__(
        self, guard: Callable[[], AbstractContextManager[None]], history: int = 20_000
    ) -> None:
        # `with guard():` holds the broker's lock (and does what the broker does on letting go
        # of it). record() is only called while the broker holds it.
        self._guard = guard
        self.sequence = itertools.count(1)  # numbers events as the broker makes them
        self._seq = 0
        self._ring: deque[Record] = deque(maxlen=history)
        self._subscribers: tuple[Subscription, ...] = ()

    @property
    def last_seq(self) -> int:
        return self._seq

    def record(self, records: list[Record]) -> bool:
        """Keep one operation's events (numbered from `sequence`) in the ring. The caller holds
        the broker lock; it fans the events out later, if this says anyone is listening."""
        self._ring.extend(records)
        self._seq = records[-1][0]
        return bool(self._subscribers)

    def fanout(self, records: list[Record]) -> None:
        """Hand events to every subscriber; runs outside the broker lock, in event order."""
        for subscriber in self._subscribers:
            subscriber.push(records)

    def subscribe(self, maxlen: int = 10_000, types: Iterable[str] | None = None) -> Subscription:
        subscription = Subscription(self, maxlen, types)
        with self._guard():
            subscription.after_seq = self._seq
            self._subscribers = (*self._subscribers, subscription)
        return subscription

    def subscribe_with_history(
        self, maxlen: int = 10_000, types: Iterable[str] | None = None
    ) -> tuple[list[Event], Subscription]:
        """Recent history plus a subscription that continues exactly where the history ends."""
        subscription = Subscription(self, maxlen, types)
        with self._guard():
            history = list(self._ring)
            subscription.after_seq = self._seq
            self._subscribers = (*self._subscribers, subscription)
        return _events(history), subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._guard():
            self._subscribers = tuple(s for s in self._subscribers if s is not subscription)

    def recent(self, limit: int | None = None, since_seq: int = 0) -> list[Event]:
        """The last events still in the ring (after `since_seq`, at most `limit` of them)."""
        with self._guard():
            records = list(self._ring)
        if since_seq:
            records = [r for r in records if r[0] > since_seq]
        return _events(records if limit is None else records[-limit:])
