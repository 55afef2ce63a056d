"""The event stream: every state change in the broker, numbered, for pages, logs and tests.

Each event gets a global sequence number when the broker makes the change (under its lock), so
the order of the stream is the order things happened. Subscribers (a web page, a test) each get a
bounded buffer: a slow subscriber loses the oldest events and is told how many, and the broker
never waits for it. The last N events stay in a ring buffer so a page opened late can catch up.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from broker.exchanges.base import Binding
from broker.message import Message, describe_message


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


class Event:
    __slots__ = ("seq", "time", "type", "data")

    def __init__(self, seq: int, time: float, type: str, data: dict[str, Any]) -> None:
        self.seq = seq
        self.time = time
        self.type = type
        self.data = data

    def get(self, name: str, default: Any = None) -> Any:
        return _readable(self.data.get(name, default))

    def to_dict(self) -> dict[str, Any]:
        out = {"seq": self.seq, "time": self.time, "type": self.type}
        for name, value in self.data.items():
            out[name] = _readable(value)
        return out

    def __repr__(self) -> str:
        return f"<Event #{self.seq} {self.type} {self.data}>"


class Subscription:
    """One reader's bounded buffer. `get()` waits for events; `missed` counts what was dropped."""

    def __init__(
        self, stream: EventStream, maxlen: int, types: Iterable[str] | None = None
    ) -> None:
        self._stream = stream
        self._buffer: deque[Event] = deque()
        self._maxlen = maxlen
        self._types = frozenset(types) if types else None
        self._cond = threading.Condition(threading.Lock())
        self.missed = 0
        self.closed = False
        # Events up to this number happened before the subscription (or are in its history):
        # a fan-out still in flight must not hand them over a second time.
        self.after_seq = 0

    def push(self, events: list[Event]) -> None:
        """Called by the broker's dispatcher; never blocks beyond a short buffer lock."""
        with self._cond:
            for event in events:
                if event.seq <= self.after_seq:
                    continue
                if self._types is not None and event.type not in self._types:
                    continue
                if len(self._buffer) >= self._maxlen:
                    self._buffer.popleft()
                    self.missed += 1
                self._buffer.append(event)
            self._cond.notify_all()

    def get(self, timeout: float | None = None, max_events: int | None = None) -> list[Event]:
        """Take what is buffered, waiting up to `timeout` seconds for the first event."""
        with self._cond:
            if not self._buffer and not self.closed:
                self._cond.wait(timeout)
            count = len(self._buffer) if max_events is None else min(max_events, len(self._buffer))
            return [self._buffer.popleft() for _ in range(count)]

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

    def __init__(self, lock: threading.Lock, history: int = 20_000) -> None:
        self._lock = lock  # the broker's lock: record() is only called while it is held
        self.sequence = itertools.count(1)  # numbers events as the broker makes them
        self._seq = 0
        self._ring: deque[Event] = deque(maxlen=history)
        self._subscribers: tuple[Subscription, ...] = ()

    @property
    def last_seq(self) -> int:
        return self._seq

    def record(self, events: list[Event]) -> bool:
        """Keep one operation's events (numbered from `sequence`) in the ring. The caller holds
        the broker lock; it fans the events out later, if this says anyone is listening."""
        self._ring.extend(events)
        self._seq = events[-1].seq
        return bool(self._subscribers)

    def fanout(self, events: list[Event]) -> None:
        """Hand events to every subscriber; runs outside the broker lock, in event order."""
        for subscriber in self._subscribers:
            subscriber.push(events)

    def subscribe(self, maxlen: int = 10_000, types: Iterable[str] | None = None) -> Subscription:
        subscription = Subscription(self, maxlen, types)
        with self._lock:
            subscription.after_seq = self._seq
            self._subscribers = (*self._subscribers, subscription)
        return subscription

    def subscribe_with_history(
        self, maxlen: int = 10_000, types: Iterable[str] | None = None
    ) -> tuple[list[Event], Subscription]:
        """Recent history plus a subscription that continues exactly where the history ends."""
        subscription = Subscription(self, maxlen, types)
        with self._lock:
            history = list(self._ring)
            subscription.after_seq = self._seq
            self._subscribers = (*self._subscribers, subscription)
        return history, subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscription)

    def recent(self, limit: int | None = None, since_seq: int = 0) -> list[Event]:
        with self._lock:
            events = [e for e in self._ring if e.seq > since_seq]
        return events if limit is None else events[-limit:]
