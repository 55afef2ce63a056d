"""The timer thread: wakes the broker when a TTL or x-expires deadline comes due (real clock).

With a VirtualClock there is no thread: `clock.advance()` runs the broker's due work itself.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.core import Broker


class Ticker(threading.Thread):
    """Wakes the broker when the next TTL or x-expires deadline comes due on the real clock."""

    def __init__(self, broker: Broker) -> None:
        super().__init__(name="queuelab-ticker", daemon=True)
        self._broker = broker
        self._wake = threading.Event()
        self._stopped = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def run(self) -> None:
        while not self._stopped:
            deadline = self._broker.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self._broker.clock.now())
            self._wake.wait(timeout)
            self._wake.clear()
            if not self._stopped:
                self._broker.run_due()
