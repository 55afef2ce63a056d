"""The service loop's event stream: small JSON-able events with increasing sequence numbers.

Every change the recorder sees (a callback queued, a timer set, a task stepped, an exception
caught, a lag sample) becomes one event ``{"seq": n, "t": seconds, "type": ..., ...}``.
Each subscriber gets a bounded buffer of its own: when a subscriber is slow, its oldest events
are dropped and counted as ``missed`` — the loop never waits for a reader.

Sequence numbers only advance when at least one subscriber listens, so an idle page costs
nothing. To combine a snapshot with the live stream without gaps: subscribe first, then take
a snapshot; events whose ``seq`` is at most ``snapshot["seq"]`` are already in the snapshot.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, NamedTuple

Event = dict[str, Any]


class Batch(NamedTuple):
    """What :meth:`Subscription.get` returns: the events, and how many were dropped before them."""

    events: list[Event]
    missed: int


class Subscription:
    """One reader's bounded view of the stream (for example one websocket).

    The loop thread appends; any other thread calls :meth:`get`. A full buffer drops its
    oldest event and counts it, so a stalled browser tab can never slow the service loop.
    """

    def __init__(self, stream: EventStream, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self._stream = stream
        self._events: deque[Event] = deque(maxlen=maxlen)
        # Re-entrant: a garbage-collector finaliser may emit while this thread holds the lock.
        self._cond = threading.Condition(threading.RLock())
        self._missed = 0
        self._missed_total = 0
        self.closed = False

    @property
    def missed_total(self) -> int:
        """Events dropped for this subscriber since it subscribed."""
        return self._missed_total

    def get(self, timeout: float | None = None) -> Batch:
        """Wait up to ``timeout`` seconds for events; return all buffered ones (maybe none).

        ``missed`` counts events dropped since the previous ``get`` because the buffer was full.
        """
        with self._cond:
            if not self._events and not self.closed:
                self._cond.wait(timeout)
            events = list(self._events)
            self._events.clear()
            missed, self._missed = self._missed, 0
        return Batch(events, missed)

    def close(self) -> None:
        """Stop receiving events and wake any thread blocked in :meth:`get`."""
        self._stream._remove(self)
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _offer(self, event: Event) -> None:
        with self._cond:
            if len(self._events) == self._events.maxlen:
                self._missed += 1
                self._missed_total += 1
            self._events.append(event)
            self._cond.notify()


class EventStream:
    """Numbers events and fans them out to subscribers.

    :meth:`emit` is called by the recorder while it holds its lock, which keeps sequence numbers
    in the same order as the state changes they describe. Subscribing swaps in a new tuple, so
    emitting never has to lock the subscriber list.
    """

    def __init__(self) -> None:
        self.seq = 0
        self._subscribers: tuple[Subscription, ...] = ()
        self._lock = threading.Lock()
        #: True when someone listens; callers skip building events otherwise.
        self.active = False

    def subscribe(self, maxlen: int = 1000) -> Subscription:
        """Start a new bounded subscription (see :class:`Subscription`)."""
        sub = Subscription(self, maxlen)
        with self._lock:
            self._subscribers = (*self._subscribers, sub)
            self.active = True
        return sub

    def emit(self, event: Event) -> None:
        """Stamp ``event`` with the next sequence number and hand it to every subscriber."""
        self.seq += 1
        event["seq"] = self.seq
        for sub in self._subscribers:
            sub._offer(event)

    def close_all(self) -> None:
        """Close every subscription (the loop has stopped)."""
        for sub in self._subscribers:
            sub.close()

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not sub)
            self.active = bool(self._subscribers)
