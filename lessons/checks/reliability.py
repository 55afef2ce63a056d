"""code / fix: crash the consumers mid-work and count what was lost.

The check publishes `messages` persistent messages to the queue, waits until a consumer is at
work (holding messages, or taking them), then drops the consumers' connections as a crash would.
A message the consumer acked was handled; one it held unacked goes back to the queue; one it
took with auto-ack is gone with the crash: lost. Passing means none was lost.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def no_loss_on_crash(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue, messages (how many to publish, default 10)."""
    queue, count = params["queue"], int(params.get("messages", 10))
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    if not lab.consumer_connections(queue):
        return Verdict(
            False,
            N_("Nobody consumes from '%(queue)s': start your consumer first."),
            {"queue": queue},
        )
    since = lab.last_seq()
    for n in range(count):
        lab.publish("", queue, f"check message {n + 1}".encode(), persistent=True)

    def working() -> bool:
        """A consumer holds messages (unacked) or has just taken one (auto-ack)."""
        if lab.depths().get(queue, (0, 0, 0))[1] > 0:
            return True
        return any(e.get("queue") == queue for e in lab.events_since(since, ("delivered",)))

    if not lab.wait_until(working):
        return Verdict(
            False,
            N_("Your consumer took none of %(count)s messages in time: is it consuming?"),
            {"count": count},
        )
    crashed = lab.crash_consumers(queue)
    lost = _lost(lab, since, queue)
    args = {"queue": queue, "count": count, "lost": len(lost), "crashed": ", ".join(crashed)}
    if lost:
        why = N_(
            "The check crashed %(crashed)s: %(lost)s messages were lost — taken with "
            "auto-ack, gone with the crash. Restart your consumer and try again."
        )
        return Verdict(False, why, args)
    why = N_("The check crashed %(crashed)s mid-work and no message was lost.")
    return Verdict(True, why, args)


def _lost(lab: Lab, since: int, queue: str) -> set[int | None]:
    """Messages of the queue handed out with auto-ack since the check began: the broker forgot
    them when it sent them, and the crash took them with the consumer."""
    return {
        e.get("message_id")
        for e in lab.events_since(since, ("delivered",))
        if e.get("queue") == queue and e.get("auto_ack")
    }
