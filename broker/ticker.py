"""The timer thread: wakes the broker when a TTL or x-expires deadline comes due (real clock).

With a VirtualClock there is no thread: `clock.advance()` runs the broker's due work itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from broker.clock import Clock


class Ticker(threading.Thread):
    """Calls `run_due` when the next deadline (`next_deadline()`) comes due on `clock`."""

    def __init__(
        self,
        next_deadline: Callable[[], float | None],
        run_due: Callable[[], None],
        clock: Clock,
    ) -> None:
        super().__init__(name="queuelab-ticker", daemon=True)
        self._next_deadline = next_deadline
        self._run_due = run_due
        self._clock = clock
        self._wake = threading.Event()
        self._stopped = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def run(self) -> None:
        while not self._stopped:
            deadline = self._next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self._clock.now())
            self._wake.wait(timeout)
            self._wake.clear()
            if not self._stopped:
                self._run_due()
