"""fix: a queue that may hold at most N messages must tell its producer when it is full.

The check fills the queue past the limit for real (overflow.py) and counts: a queue that took
everything has no limit; one that dropped from its head (drop-head, the default) acked every
publish, so the producer never learns; passing means the queue kept exactly `max_length` and
refused the rest, each with a nack the producer sees.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.overflow import fill_past_limit
from lessons.checks.verdict import Verdict


def full_queue_refuses(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue, max_length (what it may hold), messages (how many to publish, more)."""
    queue, limit = params["queue"], int(params["max_length"])
    count = int(params.get("messages", limit + 3))
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    outcome = fill_past_limit(lab, queue, count)
    kept = len(outcome.kept)
    args = {
        "queue": queue,
        "count": count,
        "max": limit,
        "kept": kept,
        "dropped": len(outcome.dropped),
        "refused": len(outcome.refused),
    }
    details = {"kept": outcome.kept, "dropped": outcome.dropped, "refused": outcome.refused}
    if outcome.taken:
        why = N_(
            "A consumer took messages from '%(queue)s' during the check: stop it, so the "
            "queue fills up."
        )
    elif outcome.dropped:
        why = N_(
            "%(dropped)s messages were dropped from the head of '%(queue)s' while the producer "
            "got an ack for every publish: it never learns the queue is full. drop-head is the "
            "default x-overflow."
        )
    elif kept == count:
        why = N_(
            "'%(queue)s' took all %(count)s messages: its length is not limited to %(max)s, so "
            "it grows for as long as the producer is faster than its consumers."
        )
    elif kept != limit:
        why = N_(
            "'%(queue)s' held %(kept)s messages when it was full: the goal is room for %(max)s."
        )
    else:
        why = N_(
            "'%(queue)s' kept %(kept)s messages and refused %(refused)s: the producer got a nack "
            "for each, so it can slow down or retry later."
        )
        return Verdict(True, why, args, details)
    return Verdict(False, why, args, details)
