"""fix: after a burst, no message may wait longer than a limit between publish and ack.

The check empties the queue, gives the consumers a moment to finish what they hold, then
publishes a burst of `messages` and measures, from the events, how long each one waited from its
publish until a consumer acked it: time in the queue and time in a consumer's prefetch buffer
both count, since the work had not started. It waits no longer than the limit (plus a little):
a message not acked by then has waited too long. The why says whether
the consumers were too few or slow, or whether prefetch only moved the wait out of the queue.
"""

from __future__ import annotations

import time
from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.trail import Trail
from lessons.checks.verdict import Verdict

# A burst handed out faster than this share of the limit sat in prefetch buffers, not the queue.
HANDED_OUT_AT_ONCE = 0.25
SETTLE = 0.5  # seconds to let the consumers finish what they held before the burst


def wait_stays_short(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue, messages (the burst), seconds (the longest wait allowed, publish to ack)."""
    queue, count = params["queue"], int(params.get("messages", 10))
    limit = float(params.get("seconds", 1.5))
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    consumers = lab.depths()[queue][2]
    if not consumers:
        return Verdict(
            False,
            N_("Nobody consumes from '%(queue)s': start your consumer first."),
            {"queue": queue},
        )
    lab.purge(queue)
    # Work already handed out is not the burst's: let the consumers finish it (bounded).
    lab.wait_until(lambda: lab.depths().get(queue, (0, 0, 0))[1] == 0, timeout=SETTLE)
    since = lab.last_seq()
    bodies = [f"burst {n}".encode() for n in range(1, count + 1)]
    ids = [r.message_id for r in lab.publish_many("", queue, bodies)]
    lab.wait_until(lambda: Trail(lab, since, ids).settled(), timeout=limit + 0.3)
    trail, now = Trail(lab, since, ids), time.time()
    worst = max(trail.wait(i, now) for i in ids)
    handed_out = max(trail.first_delivery_wait(i) for i in ids)
    args = {
        "queue": queue,
        "count": count,
        "limit": _seconds(limit),
        "worst": _seconds(worst),
        "consumers": consumers,
    }
    if trail.auto_acked():
        why = N_(
            "The consumers of '%(queue)s' take messages with auto-ack: the broker forgets them "
            "on delivery and never learns when one is handled. Use manual acks, so the wait "
            "can be measured."
        )
        return Verdict(False, why, args)
    if worst <= limit:
        why = N_(
            "A burst of %(count)s messages: the longest wait from publish to ack was "
            "%(worst)s s, under %(limit)s s."
        )
        return Verdict(True, why, args)
    return Verdict(False, _too_slow(handed_out, limit), args)


def _too_slow(handed_out: float, limit: float) -> str:
    if handed_out < HANDED_OUT_AT_ONCE * limit:
        return N_(
            "The queue looked empty, but the messages waited in a consumer's prefetch buffer: "
            "the slowest waited at least %(worst)s s from publish to ack (limit %(limit)s s). "
            "Prefetch moves the wait out of the queue; it does not shorten it."
        )
    return N_(
        "A burst of %(count)s messages: the slowest waited at least %(worst)s s from publish "
        "to ack (limit %(limit)s s). The consumers of '%(queue)s' (%(consumers)s in all) cannot "
        "keep up: add consumers or make each message faster."
    )


def _seconds(value: float) -> str:
    return f"{value:.1f}"
