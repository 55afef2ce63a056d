"""predict: which numbered messages stay in a queue that is filled past its x-max-length?

The check fills the queue past its limit for real (overflow.py) and compares the learner's
prediction with what stayed; the why names what x-overflow did: drop-head dropped the oldest from
the head, reject-publish refused the newest with a nack.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.overflow import Overflow, fill_past_limit, numbers
from lessons.checks.verdict import Verdict


def predict_overflow(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue (with its x-max-length), messages (how many to publish). answer: the
    numbers ("1" …) predicted to be still in the queue afterwards."""
    if not isinstance(answer, list) or not all(isinstance(item, str) for item in answer):
        return Verdict(
            False, N_('Answer with the messages you expect still in the queue, e.g. ["1", "2"].')
        )
    queue, count = params["queue"], int(params.get("messages", 5))
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    outcome = fill_past_limit(lab, queue, count)
    if outcome.taken:
        return Verdict(
            False,
            N_(
                "A consumer took messages from '%(queue)s' during the check: stop it, so the "
                "queue fills up."
            ),
            {"queue": queue},
        )
    predicted = sorted(set(answer), key=lambda item: (len(item), item))
    args = {**outcome.as_args(), "predicted": numbers(predicted)}
    details = {"kept": outcome.kept, "dropped": outcome.dropped, "refused": outcome.refused}
    solved = set(predicted) == set(outcome.kept)
    return Verdict(solved, _why(outcome, solved), args, details)


def _why(outcome: Overflow, solved: bool) -> str:
    if outcome.refused:
        if solved:
            return N_(
                "Right: %(kept)s stayed in the queue. reject-publish refused %(refused)s at the "
                "door, and the producer got a nack for each."
            )
        return N_(
            "In the queue now: %(kept)s; you predicted %(predicted)s. reject-publish keeps the "
            "first ones: it refused %(refused)s, with a nack to the producer."
        )
    if outcome.dropped:
        if solved:
            return N_(
                "Right: %(kept)s stayed in the queue. To make room, drop-head dropped "
                "%(dropped)s from its head, and the producer was never told."
            )
        return N_(
            "In the queue now: %(kept)s; you predicted %(predicted)s. drop-head keeps the "
            "newest: it dropped %(dropped)s from the head to make room."
        )
    if solved:
        return N_("Right: all of them stayed in the queue: %(kept)s.")
    return N_(
        "In the queue now: %(kept)s; you predicted %(predicted)s. Nothing was dropped: does the "
        "queue have x-max-length?"
    )
