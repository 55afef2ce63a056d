"""Time, injected: the real clock for the app, a virtual clock for tests and TTL lessons.

The broker reads `now()` for TTL and expiry and `wall()` for timestamps written into messages
(x-death's `time`). With a VirtualClock nothing happens until `advance()` moves time on, which
makes expiry deterministic in tests and lets a lesson fast-forward a 30-second TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RealClock:
    """Monotonic time for deadlines, wall time for timestamps."""

    virtual = False

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class VirtualClock:
    """Time that moves only when told to; listeners run after each advance (outside its lock)."""

    virtual = True

    def __init__(self, start: float = 0.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def advance(self, seconds: float) -> None:
        """Move time forward and let the broker expire whatever came due."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds
        for listener in list(self._listeners):
            listener()


Clock = RealClock | VirtualClock
