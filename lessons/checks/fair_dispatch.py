"""fix: a fast and a slow consumer share a batch of tasks; all must be done within a time.

The check publishes `tasks` to the queue and watches, in the events, who was handed what and
when each consumer acked. It measures each consumer's speed from its acks, so it knows a slow one
is really there, and waits at most `seconds` (less once a consumer is sure to be late).
Round-robin with an unlimited (or large) prefetch hands the slow consumer its share up front, and
the batch is late while the fast one idles; prefetch 1 with manual acks hands a task only to a
consumer that has finished its last one.
"""

from __future__ import annotations

import time
from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.trail import Trail
from lessons.checks.verdict import Verdict

SLOW_ENOUGH = 0.6  # a consumer this share of `slow_ms` or slower counts as the slow one


def tasks_done_in_time(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue, tasks (how many), seconds (to finish them all), slow_ms (the slow
    consumer's time per task, as the exercise asks for it)."""
    queue, count = params["queue"], int(params.get("tasks", 12))
    limit, slow_ms = float(params.get("seconds", 2.0)), float(params["slow_ms"])
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    if len(lab.consumer_connections(queue)) < 2:
        return Verdict(
            False,
            N_("'%(queue)s' needs two consumers: a fast one and a slow one (%(slow)s ms a task)."),
            {"queue": queue, "slow": int(slow_ms)},
        )
    lab.purge(queue)
    since = lab.last_seq()
    bodies = [f"task {n}".encode() for n in range(1, count + 1)]
    ids = [r.message_id for r in lab.publish_many("", queue, bodies)]
    started = time.time()

    def over() -> bool:
        trail = Trail(lab, since, ids)
        return trail.settled() or _late(trail, time.time() - started, limit)

    lab.wait_until(over, timeout=limit)
    return _verdict(Trail(lab, since, ids), queue, count, limit, slow_ms)


def _late(trail: Trail, elapsed: float, limit: float) -> bool:
    """Certain to miss the limit: a consumer holds more tasks than it can finish in time, at the
    speed its acks so far show (no need to wait the whole limit to know)."""
    acked = trail.acks_by_consumer()
    for name, handed in trail.delivered_to().items():
        per_task = trail.processing_ms(name) / 1000
        if per_task and elapsed + (handed - len(acked.get(name, []))) * per_task > limit:
            return True
    return False


def _verdict(trail: Trail, queue: str, count: int, limit: float, slow_ms: float) -> Verdict:
    handed = trail.delivered_to()
    speeds = {name: trail.processing_ms(name) for name in handed}
    slow = max(speeds, key=lambda name: speeds[name], default="")
    args = {
        "queue": queue,
        "count": count,
        "seconds": f"{limit:.1f}",
        "slow": int(slow_ms),
        "slow_name": slow,
        "slow_share": handed.get(slow, 0),
        "needed": f"{handed.get(slow, 0) * speeds.get(slow, 0.0) / 1000:.1f}",
        "split": " + ".join(str(n) for n in sorted(handed.values(), reverse=True)) or "0",
    }
    if trail.auto_acked():
        why = N_(
            "The consumers take tasks with auto-ack: prefetch does not limit them, so the broker "
            "handed out all %(count)s at once (%(split)s), and no ack ever tells it a task is "
            "done."
        )
        return Verdict(False, why, args)
    if speeds.get(slow, 0.0) < SLOW_ENOUGH * slow_ms:
        why = N_(
            "No consumer of '%(queue)s' takes %(slow)s ms a task: start the slow one the "
            "exercise asks for beside the fast one."
        )
        return Verdict(False, why, args)
    if not trail.all_acked():
        why = N_(
            "The slow consumer (%(slow_name)s) was handed %(slow_share)s of the %(count)s tasks "
            "up front: it needs about %(needed)s s for them (limit %(seconds)s s), while the fast "
            "one runs out of work. Round-robin hands tasks out in turn, not by speed."
        )
        return Verdict(False, why, args)
    why = N_(
        "All %(count)s tasks were done within %(seconds)s s: the slow consumer took only "
        "%(slow_share)s of them, the fast one the rest."
    )
    return Verdict(True, why, args)
