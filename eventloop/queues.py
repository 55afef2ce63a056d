"""The mirror of asyncio's ready queue and timer heap, kept in asyncio's order.

asyncio keeps these in private attributes (``_ready``, ``_scheduled``), which we never read.
Instead every entry is added here as the loop is given it, and moved or dropped as asyncio
would: due timers join the back of the ready queue after the I/O callbacks of the same loop
iteration; cancelled handles are skipped. The methods say what they removed or moved, and the
recorder turns that into events; nothing here locks (the recorder holds its lock).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict

from .entry import IO, Entry

#: Above this many entries, cancelled handles are looked for less often (it costs a scan).
SCAN_LIMIT = 256


class QueueMirror:
    """The ready queue (first in, first out) and the timers (due first), as entries."""

    def __init__(self) -> None:
        self.ready: OrderedDict[int, Entry] = OrderedDict()
        self.timers: dict[int, Entry] = {}
        self._heap: list[tuple[float, int, Entry]] = []
        self._io_ids: list[int] = []

    def add_timer(self, entry: Entry) -> None:
        self.timers[entry.id] = entry
        heapq.heappush(self._heap, (entry.when, entry.id, entry))

    def add_io(self, entry: Entry) -> None:
        """An I/O callback asyncio runs itself (we only see its file descriptor get ready)."""
        self.ready[entry.id] = entry
        self._io_ids.append(entry.id)

    def io_ran(self) -> list[int]:
        """At the next loop iteration the I/O callbacks of the last one have run: drop them."""
        ran = [eid for eid in self._io_ids if self.ready.pop(eid, None) is not None]
        self._io_ids.clear()
        return ran

    def pop_due(self, limit: float) -> list[Entry]:
        """Timers due before ``limit`` (and not cancelled) move to the back of the ready queue."""
        due = []
        heap = self._heap
        while heap and heap[0][0] < limit:
            _, eid, entry = heapq.heappop(heap)
            if eid in self.timers and not entry.handle.cancelled():
                self.timer_due(entry)
                due.append(entry)
        return due

    def timer_due(self, entry: Entry) -> None:
        del self.timers[entry.id]
        self.ready[entry.id] = entry

    def take(self, entry: Entry) -> None:
        """``entry`` starts running: it leaves the ready queue (or, run without passing the
        gate, the timers)."""
        if self.ready.pop(entry.id, None) is None:
            self.timers.pop(entry.id, None)

    def prune(self, force: bool = False) -> list[int]:
        """Drop cancelled handles, as asyncio skips them; returns the ids dropped.

        The ready queue is only scanned when it is short, unless ``force``d; an entry held at
        the gate stays (it is about to be taken, cancelled or not)."""
        dropped = []
        for eid, entry in list(self.timers.items()):
            if entry.handle is not None and entry.handle.cancelled():
                del self.timers[eid]
                dropped.append(eid)
        if force or len(self.ready) <= SCAN_LIMIT:
            for eid, entry in list(self.ready.items()):
                if entry.handle is not None and entry.handle.cancelled() and not entry.at_gate:
                    del self.ready[eid]
                    dropped.append(eid)
        if len(self._heap) > 2 * len(self.timers) + 64:
            self._heap = [item for item in self._heap if item[1] in self.timers]
            heapq.heapify(self._heap)
        return dropped

    def stale_before(self, entry: Entry) -> list[tuple[int, str]]:
        """Drop what is ahead of ``entry`` and will not run through our wrapper: I/O handles
        (asyncio ran them already) and cancelled handles. Returns ``(id, "ran"|"cancelled")``.
        Anything else stays: it runs later."""
        dropped: list[tuple[int, str]] = []
        if entry.id not in self.ready:
            return dropped
        for eid, other in list(self.ready.items()):
            if eid == entry.id:
                break
            if other.kind == IO or (other.handle is not None and other.handle.cancelled()):
                del self.ready[eid]
                dropped.append((eid, "ran" if other.kind == IO else "cancelled"))
        return dropped
