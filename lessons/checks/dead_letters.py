"""fix: a message the consumer rejects must reach the dead-letter queue instead of vanishing."""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def rejected_reach_dead_letter_queue(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue (its consumer rejects what it cannot handle), dead_letter_queue, body."""
    queue, dead = params["queue"], params["dead_letter_queue"]
    depths = lab.depths()
    for name in (queue, dead):
        if name not in depths:
            return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": name})
    since = lab.last_seq()
    message_id = lab.publish("", queue, str(params.get("body", "poison")).encode()).message_id

    def settled() -> bool:
        return any(
            e.get("message_id") == message_id and e.get("queue") == dead
            for e in lab.events_since(since, ("enqueued",))
        ) or any(
            e.get("message_id") == message_id and not e.get("requeue", True)
            for e in lab.events_since(since, ("rejected", "nacked"))
        )

    if not lab.wait_until(settled):
        return Verdict(
            False,
            N_("Nobody rejected the message in '%(queue)s': is its consumer running?"),
            {"queue": queue},
        )
    arrived = lab.wait_until(
        lambda: any(
            e.get("message_id") == message_id and e.get("queue") == dead
            for e in lab.events_since(since, ("enqueued",))
        ),
        timeout=1.0,
    )
    args = {"queue": queue, "dead": dead}
    if arrived:
        return Verdict(True, N_("The rejected message reached '%(dead)s'."), args)
    return Verdict(
        False,
        N_(
            "The rejected message vanished: '%(queue)s' needs a dead-letter exchange that "
            "routes to '%(dead)s'."
        ),
        args,
    )
