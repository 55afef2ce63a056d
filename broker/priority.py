"""Priority queues (x-max-priority): ready messages kept as one first-in-first-out line per
priority, the highest served first.

A message's priority is its `priority` property (none means 0), capped at the queue's
x-max-priority, as RabbitMQ caps it; the message itself keeps the priority it was sent with.
Everything else about the queue reads the lines as one: the head is the oldest message of the
highest priority, and so RabbitMQ's quirks follow — TTL expires only at that head, and x-overflow
drop-head drops the highest-priority message first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from broker.message import QueueEntry


def put_back(line: deque[QueueEntry], entry: QueueEntry) -> None:
    """Insert a requeued entry at its original place in a line ordered by `seq`."""
    if not line or entry.seq < line[0].seq:
        line.appendleft(entry)
        return
    if entry.seq > line[-1].seq:
        line.append(entry)
        return
    for index, other in enumerate(line):
        if other.seq > entry.seq:
            line.insert(index, entry)
            return


class PriorityReady:
    """The ready messages of a priority queue, read like the deque of an ordinary queue."""

    def __init__(self, max_priority: int) -> None:
        self.max_priority = max_priority
        self._lines: dict[int, deque[QueueEntry]] = {}  # priority -> its messages, oldest first
        self._order: list[int] = []  # the priorities that have messages, highest first
        self._count = 0

    def level(self, entry: QueueEntry) -> int:
        return min(entry.message.properties.priority or 0, self.max_priority)  # checked 0..255

    def _line(self, priority: int) -> deque[QueueEntry]:
        line = self._lines.get(priority)
        if line is None:
            line = self._lines[priority] = deque()
            self._order.append(priority)
            self._order.sort(reverse=True)
        return line

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[QueueEntry]:
        for priority in self._order:
            yield from self._lines[priority]

    def __getitem__(self, index: int) -> QueueEntry:
        if index != 0 or not self._count:
            raise IndexError("a priority queue's ready messages are read from the head")
        return self._lines[self._order[0]][0]

    def append(self, entry: QueueEntry) -> None:
        self._line(self.level(entry)).append(entry)
        self._count += 1

    def popleft(self) -> QueueEntry:
        if not self._count:
            raise IndexError("pop from an empty queue")
        priority = self._order[0]
        line = self._lines[priority]
        entry = line.popleft()
        if not line:
            del self._lines[priority]
            self._order.pop(0)
        self._count -= 1
        return entry

    def put_back(self, entry: QueueEntry) -> None:
        put_back(self._line(self.level(entry)), entry)
        self._count += 1

    def clear(self) -> None:
        self._lines.clear()
        self._order.clear()
        self._count = 0
