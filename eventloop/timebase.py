"""Loop time as the page shows it: seconds since the recorder started, to the microsecond.

asyncio's clock (``time.monotonic``) has an arbitrary origin; students read "0.250 s after the
loop started". Every time the recorder keeps (queued at, due, lag, a task's start and end) goes
through one :class:`Timebase`, so all of them share that origin.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def micro(seconds: float) -> float:
    """``seconds`` rounded to the microsecond: enough for the page, short in JSON."""
    return round(seconds, 6)


class Timebase:
    """One clock and its origin; ``started_wall`` is the same instant on the wall clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.t0 = clock()
        self.started_wall = time.time()

    def rel(self, when: float) -> float:
        """Loop time ``when`` as seconds since the recorder started."""
        return round(when - self.t0, 6)

    def now(self) -> float:
        """Seconds since the recorder started, now."""
        return round(self.clock() - self.t0, 6)
