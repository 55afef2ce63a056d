"""When the timer must look at a queue again: the head's TTL and the queue's x-expires."""

from __future__ import annotations

import heapq

from broker.actions import WakeTimer
from broker.queue import Queue
from broker.state import BrokerState


def schedule(s: BrokerState, when: float, queue: Queue) -> None:
    """Look at `queue` again at `when`; wake the timer if that is sooner than anything else."""
    deadlines = s.deadlines
    earliest = deadlines[0][0] if deadlines else None
    heapq.heappush(deadlines, (when, next(s.deadline_ids), queue))
    if earliest is None or when < earliest:
        s.act(WakeTimer())


def touch(s: BrokerState, queue: Queue, now: float) -> None:
    """A queue was used (declared, consumed from, read): push back its x-expires."""
    queue.last_used = now
    if queue.expires is not None and queue.is_unused:
        schedule(s, now + queue.expires, queue)


def next_deadline(s: BrokerState) -> float | None:
    return s.deadlines[0][0] if s.deadlines else None


def pop_due(s: BrokerState, now: float) -> Queue | None:
    """The next live queue whose deadline has come (None when none is due)."""
    deadlines = s.deadlines
    while deadlines and deadlines[0][0] <= now:
        _, _, queue = heapq.heappop(deadlines)
        if not queue.deleted:
            return queue
    return None
